"""Portal forms that change a case refuse posts from other sites, even with a valid CSRF
token (as sign-in and the staff forms do): a reply, a reopen request, new choices."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import lifecycle, service
from chorus.cases.contact import ContactChoices
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Case, CaseMessage
from chorus.cases.named_contact import NamedContact
from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.security import survivor_auth
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction
from tests.web.server import running_server

CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://elsewhere.example"}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with running_server(database_url, tmp_path / "var") as base:
        yield base


@pytest.fixture
def keyring(database_url: str) -> KeyRing:  # the server's keys
    return KeyRing(Settings(env="test", secret_key="t" * 40, database_url=database_url,
                            evidence_signing_key=base64.b64encode(b"s" * 32).decode(),  # type: ignore[arg-type]
                            evidence_master_key=base64.b64encode(b"m" * 32).decode()))  # type: ignore[arg-type]  # fmt: skip


def test_cross_site_posts_change_nothing(
    server: str, sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    with transaction(sessions) as session:
        ref = service.file_report(
            session, keyring, IntakeAnswers(what_was_shared="photos"),
            contact_choices=ContactChoices(channel="portal"),
        ).case_reference  # fmt: skip
        survivor_auth.set_pin(session, ref, "620418")
        lifecycle.close_case(
            session, keyring, Actor(Role.CASEWORKER, "cw-1"), ref,
            contact=NamedContact("Sam Okoro", "Example Helpline", "07700 900456"),
            reason="The copies were removed.",
        )  # fmt: skip
    http = httpx.Client(base_url=server)
    assert http.post("/portal/sign-in", data={"reference": ref, "pin": "620418"}).is_redirect
    found = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/portal").text)
    assert found
    csrf = found.group(1)

    reply = http.post("/portal/messages", data={"csrf_token": csrf, "text": "hi"},
                      headers=CROSS_SITE)  # fmt: skip
    reopen = http.post("/portal/reopen", data={"csrf_token": csrf, "note": "x"},
                       headers=CROSS_SITE)  # fmt: skip
    choices = http.post("/portal/choices", data={"csrf_token": csrf, "channel": "email",
                        "detail": "someone@elsewhere.example"}, headers=CROSS_SITE)  # fmt: skip
    for answer in (reply, reopen, choices):
        assert answer.status_code in (303, 400), answer.text
        assert answer.headers.get("location", "/portal/sign-in") == "/portal/sign-in"
    with transaction(sessions) as session:
        from_survivor = select(func.count()).where(CaseMessage.direction == "from_survivor")
        assert session.scalar(from_survivor) == 0
        assert lifecycle.pending_reopen_request(session, ref) is None
        assert session.scalar(select(Case.contact_channel).where(Case.reference == ref)) == (
            "portal"
        )
    # The same forms from this site still work.
    same = http.post("/portal/messages", data={"csrf_token": csrf, "text": "hi"},
                     headers={"Sec-Fetch-Site": "same-origin"})  # fmt: skip
    assert same.status_code == 303 and same.headers["location"] == "/portal/messages?sent=1"
