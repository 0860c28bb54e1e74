"""The robust signal in the bank: registered with PDQ, matched through its own index,
never in the partner feed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from chorus.errors import InvalidSignalError
from chorus.fingerprint import fingerprint_bytes, fingerprint_path, robust
from chorus.fingerprint.benchmark.evaluate import load_photo
from chorus.fingerprint.benchmark.transforms import by_name
from chorus.fingerprint.pdq import hamming_distance
from chorus.matching import bank, exchange
from chorus.matching.bank import SignalInput
from chorus.matching.identify import ROBUST_TYPES, best_matches
from chorus.matching.lookup import BankIndex, lookup
from chorus.matching.models import BankEntry, BankSignal
from chorus.store import migrate
from chorus.store.session import transaction

from .keys import KEYS


def _register(
    sessions: sessionmaker[Session], path: Path, record: dict[str, object] | None = None
) -> str:
    """Bank ``path``'s photo, from ``record`` when given (a record made another way)."""
    record = fingerprint_path(path).as_record() if record is None else record
    with transaction(sessions) as session:
        return bank.register(
            session,
            owner_id="case-r",
            provenance="survivor_device",
            signals=SignalInput.from_record(record),
            keys=KEYS,
        ).public_id


def _copy_queries(path: Path, transform: str) -> list[tuple[str, str]]:
    _data, upright = load_photo(path)
    (step,) = by_name([transform])
    copy = fingerprint_bytes(step.apply(upright, np.random.default_rng(3)))
    assert copy.robust is not None
    pdq = [("pdq", v) for v in dict.fromkeys(copy.pdq.dihedral)] if copy.usable else []
    return pdq + copy.robust.query_signals()


@pytest.mark.parametrize("transform", ["screenshot", "crop80_centre", "border_blurred_fill"])
def test_a_reposted_copy_matches_through_the_robust_signal(
    sessions: sessionmaker[Session], photos: list[Path], transform: str
) -> None:
    entry = _register(sessions, photos[0])
    _register(sessions, photos[1])
    queries = _copy_queries(photos[0], transform)
    index = BankIndex(keys=KEYS)
    with transaction(sessions) as session:
        results = lookup(session, index, queries, actor="test", endpoint="test")
    pdq_hits = [m for r in results if r.signal_type == "pdq" for m in r.matches]
    robust_hits = [m for r in results if r.signal_type in ROBUST_TYPES for m in r.matches]
    assert pdq_hits == []  # PDQ alone misses these copies ...
    assert {m.entry_id for m in robust_hits} == {entry}  # ... the robust signal finds them
    radii = {"robust": 40, "robust_half": 36}
    assert all(m.radius == radii[m.signal_type] for m in robust_hits)
    assert all(m.distance <= m.radius for m in robust_hits)


def test_other_photos_do_not_match(sessions: sessionmaker[Session], photos: list[Path]) -> None:
    for path in photos[:4]:
        _register(sessions, path)
    queries = _copy_queries(photos[5], "screenshot")
    with transaction(sessions) as session:
        results = lookup(session, BankIndex(keys=KEYS), queries, actor="test", endpoint="test")
    assert all(not r.matches for r in results)


def test_partners_never_receive_the_robust_signal(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    _register(sessions, photos[0])
    with transaction(sessions) as session:
        stats = bank.stats(session)
        page = exchange.feed(session, None)
    assert stats["active_signals"]["robust"] >= 15  # type: ignore[index]
    assert not stats["active_signals"].get("robust_half")  # type: ignore[attr-defined]
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
        SignalInput(pdq=good.pdq, quality=good.quality, robust=list(good.robust) * 4),
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
    index = BankIndex(keys=KEYS)
    with transaction(sessions) as session:
        index.sync(session, force=True)
    index.save(tmp_path)
    loaded = BankIndex.load(tmp_path, keys=KEYS)
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
    assert BankIndex.load(tmp_path, keys=KEYS) is None


#: The only pair of distinct shared photos that matched before issue 9's tuning: two
#: different striped shirts laid out alike on the same red background, 44 bits apart in
#: their top-half codes (docs/robust-matching.md, "False matches").
SHIRTS = ("5ddd23ad-e060-4e8a-a5ef-f7d3179567ff.jpg", "a9fe576c-a408-4b3f-80de-d9cb04d36360.jpg")


def test_no_half_frame_codes_are_made_or_banked(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    record = fingerprint_path(photos[0]).as_record()
    robust_record = record["robust"]
    assert isinstance(robust_record, dict) and robust_record["version"] == 3
    assert robust_record["query_half"] == []
    assert not {name for name, _code in robust_record["bank"]} & robust.HALVES
    # a record made before version 3 still carries them: registration keeps the rest
    older = json.loads(json.dumps(record))
    older["robust"]["bank"] += [[name, "ab" * 32] for name in sorted(robust.HALVES)]
    entry = _register(sessions, photos[0], older)
    with transaction(sessions) as session:
        kinds = _kinds(session, entry)
    assert kinds and set(kinds.values()) == {"robust"}
    assert not set(kinds) & robust.HALVES


def test_the_false_pair_of_shirts_no_longer_matches(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    first, second = (next(p for p in photos if p.name == name) for name in SHIRTS)
    a, b = fingerprint_path(first), fingerprint_path(second)
    assert a.robust is not None and b.robust is not None
    # They matched once as half-frame codes (44 bits apart), which are no longer made; the
    # whole-region codes are far apart.
    closest = min(hamming_distance(x, y) for _n, x in a.robust.bank for _m, y in b.robust.query)
    assert closest > 44
    _register(sessions, first)
    with transaction(sessions) as session:
        found = best_matches(session, BankIndex(keys=KEYS), b, actor="test", endpoint="test")
    assert found == []


def test_an_index_saved_with_other_radii_is_rebuilt(
    sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path
) -> None:
    _register(sessions, photos[0])
    index = BankIndex(keys=KEYS)
    with transaction(sessions) as session:
        index.sync(session, force=True)
    index.save(tmp_path)
    meta = json.loads((tmp_path / "bank-index.json").read_text())
    assert meta["radii"] == {"pdq": 31, "robust": 40, "robust_half": 36}
    meta["radii"] = {"pdq": 31, "robust": 44}  # as saved before issue 9's tuning
    (tmp_path / "bank-index.json").write_text(json.dumps(meta))
    assert BankIndex.load(tmp_path, keys=KEYS) is None


def test_half_frame_rows_banked_before_version_3_are_deleted(
    engine: Engine, sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    entry = _register(sessions, photos[0])
    migrate.downgrade(engine, "0019")
    with transaction(sessions) as session:
        row = session.execute(
            select(BankSignal).join(BankEntry).where(BankEntry.public_id == entry).limit(1)
        ).scalar_one()
        for k, name in enumerate(sorted(robust.HALVES)):  # as banked before version 3
            session.add(
                BankSignal(
                    entry_id=row.entry_id,
                    signal_type="robust_half",
                    value=f"{k:02x}" * 32,
                    variant=name,
                )
            )
    with transaction(sessions) as session:
        assert set(_kinds(session, entry).values()) == {"robust", "robust_half"}
    migrate.upgrade(engine)
    with transaction(sessions) as session:
        kinds = _kinds(session, entry)
    assert set(kinds.values()) == {"robust"} and not set(kinds) & robust.HALVES


def _kinds(session: Session, entry: str) -> dict[str, str]:
    rows = session.execute(
        select(BankSignal.variant, BankSignal.signal_type)
        .join(BankEntry)
        .where(BankEntry.public_id == entry, BankSignal.signal_type.like("robust%"))
    ).all()
    return {str(variant): kind for variant, kind in rows}
