"""A partner's first day, through the HTTP API only (what the OpenAPI page sends)."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from chorus.fingerprint import fingerprint_path
from chorus.security import api_keys
from chorus.store.session import transaction
from tests.web.server import running_server


def test_key_lookup_feed_and_withdrawal(
    database_url: str, sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path
) -> None:
    with transaction(sessions) as session:  # the operator's own key, made with `chorus keys`
        admin = api_keys.create_key(session, "Chorus operations", ["admin", "bank"]).token
    record = fingerprint_path(photos[7]).as_record()
    with (
        running_server(database_url, tmp_path / "var") as base,
        httpx.Client(base_url=base) as http,
    ):
        ops = {"Authorization": f"Bearer {admin}"}
        created = http.post(
            "/api/v1/keys",
            headers=ops,
            json={"name": "Example Platform", "scopes": ["lookup", "exchange", "feedback"]},
        )
        assert created.status_code == 201
        partner = {"Authorization": f"Bearer {created.json()['token']}"}
        listed = http.get("/api/v1/keys", headers=ops).json()
        assert created.json()["token"] not in str(listed)

        query = {"signal_type": "pdq", "signal": str(record["pdq"])}
        assert http.get("/api/v1/lookup", params=query, headers=partner).json() == {"CHORUS": []}

        entry = http.post(
            "/api/v1/bank/entries",
            headers=ops,
            json={
                "owner_id": "case-77",
                "provenance": "survivor_device",
                **{k: record[k] for k in ("pdq", "quality", "dihedral", "sha256", "md5")},
            },
        )
        assert entry.status_code == 201, entry.text
        entry_id = entry.json()["id"]
        hits = http.get("/api/v1/lookup", params=query, headers=partner).json()["CHORUS"]
        assert hits == [{"bank_content_id": entry_id, "distance": "0"}]

        page = http.get("/api/v1/exchange/signals", headers=partner).json()
        assert [(c["op"], c["id"]) for c in page["changes"]] == [("add", entry_id)]
        assert "case-77" not in str(page)

        withdrawn = http.post(
            f"/api/v1/bank/entries/{entry_id}/withdraw", headers=ops, json={"reason": "asked"}
        )
        assert withdrawn.json()["status"] == "withdrawn"
        assert http.get("/api/v1/lookup", params=query, headers=partner).json() == {"CHORUS": []}
        later = http.get(
            "/api/v1/exchange/signals", params={"checkpoint": page["checkpoint"]}, headers=partner
        ).json()
        assert [(c["op"], c["id"]) for c in later["changes"]] == [("delete", entry_id)]

        # partners cannot reach operator endpoints
        assert (
            http.post(
                "/api/v1/keys", headers=partner, json={"name": "x", "scopes": ["admin"]}
            ).status_code
            == 403
        )
        assert (
            http.delete(f"/api/v1/keys/{created.json()['key_id']}", headers=ops).status_code == 204
        )
        assert http.get("/api/v1/lookup", params=query, headers=partner).status_code == 401
