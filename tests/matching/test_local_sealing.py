"""Banked local features are sealed at rest: the stored bytes are not the features, a row
moved onto another entry or read without the right master key does not open (that entry is
left out of local matching, the rest still match), and rows banked before sealing still
match and are sealed in place by ``chorus bank seal-local``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from chorus.errors import InvalidSignalError, LocalFeaturesSealError
from chorus.fingerprint import fingerprint_bytes, fingerprint_path, local
from chorus.matching import bank, local_seal
from chorus.matching.bank import SignalInput
from chorus.matching.identify import queries_for
from chorus.matching.lookup import BankIndex, lookup
from chorus.matching.models import BankEntry, BankLocalFeatures
from chorus.store import migrate
from chorus.store.base import utcnow
from chorus.store.session import transaction

from ..evidence.conftest import new_key
from .keys import KEYS, MASTER_KEY, key_ring
from .test_local_matching import corner_crop


def _bank(sessions: sessionmaker[Session], path: Path, keys: object = KEYS) -> tuple[int, str]:
    """(entry id, public id) of the photo banked with ``keys``."""
    record = fingerprint_path(path).as_record()
    with transaction(sessions) as session:
        entry = bank.register(
            session, owner_id="case-s", provenance="survivor_device",
            signals=SignalInput.from_record(record), keys=keys,  # type: ignore[arg-type]
        )  # fmt: skip
        return entry.id, entry.public_id


def _local_hits(sessions: sessionmaker[Session], index: BankIndex, path: Path) -> set[str]:
    queries = [q for q in queries_for(fingerprint_bytes(corner_crop(path))) if q[0] == "local"]
    with transaction(sessions) as session:
        index.sync(session, force=True)
        results = lookup(session, index, queries, actor="t", endpoint="t")
    return {m.entry_id for r in results for m in r.matches}


def _plain(path: Path) -> bytes:
    fp = fingerprint_path(path)
    assert fp.local is not None and fp.local.bank is not None
    return fp.local.bank.to_bytes()


def test_the_stored_bytes_are_sealed_and_a_crop_still_matches(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    entry_id, public_id = _bank(sessions, photos[0])
    _bank(sessions, photos[1])
    with transaction(sessions) as session:
        row = session.scalar(
            select(BankLocalFeatures).where(BankLocalFeatures.entry_id == entry_id)
        )
        assert row is not None and row.sealed
        stored = bytes(row.features)
    plain = _plain(photos[0])
    assert stored != plain and plain not in stored and plain[10:40] not in stored
    with pytest.raises(InvalidSignalError):
        local.LocalFeatures.from_bytes(stored)
    # two bankings of the same photo are sealed under different nonces
    other_id, _ = _bank(sessions, photos[0])
    with transaction(sessions) as session:
        again = session.scalar(
            select(BankLocalFeatures.features).where(BankLocalFeatures.entry_id == other_id)
        )
    assert again is not None and bytes(again)[:12] != stored[:12]
    index = BankIndex(keys=KEYS)
    assert public_id in _local_hits(sessions, index, photos[0])
    assert len(index.local) == 3


def test_local_features_are_not_banked_without_the_key_ring(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    with pytest.raises(LocalFeaturesSealError, match="key ring"), transaction(sessions) as s:
        bank.register(
            s, owner_id="c", provenance="caseworker",
            signals=SignalInput.from_record(fingerprint_path(photos[0]).as_record()),
        )  # fmt: skip
    with transaction(sessions) as session:
        assert session.scalars(select(BankEntry)).all() == []
        # without local features, no key ring is needed
        bank.register(
            session, owner_id="c", provenance="caseworker", signals=SignalInput(md5="a" * 32)
        )


def test_a_row_moved_onto_another_entry_does_not_open(
    sessions: sessionmaker[Session], photos: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    first, first_public = _bank(sessions, photos[0])
    second, second_public = _bank(sessions, photos[1])
    with transaction(sessions) as session:
        moved = session.scalar(
            select(BankLocalFeatures.features).where(BankLocalFeatures.entry_id == first)
        )
        assert moved is not None
        session.execute(
            update(BankLocalFeatures)
            .where(BankLocalFeatures.entry_id == second)
            .values(features=moved)
        )
        key = KEYS.data_key(session, local_seal.SCOPE, create=False)
    with pytest.raises(LocalFeaturesSealError, match=f"entry {second}"):
        local_seal.open_sealed(key, second, bytes(moved))
    assert local_seal.open_sealed(key, first, bytes(moved)) == _plain(photos[0])
    index = BankIndex(keys=KEYS)
    with caplog.at_level(logging.WARNING, logger="chorus.matching.local_bank"):
        assert _local_hits(sessions, index, photos[0]) == {first_public}
    assert len(index.local) == 1  # the moved row is left out; the index still serves
    assert f"Bank entry {second} is left out of local matching" in caplog.text
    assert second_public not in _local_hits(sessions, index, photos[1])


def test_a_damaged_row_is_left_out_with_a_warning(
    sessions: sessionmaker[Session], photos: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    first, first_public = _bank(sessions, photos[0])
    second, _second_public = _bank(sessions, photos[1])
    with transaction(sessions) as session:  # a row of the old, unsealed kind, damaged
        session.execute(
            update(BankLocalFeatures)
            .where(BankLocalFeatures.entry_id == second)
            .values(features=b"CLF2 not features", sealed=False)
        )
    index = BankIndex(keys=KEYS)
    with caplog.at_level(logging.WARNING, logger="chorus.matching.local_bank"):
        assert _local_hits(sessions, index, photos[0]) == {first_public}
    assert len(index.local) == 1
    assert f"Bank entry {second} is left out of local matching" in caplog.text
    assert "do not read" in caplog.text
    assert f"Bank entry {first} " not in caplog.text


def test_without_the_right_master_key_rows_are_skipped_with_a_warning(
    sessions: sessionmaker[Session], photos: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    _entry_id, public_id = _bank(sessions, photos[0])
    stranger = key_ring(new_key())  # another deployment's master key
    with transaction(sessions) as session, pytest.raises(LocalFeaturesSealError) as caught:
        local_seal.key_for_reading(stranger, session)
    assert "not configured" in caught.value.message
    for keys in (stranger, None):
        index = BankIndex(keys=keys)
        with caplog.at_level(logging.WARNING, logger="chorus.matching.local_bank"):
            caplog.clear()
            assert _local_hits(sessions, index, photos[0]) == set()  # no crash, no match
        assert len(index.local) == 0
        assert "1 bank entries are left out of local matching" in caplog.text
    # after a rotation, the old master key listed as a previous one still opens them
    new_master = new_key()
    rotated = key_ring(new_master, previous=(MASTER_KEY,))
    assert public_id in _local_hits(sessions, BankIndex(keys=rotated), photos[0])
    with transaction(sessions) as session:
        assert rotated.rewrap_all(session) >= 1
    # ... and once re-wrapped, the new master key alone does
    assert public_id in _local_hits(sessions, BankIndex(keys=key_ring(new_master)), photos[0])


def test_a_row_banked_before_sealing_still_matches_and_is_sealed_in_place(
    sessions: sessionmaker[Session], photos: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    entry_id, public_id = _bank(sessions, photos[4])
    plain = _plain(photos[4])
    with transaction(sessions) as session:  # as migration 0019 leaves a row banked before it
        session.execute(
            update(BankLocalFeatures)
            .where(BankLocalFeatures.entry_id == entry_id)
            .values(features=plain, sealed=False)
        )
    index = BankIndex(keys=KEYS)
    with caplog.at_level(logging.WARNING, logger="chorus.matching.local_bank"):
        assert public_id in _local_hits(sessions, index, photos[4])
    assert "1 bank entries' local features are stored unsealed" in caplog.text
    assert "chorus bank seal-local" in caplog.text
    assert public_id in _local_hits(sessions, BankIndex(), photos[4])  # needs no key
    with transaction(sessions) as session:
        assert local_seal.seal_plaintext_rows(session, KEYS) == 1
    with transaction(sessions) as session:
        assert local_seal.seal_plaintext_rows(session, KEYS) == 0  # idempotent
        row = session.scalar(
            select(BankLocalFeatures).where(BankLocalFeatures.entry_id == entry_id)
        )
        assert row is not None and row.sealed and bytes(row.features) != plain
        with pytest.raises(InvalidSignalError):
            local.LocalFeatures.from_bytes(bytes(row.features))
    assert public_id in _local_hits(sessions, BankIndex(keys=KEYS), photos[4])


def test_migration_0019_keeps_plaintext_rows_which_then_match_and_are_sealed(
    engine: Engine,
    sessions: sessionmaker[Session],
    photos: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    banked = [(*_bank(sessions, path), path) for path in (photos[4], photos[0])]
    migrate.downgrade(engine, "0018")  # a sealed row means nothing before 0019: dropped
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM bank_local_features")).scalar() == 0
        for entry_id, _public_id, path in banked:  # rows as 0018 banked them: plain bytes
            conn.execute(
                text(
                    "INSERT INTO bank_local_features (entry_id, features, created_at) "
                    "VALUES (:entry, :features, :at)"
                ),
                {"entry": entry_id, "features": _plain(path), "at": utcnow()},
            )
    migrate.upgrade(engine)
    with transaction(sessions) as session:
        rows = session.scalars(select(BankLocalFeatures)).all()
        assert len(rows) == 2 and not any(row.sealed for row in rows)
    index = BankIndex(keys=KEYS)
    for _entry_id, public_id, path in banked:
        assert public_id in _local_hits(sessions, index, path)
    monkeypatch.setattr(local_seal, "_BATCH", 1)  # one row a batch: the loop goes on
    with transaction(sessions) as session:
        assert local_seal.seal_plaintext_rows(session, KEYS) == 2
    with transaction(sessions) as session:
        for entry_id, _public_id, path in banked:
            stored = session.scalar(
                select(BankLocalFeatures.features).where(BankLocalFeatures.entry_id == entry_id)
            )
            assert stored is not None and bytes(stored) != _plain(path)
    index = BankIndex(keys=KEYS)
    for _entry_id, public_id, path in banked:
        assert public_id in _local_hits(sessions, index, path)
