"""Helpers for the staff page tests: accounts on a test server's database, signed-in
clients, and reports that get suggested links."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.security import staff_auth
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction

PASSWORD = "a long staff passphrase"
THREAD = "https://board.example/b/thread/48213"


def server_settings(database_url: str, data_dir: Path) -> Settings:
    """The settings ``tests.web.server.running_server`` gives its server."""
    return Settings(
        env="test", secret_key="t" * 40, database_url=database_url, data_dir=data_dir,
        evidence_signing_key=base64.b64encode(b"s" * 32).decode(),  # type: ignore[arg-type]
        evidence_master_key=base64.b64encode(b"m" * 32).decode(),  # type: ignore[arg-type]
    )  # fmt: skip


def add_staff(database_url: str, data_dir: Path, username: str, role: str,
              unit: str = "Public Protection") -> str:  # fmt: skip
    """Enrol a staff member; the TOTP secret (as their authenticator app would hold it)."""
    settings = server_settings(database_url, data_dir)
    engine = make_engine(database_url)
    try:
        with transaction(session_factory(engine)) as session:
            enrolled = staff_auth.add_staff(
                session, KeyRing(settings), username, role=role, unit=unit,
                display_name=username.replace(".", " ").title(), password=PASSWORD,
            )  # fmt: skip
    finally:
        engine.dispose()
    return parse_qs(urlsplit(enrolled.provisioning_uri).query)["secret"][0]


def code_for(secret: str, step_offset: int = 0) -> str:
    """The code of the current time step (or a neighbour: codes are accepted only once)."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=step_offset)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def signed_in(base: str, username: str, secret: str, step_offset: int = 0) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    form = {"username": username, "password": PASSWORD, "code": code_for(secret, step_offset)}
    answer = client.post("/staff/sign-in", data=form)
    assert answer.status_code == 303, answer.text
    return client


def file_reports(base: str, count: int, *, town_only: bool = False) -> list[str]:
    """``count`` reports of the same board thread (or, with town_only, only the same town)."""
    refs = []
    for n in range(count):
        urls = [] if town_only else [THREAD if n % 2 else THREAD.replace("https://", "http://www.")]
        answer = httpx.post(f"{base}/api/v1/reports", json={
            "answers": {"what_was_shared": f"Photos of me, report {n}", "urls": urls,
                        "how_obtained": ["hacked_account", "sent_to_someone"][n % 2],
                        "own_details_seen": {"town": "Exampletown"}}, "pin": "620418"})  # fmt: skip
        assert answer.status_code == 201, answer.text
        refs.append(str(answer.json()["report_id"]))
    return refs


def case_reference(report_page: str) -> str:
    """The case reference a staff report page names (a link for caseworkers)."""
    found = re.search(r"Case (?:<a [^>]*>)?([A-Z0-9-]+)", report_page)
    assert found, "no case reference on the page"
    return found.group(1)
