"""Lookups through the bank: PDQ within the radius, digests exactly, withdrawals at once."""

from __future__ import annotations

import random
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.fingerprint import bits_to_hex, fingerprint_path, hex_to_bits
from chorus.matching import bank
from chorus.matching.bank import SignalInput
from chorus.matching.lookup import BankIndex, lookup
from chorus.matching.models import LookupAudit
from chorus.store.session import transaction

from .keys import KEYS


def flip(value: str, bits: int, seed: int = 0) -> str:
    vector = hex_to_bits(value).copy()
    for position in random.Random(seed).sample(range(256), bits):
        vector[position] ^= 1
    return bits_to_hex(vector)


def register_photo(sessions: sessionmaker[Session], path: Path, owner: str = "case-1") -> str:
    record = fingerprint_path(path).as_record()
    with transaction(sessions) as session:
        return bank.register(
            session,
            owner_id=owner,
            provenance="survivor_device",
            signals=SignalInput.from_record(record),
            keys=KEYS,
        ).public_id


def run(sessions: sessionmaker[Session], index: BankIndex, queries: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        return lookup(session, index, queries, actor="test", endpoint="test")


def test_pdq_matches_within_radius_only(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    entry = register_photo(sessions, photos[0])
    pdq = fingerprint_path(photos[0]).pdq.hash
    index = BankIndex(keys=KEYS)
    near, edge, far = flip(pdq, 10), flip(pdq, 31, 1), flip(pdq, 32, 2)
    results = run(sessions, index, [("pdq", pdq), ("pdq", near), ("pdq", edge), ("pdq", far)])
    assert [r.matches[0].distance if r.matches else None for r in results] == [0, 10, 31, None]
    assert all(m.entry_id == entry for r in results for m in r.matches)


def test_mirrored_copy_matches_through_dihedral_variants(
    sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path
) -> None:
    from PIL import Image

    entry = register_photo(sessions, photos[1])
    mirrored = tmp_path / "mirrored.jpg"
    with Image.open(photos[1]) as im:
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(mirrored, quality=92)
    query = fingerprint_path(mirrored).pdq.hash
    (result,) = run(sessions, BankIndex(keys=KEYS), [("pdq", query)])
    assert [m.entry_id for m in result.matches] == [entry]


def test_digests_match_exactly_and_bad_values_get_errors(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    entry = register_photo(sessions, photos[2])
    fp = fingerprint_path(photos[2])
    results = run(
        sessions,
        BankIndex(keys=KEYS),
        [
            ("sha256", fp.sha256),
            ("md5", fp.md5),
            ("md5", "f" * 32),
            ("pdq", "00" * 32),
            ("pdq", "xyz"),
            ("phash", "abc"),
        ],
    )
    assert [m.entry_id for m in results[0].matches] == [entry]
    assert [m.entry_id for m in results[1].matches] == [entry]
    assert results[2].matches == () and results[2].error is None
    assert all(r.error for r in results[3:])


def test_withdrawal_takes_effect_within_a_second(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    entry = register_photo(sessions, photos[3])
    pdq = fingerprint_path(photos[3]).pdq.hash
    index = BankIndex(keys=KEYS)
    assert run(sessions, index, [("pdq", pdq)])[0].matches
    with transaction(sessions) as session:
        bank.withdraw(session, entry)
    start = time.monotonic()
    assert run(sessions, index, [("pdq", pdq)])[0].matches == ()
    assert time.monotonic() - start < 1
    time.sleep(0.6)
    run(sessions, index, [("pdq", pdq)])
    assert len(index.pdq) == 0  # and the index itself has dropped it


def test_new_registrations_are_matchable_without_a_rebuild(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    index = BankIndex(keys=KEYS)
    run(sessions, index, [("md5", "1" * 32)])
    entry = register_photo(sessions, photos[4])
    time.sleep(0.6)
    (result,) = run(sessions, index, [("pdq", fingerprint_path(photos[4]).pdq.hash)])
    assert [m.entry_id for m in result.matches] == [entry]


def test_every_lookup_is_audited_without_content(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    register_photo(sessions, photos[5])
    pdq = fingerprint_path(photos[5]).pdq.hash
    run(sessions, BankIndex(keys=KEYS), [("pdq", pdq), ("md5", "1" * 32)])
    with transaction(sessions) as session:
        (audit,) = session.scalars(select(LookupAudit)).all()
        assert (audit.signals, audit.matched, audit.actor) == (2, 1, "test")
        assert pdq not in repr(audit.__dict__)


def test_index_snapshot_round_trip(
    sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path
) -> None:
    entry = register_photo(sessions, photos[6])
    index = BankIndex(keys=KEYS)
    with transaction(sessions) as session:
        index.sync(session, force=True)
    index.save(tmp_path)
    loaded = BankIndex.load(tmp_path, keys=KEYS)
    assert loaded is not None and loaded.seq == index.seq and len(loaded.pdq) == len(index.pdq)
    (result,) = run(sessions, loaded, [("pdq", fingerprint_path(photos[6]).pdq.hash)])
    assert [m.entry_id for m in result.matches] == [entry]
    assert loaded._present == index._present
