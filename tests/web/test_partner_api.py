"""The partner API against a real server: keys, lookups, the feed with a withdrawal."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.fingerprint import fingerprint_path
from chorus.matching import bank
from chorus.matching.bank import SignalInput
from chorus.security import api_keys
from chorus.store.session import transaction
from tests.matching.keys import KEYS
from tests.web.server import running_server

OWNER = "case-secret-owner-7"


@pytest.fixture
def world(database_url: str, sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        full = api_keys.create_key(session, "Platform A", ["lookup", "exchange", "feedback"])
        lookup_only = api_keys.create_key(session, "Platform B", ["lookup"], 3)
        entry = bank.register(
            session,
            owner_id=OWNER,
            provenance="survivor_device",
            signals=SignalInput.from_record(fingerprint_path(photos[0]).as_record()),
            keys=KEYS,  # the server's key ring
        ).public_id
    with running_server(database_url, tmp_path / "var") as base:
        yield base, full.token, lookup_only.token, entry


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_batch_lookup(world, photos: list[Path]) -> None:  # type: ignore[no-untyped-def]
    base, token, _, entry = world
    fp = fingerprint_path(photos[0])
    body = {
        "signals": [
            {"signal_type": "pdq", "value": fp.pdq.hash},
            {"signal_type": "md5", "value": fp.md5},
            {"signal_type": "pdq", "value": "00" * 32},
            {"signal_type": "sha256", "value": "ab" * 32},
        ]
    }
    response = httpx.post(f"{base}/api/v1/lookup", json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["matches"] == [
        {"id": entry, "signal_type": "pdq", "distance": 0, "radius": 31, "inliers": None}
    ]
    assert results[1]["matches"][0]["id"] == entry
    assert results[2]["error"] and results[2]["matches"] == []
    assert results[3]["matches"] == [] and results[3]["error"] is None
    assert OWNER not in response.text


def test_hma_shaped_get(world, photos: list[Path]) -> None:  # type: ignore[no-untyped-def]
    base, token, _, entry = world
    pdq = fingerprint_path(photos[0]).pdq.hash
    response = httpx.get(
        f"{base}/api/v1/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=auth(token)
    )
    assert response.json() == {"CHORUS": [{"bank_content_id": entry, "distance": "0"}]}
    bad = httpx.get(
        f"{base}/api/v1/lookup", params={"signal_type": "pdq", "signal": "zz"}, headers=auth(token)
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_feed_sync_including_a_withdrawal(world, database_url: str) -> None:  # type: ignore[no-untyped-def]
    base, token, _, entry = world
    page = httpx.get(f"{base}/api/v1/exchange/signals", headers=auth(token)).json()
    assert [(c["op"], c["id"]) for c in page["changes"]] == [("add", entry)]
    assert {s["signal_type"] for s in page["changes"][0]["signals"]} == {"pdq", "sha256", "md5"}
    from chorus.store.engine import make_engine
    from chorus.store.session import session_factory

    with transaction(session_factory(make_engine(database_url))) as session:
        bank.withdraw(session, entry)
    later = httpx.get(
        f"{base}/api/v1/exchange/signals",
        params={"checkpoint": page["checkpoint"], "page_size": 10},
        headers=auth(token),
    ).json()
    assert [(c["op"], c["id"]) for c in later["changes"]] == [("delete", entry)]
    assert later["has_more"] is False


def test_feedback(world) -> None:  # type: ignore[no-untyped-def]
    base, token, _, entry = world
    ok = httpx.post(
        f"{base}/api/v1/feedback", json={"id": entry, "verdict": "blocked"}, headers=auth(token)
    )
    assert ok.json() == {"recorded": True}
    missing = httpx.post(
        f"{base}/api/v1/feedback", json={"id": "be_x", "verdict": "blocked"}, headers=auth(token)
    )
    assert missing.status_code == 404


def test_keys_are_required_scoped_and_rate_limited(world) -> None:  # type: ignore[no-untyped-def]
    base, _, lookup_only, _ = world
    body = {"signals": [{"signal_type": "md5", "value": "1" * 32}]}
    assert httpx.post(f"{base}/api/v1/lookup", json=body).status_code == 401
    assert (
        httpx.post(f"{base}/api/v1/lookup", json=body, headers=auth("chorus_nope_nope")).status_code
        == 401
    )
    assert (
        httpx.get(f"{base}/api/v1/exchange/signals", headers=auth(lookup_only)).status_code == 403
    )
    statuses = [
        httpx.post(f"{base}/api/v1/lookup", json=body, headers=auth(lookup_only)).status_code
        for _ in range(4)
    ]
    assert statuses[-1] == 429


def test_huge_batches_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    base, token, _, _ = world
    body = {"signals": [{"signal_type": "md5", "value": "1" * 32}] * 1001}
    assert httpx.post(f"{base}/api/v1/lookup", json=body, headers=auth(token)).status_code == 422


def test_openapi_documents_the_partner_api(world) -> None:  # type: ignore[no-untyped-def]
    base = world[0]
    paths = httpx.get(f"{base}/openapi.json").json()["paths"]
    for path in ("/api/v1/lookup", "/api/v1/exchange/signals", "/api/v1/feedback"):
        assert path in paths


def test_lookup_with_the_robust_signal_finds_a_screenshot(world, photos: list[Path]) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from chorus.fingerprint import fingerprint_bytes
    from chorus.fingerprint.benchmark.evaluate import load_photo
    from chorus.fingerprint.benchmark.transforms import by_name

    base, token, _, entry = world
    _data, upright = load_photo(photos[0])
    (screenshot,) = by_name(["screenshot"])
    copy = fingerprint_bytes(screenshot.apply(upright, np.random.default_rng(2)))
    assert copy.robust is not None
    signals = [{"signal_type": "pdq", "value": copy.pdq.hash}] + [
        {"signal_type": kind, "value": code} for kind, code in copy.robust.query_signals()
    ]
    response = httpx.post(f"{base}/api/v1/lookup", json={"signals": signals}, headers=auth(token))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["matches"] == []  # PDQ misses the screenshot
    hits = [m for r in results[1:] for m in r["matches"]]
    assert hits and {m["id"] for m in hits} == {entry}
    radii = {"robust": 40, "robust_half": 36}
    assert all(m["radius"] == radii[m["signal_type"]] for m in hits)
    # and the partner feed still carries PDQ and digests only
    feed = httpx.get(f"{base}/api/v1/exchange/signals", headers=auth(token)).json()
    assert "robust" not in str(feed)
