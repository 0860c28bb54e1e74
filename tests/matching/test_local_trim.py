"""The bank keeps fine corners only (local features version 3): features made with coarse
corners too (by an older ``chorus hash``) are trimmed when banked, when loaded into the
index, and in the rows banked before by ``chorus bank trim-local``; a crop still matches."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chorus.fingerprint import fingerprint_path, local, robust
from chorus.fingerprint.benchmark.evaluate import load_photo
from chorus.matching import bank, local_seal, local_trim
from chorus.matching.bank import SignalInput
from chorus.matching.lookup import BankIndex
from chorus.matching.models import BankLocalFeatures
from chorus.store.session import transaction

from .keys import KEYS
from .test_local_sealing import _local_hits


def _with_coarse(path: Path) -> local.LocalFeatures:
    """The photo's bank features as version 2 made them: every pyramid level."""
    corners = local.detect(local.working_luma(robust.luma_for_hashing(load_photo(path)[0])))
    assert corners is not None
    features = local.select(corners, local.BANK_POINTS, spread=True)
    assert (features.points[:, 2] > local.MAX_BANK_SIZE).any()
    return features


def _stored(sessions: sessionmaker[Session], entry_id: int) -> local.LocalFeatures | None:
    with transaction(sessions) as session:
        row = session.scalar(
            select(BankLocalFeatures).where(BankLocalFeatures.entry_id == entry_id)
        )
        if row is None:
            return None
        packed = bytes(row.features)
        if row.sealed:
            key = local_seal.key_for_reading(KEYS, session)
            packed = local_seal.open_sealed(key, entry_id, packed)
        return local.LocalFeatures.from_bytes(packed)


def _register(sessions: sessionmaker[Session], path: Path, features: local.LocalFeatures) -> int:
    record = fingerprint_path(path).as_record()
    record["local"]["bank"] = features.to_text()
    with transaction(sessions) as session:
        entry = bank.register(
            session, owner_id="case-t", provenance="survivor_device",
            signals=SignalInput.from_record(record), keys=KEYS,
        )  # fmt: skip
        return entry.id


def test_fine_only_keeps_the_fine_corners_in_order(photos: list[Path]) -> None:
    features = _with_coarse(photos[0])
    kept = local.fine_only(features)
    fine = features.points[:, 2] <= local.MAX_BANK_SIZE
    assert kept is not None and len(kept) == int(fine.sum()) < len(features)
    assert np.array_equal(kept.descriptors, features.descriptors[fine])
    assert local.fine_only(kept) is kept  # nothing to trim: the same object
    few = local.LocalFeatures(
        features.width, features.height, kept.points[:7], kept.descriptors[:7]
    )
    assert local.fine_only(few) is None


def test_features_with_coarse_corners_are_banked_without_them(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    features = _with_coarse(photos[1])
    entry_id = _register(sessions, photos[1], features)
    stored = _stored(sessions, entry_id)
    assert stored is not None
    assert stored.points[:, 2].max() <= local.MAX_BANK_SIZE
    assert len(stored) == int((features.points[:, 2] <= local.MAX_BANK_SIZE).sum())


def test_rows_banked_before_are_trimmed_in_place_and_still_match(
    sessions: sessionmaker[Session],
    photos: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = {path: _with_coarse(path) for path in photos[2:5]}
    entries = {path: _register(sessions, path, features) for path, features in old.items()}
    plain_path, sealed_path, sparse_path = photos[2:5]
    sparse = old[sparse_path]
    coarse = sparse.points[:, 2] > local.MAX_BANK_SIZE
    # rows as version 2 left them: one unsealed, one sealed, one with too few fine corners
    keep = np.flatnonzero(coarse).tolist() + np.flatnonzero(~coarse)[:5].tolist()
    few = local.LocalFeatures(
        sparse.width, sparse.height, sparse.points[keep], sparse.descriptors[keep]
    )
    with transaction(sessions) as session:
        key = local_seal.key_for_writing(KEYS, session)
        sealed_bytes = old[sealed_path].to_bytes()
        values = {
            plain_path: (old[plain_path].to_bytes(), False),
            sealed_path: (local_seal.seal(key, entries[sealed_path], sealed_bytes), True),
            sparse_path: (local_seal.seal(key, entries[sparse_path], few.to_bytes()), True),
        }
        for path, (stored, sealed) in values.items():
            session.execute(
                update(BankLocalFeatures)
                .where(BankLocalFeatures.entry_id == entries[path])
                .values(features=stored, sealed=sealed)
            )
    # the index trims what it loads even before the rows are rewritten
    index = BankIndex(keys=KEYS)
    with (
        caplog.at_level(logging.WARNING, logger="chorus.matching.local_bank"),
        transaction(sessions) as session,
    ):
        index.sync(session, force=True)
    assert len(index.local) == 2  # the sparse row has too few fine corners to be kept
    assert "3 bank entries' local features hold coarse corners" in caplog.text
    assert "chorus bank trim-local" in caplog.text
    monkeypatch.setattr(local_trim, "_BATCH", 2)  # more than one batch
    with transaction(sessions) as session:
        done = local_trim.trim_coarse_rows(session, KEYS)
    assert (done.rewritten, done.removed, done.unchanged) == (2, 1, 0)
    for path in (plain_path, sealed_path):
        stored = _stored(sessions, entries[path])
        assert stored is not None and stored.points[:, 2].max() <= local.MAX_BANK_SIZE
        assert len(stored) == int((old[path].points[:, 2] <= local.MAX_BANK_SIZE).sum())
    assert _stored(sessions, entries[sparse_path]) is None
    with transaction(sessions) as session:
        rows = session.scalars(select(BankLocalFeatures)).all()
        assert all(row.sealed for row in rows)  # the unsealed row was sealed as rewritten
        again = local_trim.trim_coarse_rows(session, KEYS)
    assert (again.rewritten, again.removed, again.unchanged) == (0, 0, 2)
    assert _public_matches(sessions, plain_path)


def _public_matches(sessions: sessionmaker[Session], path: Path) -> bool:
    return bool(_local_hits(sessions, BankIndex(keys=KEYS), path))
