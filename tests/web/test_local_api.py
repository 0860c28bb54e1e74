"""The local signal over HTTP: banked through the operator API, looked up through
`POST /api/v1/lookup`, bounded, and never in the partner feed."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from chorus.fingerprint import fingerprint_bytes, fingerprint_path
from chorus.matching.signals import LocalSignal
from chorus.security import api_keys
from chorus.store.session import transaction
from tests.matching.test_local_matching import corner_crop
from tests.web.server import running_server


def test_an_off_centre_crop_is_found_through_the_api_until_withdrawn(
    database_url: str, sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path
) -> None:
    with transaction(sessions) as session:
        admin = api_keys.create_key(session, "Chorus operations", ["admin", "bank"]).token
        token = api_keys.create_key(session, "Chorus monitor", ["lookup", "exchange"]).token
    record = fingerprint_path(photos[5]).as_record()
    local_record = record["local"]
    robust_record = record["robust"]
    assert isinstance(local_record, dict) and isinstance(robust_record, dict)
    copy = fingerprint_bytes(
        corner_crop(photos[5], keep=0.8)
    )  # its 75% crop fails the capture rule
    assert copy.local is not None and copy.robust is not None
    signals = (
        [{"signal_type": "pdq", "value": copy.pdq.hash}]
        + [{"signal_type": kind, "value": code} for kind, code in copy.robust.query_signals()]
        + [{"signal_type": "local", "value": text} for _kind, text in copy.local.query_signals()]
    )
    with (
        running_server(database_url, tmp_path / "var") as base,
        httpx.Client(base_url=base) as http,
    ):
        ops, partner = {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {token}"}
        fields = ("pdq", "quality", "dihedral", "sha256", "md5")
        entry = http.post(
            "/api/v1/bank/entries", headers=ops,
            json={"owner_id": "case-9", "provenance": "survivor_device",
                  **{k: record[k] for k in fields}, "robust": robust_record["bank"],
                  "local": local_record["bank"]},
        )  # fmt: skip
        assert entry.status_code == 201, entry.text
        entry_id = entry.json()["id"]

        found = http.post("/api/v1/lookup", json={"signals": signals}, headers=partner)
        assert found.status_code == 200, found.text
        results = found.json()["results"]
        by_type: dict[str, list[dict[str, object]]] = {}
        for result in results:
            assert result["error"] is None
            by_type.setdefault(result["signal_type"], []).extend(result["matches"])
        assert not by_type["pdq"] and not by_type.get("robust") and not by_type.get("robust_half")
        (hit,) = by_type["local"]
        assert hit["id"] == entry_id and hit["signal_type"] == "local"
        assert isinstance(hit["inliers"], int) and hit["inliers"] >= 8
        assert 0 <= hit["distance"] <= hit["radius"] == 80  # type: ignore[operator]
        assert "case-9" not in found.text

        # a malformed feature set gets an error like any malformed value; the others still run
        bad = [{"signal_type": "local", "value": "QUJDRA=="}, signals[-1]]
        answer = http.post("/api/v1/lookup", json={"signals": bad}, headers=partner).json()
        assert answer["results"][0]["error"] and answer["results"][0]["matches"] == []
        assert answer["results"][1]["matches"][0]["id"] == entry_id
        # values beyond their type's bound are refused whole, as a plain problem
        oversize = "A" * (LocalSignal.max_length + 4)
        for body in (
            {"signals": [{"signal_type": "local", "value": oversize}]},
            {"signals": [{"signal_type": "pdq", "value": "a" * 200}]},
        ):
            refused = http.post("/api/v1/lookup", json=body, headers=partner)
            assert refused.status_code == 422  # as for every request outside the schema
            assert "at most" in refused.text
        refused = http.post(
            "/api/v1/bank/entries", headers=ops,
            json={"owner_id": "case-9", **{k: record[k] for k in fields}, "local": "QUJDRA=="},
        )  # fmt: skip
        assert refused.status_code in (400, 422), refused.text

        feed = http.get("/api/v1/exchange/signals", headers=partner).json()
        kinds = {s["signal_type"] for c in feed["changes"] for s in c["signals"]}
        assert kinds == {"pdq", "sha256", "md5"}
        assert str(local_record["bank"])[:40] not in str(feed)

        withdrawn = http.post(f"/api/v1/bank/entries/{entry_id}/withdraw", headers=ops, json={})
        assert withdrawn.json()["status"] == "withdrawn"
        again = http.post("/api/v1/lookup", json={"signals": signals}, headers=partner).json()
        assert all(r["matches"] == [] for r in again["results"])
