"""The robust signal in the bank: registered with PDQ, matched through its own index,
never in the partner feed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.errors import InvalidSignalError
from chorus.fingerprint import fingerprint_bytes, fingerprint_path
from chorus.fingerprint.benchmark.evaluate import load_photo
from chorus.fingerprint.benchmark.transforms import by_name
from chorus.matching import bank, exchange
from chorus.matching.bank import SignalInput
from chorus.matching.lookup import BankIndex, lookup
from chorus.store.session import transaction


def _register(sessions: sessionmaker[Session], path: Path) -> str:
    record = fingerprint_path(path).as_record()
    with transaction(sessions) as session:
        return bank.register(
            session,
            owner_id="case-r",
            provenance="survivor_device",
            signals=SignalInput.from_record(record),
        ).public_id


def _copy_queries(path: Path, transform: str) -> list[tuple[str, str]]:
    _data, upright = load_photo(path)
    (step,) = by_name([transform])
    copy = fingerprint_bytes(step.apply(upright, np.random.default_rng(3)))
    assert copy.robust is not None
    pdq = [("pdq", v) for v in dict.fromkeys(copy.pdq.dihedral)] if copy.usable else []
    return pdq + [("robust", code) for _name, code in copy.robust.query]


@pytest.mark.parametrize("transform", ["screenshot", "crop80_centre", "border_blurred_fill"])
def test_a_reposted_copy_matches_through_the_robust_signal(
    sessions: sessionmaker[Session], photos: list[Path], transform: str
) -> None:
    entry = _register(sessions, photos[0])
    _register(sessions, photos[1])
    queries = _copy_queries(photos[0], transform)
    index = BankIndex()
    with transaction(sessions) as session:
        results = lookup(session, index, queries, actor="test", endpoint="test")
    pdq_hits = [m for r in results if r.signal_type == "pdq" for m in r.matches]
    robust_hits = [m for r in results if r.signal_type == "robust" for m in r.matches]
    assert pdq_hits == []  # PDQ alone misses these copies ...
    assert {m.entry_id for m in robust_hits} == {entry}  # ... the robust signal finds them
    assert all(m.signal_type == "robust" and m.radius == 44 for m in robust_hits)
    assert min(m.distance for m in robust_hits) <= 44


def test_other_photos_do_not_match(sessions: sessionmaker[Session], photos: list[Path]) -> None:
    for path in photos[:4]:
        _register(sessions, path)
    queries = _copy_queries(photos[5], "screenshot")
    with transaction(sessions) as session:
        results = lookup(session, BankIndex(), queries, actor="test", endpoint="test")
    assert all(not r.matches for r in results)


def test_partners_never_receive_the_robust_signal(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    _register(sessions, photos[0])
    with transaction(sessions) as session:
        stats = bank.stats(session)
        page = exchange.feed(session, None)
    assert stats["active_signals"]["robust"] >= 15  # type: ignore[index]
    kinds = {s.signal_type for change in page.changes for s in change.signals}
    assert kinds == {"pdq", "sha256", "md5"}


def test_robust_codes_are_validated(sessions: sessionmaker[Session], photos: list[Path]) -> None:
    record = fingerprint_path(photos[0]).as_record()
    good = SignalInput.from_record(record)
    bad_inputs = [
        SignalInput(robust=good.robust),  # without PDQ and its quality
        SignalInput(pdq=good.pdq, quality=good.quality, robust=[("full", "0" * 64)]),
        SignalInput(pdq=good.pdq, quality=good.quality, robust=[("full", "zz" * 32)]),
        SignalInput(pdq=good.pdq, quality=good.quality, robust=[("x" * 17, good.robust[0][1])]),
        SignalInput(pdq=good.pdq, quality=good.quality, robust=list(good.robust) * 3),
    ]
    with transaction(sessions) as session:
        for signals in bad_inputs:
            with pytest.raises(InvalidSignalError):
                bank.register(session, owner_id="c", provenance="caseworker", signals=signals)
    with pytest.raises(InvalidSignalError):
        SignalInput.from_record({**record, "robust": {"bank": "nope"}})


def test_index_persists_both_signal_types(
    sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path
) -> None:
    entry = _register(sessions, photos[0])
    index = BankIndex()
    with transaction(sessions) as session:
        index.sync(session, force=True)
    index.save(tmp_path)
    loaded = BankIndex.load(tmp_path)
    assert loaded is not None
    assert len(loaded.indexes["robust"]) == len(index.indexes["robust"]) > 0
    queries = _copy_queries(photos[0], "screenshot")
    with transaction(sessions) as session:
        results = lookup(session, loaded, queries, actor="test", endpoint="test")
    assert entry in {m.entry_id for r in results for m in r.matches}
    # an index saved before the robust signal existed is rebuilt, not trusted
    meta = json.loads((tmp_path / "bank-index.json").read_text())
    del meta["radii"]
    (tmp_path / "bank-index.json").write_text(json.dumps(meta))
    assert BankIndex.load(tmp_path) is None
