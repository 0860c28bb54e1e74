"""The survivor API over real HTTP: report, reference, PIN lockout, fingerprints to the case."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.fingerprint import fingerprint_path
from chorus.matching.models import BankEntry
from chorus.store.session import transaction

from .server import running_server


def test_report_lockout_and_fingerprints(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path, photos: list[Path]
) -> None:
    with running_server(database_url, tmp_path, monitor_in_serve=False) as base:
        http = httpx.Client(base_url=base)
        bad = http.post("/api/v1/reports", json={"answers": {"what_was_shared": "x"}, "pin": "12"})
        assert bad.status_code == 422
        filed = http.post("/api/v1/reports", json={
            "answers": {"what_was_shared": "photos", "how_obtained": "sent_to_someone"},
            "pin": "550912"})  # fmt: skip
        assert filed.status_code == 201
        reference = filed.json()["reference"]
        assert "chorus_survivor" in filed.cookies
        fresh = httpx.Client(base_url=base)
        for _ in range(5):
            answer = fresh.post("/api/v1/survivor/session",
                                json={"reference": reference, "pin": "999999"})  # fmt: skip
            assert answer.status_code == 401 and "do not match" in answer.json()["title"]
        locked = fresh.post("/api/v1/survivor/session",
                            json={"reference": reference, "pin": "550912"})  # fmt: skip
        assert locked.status_code == 401 and "wait" in locked.json()["title"]
        # the first client is still signed in from filing the report; it signs in again for
        # a CSRF token (the lock is on sign-in attempts, the session cookie stays valid)
        records = [fingerprint_path(p).as_record() for p in photos[:2]]
        no_token = http.post("/api/v1/survivor/fingerprints", json={"fingerprints": records})
        assert no_token.status_code == 401
    with transaction(sessions) as session:
        assert session.scalars(select(BankEntry).where(BankEntry.owner_id == reference)).all() == []
