"""The local signal in records, the bank and lookups: an off-centre crop that PDQ and the
robust codes miss is found by its corners, withdrawn entries are not, partners never
receive the features."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chorus.errors import InvalidSignalError
from chorus.fingerprint import Fingerprint, fingerprint_bytes, fingerprint_path, local
from chorus.fingerprint.benchmark.evaluate import load_photo
from chorus.matching import bank, exchange, local_seal
from chorus.matching.bank import SignalInput
from chorus.matching.identify import best_matches, pack_queries, queries_for, unpack_queries
from chorus.matching.local_bank import LOCAL_RADIUS, MAX_LOCAL_QUERIES
from chorus.matching.lookup import BankIndex, lookup
from chorus.matching.models import BankLocalFeatures
from chorus.store.session import transaction

from .keys import KEYS


def corner_crop(path: Path, keep: float = 0.75) -> bytes:
    """A crop keeping ``keep`` of each side, anchored at the bottom-right corner."""
    _data, upright = load_photo(path)
    w, h = upright.size
    part = upright.crop((w - int(w * keep), h - int(h * keep), w, h))
    out = io.BytesIO()
    part.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def _register(sessions: sessionmaker[Session], path: Path, owner: str = "case-l") -> str:
    record = fingerprint_path(path).as_record()
    with transaction(sessions) as session:
        return bank.register(
            session, owner_id=owner, provenance="survivor_device",
            signals=SignalInput.from_record(record), keys=KEYS,
        ).public_id  # fmt: skip


def _hits(results: list, kinds: set[str]) -> set[str]:  # type: ignore[type-arg]
    return {m.entry_id for r in results if r.signal_type in kinds for m in r.matches}


def test_the_record_carries_local_features_that_round_trip(photos: list[Path]) -> None:
    fp = fingerprint_path(photos[0])
    record = json.loads(json.dumps(fp.as_record()))
    signal = record["local"]
    assert signal["version"] == local.VERSION
    assert fp.local is not None and fp.local.bank is not None
    assert local.LocalFeatures.from_text(signal["bank"]).to_bytes() == fp.local.bank.to_bytes()
    assert 8 <= len(fp.local.bank) <= local.BANK_POINTS
    assert len(signal["query"]) == len(fp.local.query) >= 1
    for text in signal["query"]:
        assert len(local.LocalFeatures.from_text(text)) <= local.QUERY_POINTS
    assert SignalInput.from_record(record).local == signal["bank"]
    # a photo too plain to match has no local features either, like the robust codes
    flat = io.BytesIO()
    Image.new("RGB", (300, 200), (120, 120, 120)).save(flat, "PNG")
    plain = fingerprint_bytes(flat.getvalue()).as_record()
    assert plain["usable"] is False and plain["local"] is None and plain["robust"] is None


def test_an_off_centre_crop_is_found_by_local_features_alone(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    entry = _register(sessions, photos[0])
    _register(sessions, photos[1])
    copy = fingerprint_bytes(corner_crop(photos[0]))
    index = BankIndex(keys=KEYS)
    with transaction(sessions) as session:
        results = lookup(session, index, queries_for(copy), actor="test", endpoint="test")
    assert _hits(results, {"pdq", "robust", "robust_half", "sha256", "md5"}) == set()
    (hit,) = [m for r in results if r.signal_type == "local" for m in r.matches]
    assert hit.entry_id == entry and hit.radius == LOCAL_RADIUS
    assert hit.inliers is not None and hit.inliers >= local.MIN_INLIERS
    assert hit.share is not None and local.MIN_SHARE <= hit.share <= 1
    assert 0 <= hit.distance == round(100 * (1 - hit.share)) <= LOCAL_RADIUS
    with transaction(sessions) as session:
        (found,) = best_matches(session, index, copy, actor="test", endpoint="test")
    assert found.signal_type == "local" and found.signal_types == {"local"}
    assert found.robust_only and found.inliers == hit.inliers


def test_withdrawn_and_quarantined_entries_are_not_found(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    entry = _register(sessions, photos[2])
    # 80% of each side: this photo's 75% corner crop is one the capture rule gives up
    queries = queries_for(fingerprint_bytes(corner_crop(photos[2], keep=0.8)))
    index = BankIndex(keys=KEYS)
    with transaction(sessions) as session:
        assert entry in _hits(lookup(session, index, queries, actor="t", endpoint="t"), {"local"})
        bank.withdraw(session, entry)
    # at once, before the index replays the change (the join on the entry's status) ...
    with transaction(sessions) as session:
        assert _hits(lookup(session, index, queries, actor="t", endpoint="t"), {"local"}) == set()
    # ... and after it
    with transaction(sessions) as session:
        index.sync(session, force=True)
        assert len(index.local) == 0
        assert _hits(lookup(session, index, queries, actor="t", endpoint="t"), {"local"}) == set()
    other = _register(sessions, photos[3])
    queries = queries_for(fingerprint_bytes(corner_crop(photos[3])))
    with transaction(sessions) as session:
        index.sync(session, force=True)
        assert len(index.local) == 1
        bank.quarantine(session, bank.get_entry(session, other), "test")
    with transaction(sessions) as session:
        assert _hits(lookup(session, index, queries, actor="t", endpoint="t"), {"local"}) == set()
        bank.release(session, other)
    with transaction(sessions) as session:
        index.sync(session, force=True)
        assert other in _hits(lookup(session, index, queries, actor="t", endpoint="t"), {"local"})


def test_other_photos_do_not_match_by_local_features(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    for path in photos[:6]:
        _register(sessions, path)
    index = BankIndex(keys=KEYS)
    with transaction(sessions) as session:
        for path in photos[6:12]:
            queries = queries_for(fingerprint_bytes(corner_crop(path)))
            results = lookup(session, index, queries, actor="t", endpoint="t")
            assert all(not r.matches for r in results), path.name


def test_local_features_are_stored_once_per_entry_and_never_sent_to_partners(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    entry = _register(sessions, photos[0])
    with transaction(sessions) as session:
        rows = session.scalars(select(BankLocalFeatures)).all()
        assert len(rows) == 1 and rows[0].entry.public_id == entry and rows[0].sealed
        key = KEYS.data_key(session, local_seal.SCOPE, create=False)
        packed = local_seal.open_sealed(key, rows[0].entry_id, rows[0].features)
        assert len(packed) == len(local.LocalFeatures.from_bytes(packed)) * 14 + 10
        assert len(rows[0].features) == len(packed) + 12 + 16  # nonce, GCM tag
        assert bank.stats(session)["active_signals"]["local"] == 1  # type: ignore[index]
        page = exchange.feed(session, None)
    assert {s.signal_type for c in page.changes for s in c.signals} == {"pdq", "sha256", "md5"}
    assert "local" not in exchange.PARTNER_TYPES


def test_local_features_are_validated_and_a_refusal_writes_nothing(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    fp = fingerprint_path(photos[0])
    good = SignalInput.from_record(fp.as_record())
    assert fp.local is not None and good.local is not None
    big = fp.local.query[0].to_text()  # a copy's 400 corners are not a banked photo's
    truncated = good.local[: len(good.local) // 2]
    few = local.LocalFeatures(
        fp.local.bank.width, fp.local.bank.height,  # type: ignore[union-attr]
        fp.local.bank.points[:3], fp.local.bank.descriptors[:3],  # type: ignore[union-attr]
    ).to_text()  # fmt: skip
    bad_inputs = [
        SignalInput(local=good.local, sha256=good.sha256),  # without PDQ and its quality
        SignalInput(pdq=good.pdq, quality=good.quality, local=truncated),
        SignalInput(pdq=good.pdq, quality=good.quality, local="not base64!"),
        SignalInput(pdq=good.pdq, quality=good.quality, local=big),
        SignalInput(pdq=good.pdq, quality=good.quality, local=few),
    ]
    with transaction(sessions) as session:
        for signals in bad_inputs:
            with pytest.raises(InvalidSignalError):
                bank.register(session, owner_id="c", provenance="caseworker", signals=signals)
        assert session.scalar(select(func.count()).select_from(BankLocalFeatures)) == 0
        assert bank.stats(session)["entries"] == {}
    for broken in ({"bank": 5}, {"bank": ["x"]}, "nope"):
        with pytest.raises(InvalidSignalError):
            SignalInput.from_record({**fp.as_record(), "local": broken})
    assert SignalInput.from_record({**fp.as_record(), "local": None}).local is None


def test_a_loaded_index_reads_local_features_from_the_bank(
    sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path
) -> None:
    entry = _register(sessions, photos[4])
    index = BankIndex(keys=KEYS)
    with transaction(sessions) as session:
        index.sync(session, force=True)
    index.save(tmp_path)
    loaded = BankIndex.load(tmp_path, keys=KEYS)
    assert loaded is not None and len(loaded.local) == 0
    queries = queries_for(fingerprint_bytes(corner_crop(photos[4])))
    with transaction(sessions) as session:
        results = lookup(session, loaded, queries, actor="t", endpoint="t")
    assert len(loaded.local) == 1 and entry in _hits(results, {"local"})


def test_malformed_and_too_many_local_queries_get_errors(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    _register(sessions, photos[0])
    copy = fingerprint_bytes(corner_crop(photos[0]))
    assert copy.local is not None
    text = copy.local.query[0].to_text()
    queries = [("local", "QUJD"), ("local", text[:-8])] + [("local", text)] * (
        MAX_LOCAL_QUERIES + 1
    )
    with transaction(sessions) as session:
        results = lookup(session, BankIndex(keys=KEYS), queries, actor="t", endpoint="t")
    assert results[0].error and results[1].error and not results[0].matches
    assert all(r.matches and r.error is None for r in results[2 : 2 + MAX_LOCAL_QUERIES])
    assert results[-1].error and "At most" in results[-1].error and not results[-1].matches


def test_packed_queries_keep_local_features(photos: list[Path]) -> None:
    fp: Fingerprint = fingerprint_bytes(corner_crop(photos[0]))
    queries = queries_for(fp)
    assert any(kind == "local" for kind, _ in queries)
    packed = pack_queries(queries)
    assert unpack_queries(packed) == queries
    assert len(packed) < sum(len(v) for _, v in queries)
