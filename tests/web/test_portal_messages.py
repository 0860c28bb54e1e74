"""The portal as a survivor meets a named contact, messages and a closed case, without
JavaScript, on a real server over the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import lifecycle, messages, named_contact, service
from chorus.cases.contact import ContactChoices
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import CaseMessage
from chorus.cases.named_contact import NamedContact
from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.security import survivor_auth
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction
from tests.web.server import running_server

DUTY = {"duty_contact_name": "The duty caseworker", "duty_contact_unit": "Example Helpline",
        "duty_contact_reach": "0300 123 4567, weekdays 9am to 5pm"}  # fmt: skip
SAM = NamedContact("Sam Okoro", "Example Helpline", "07700 900456, Tuesday to Friday 10am-6pm")
CASEWORKER = Actor(Role.CASEWORKER, "cw-3")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with running_server(database_url, tmp_path / "var", **DUTY) as base:
        yield base


@pytest.fixture
def keyring(database_url: str, tmp_path: Path) -> KeyRing:  # the server's keys
    return KeyRing(Settings(env="test", secret_key="t" * 40, database_url=database_url,
                            evidence_signing_key=base64.b64encode(b"s" * 32).decode(),  # type: ignore[arg-type]
                            evidence_master_key=base64.b64encode(b"m" * 32).decode()))  # type: ignore[arg-type]  # fmt: skip


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_contact_messages_reply_closed_and_reopen(
    server: str, sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    with transaction(sessions) as session:
        ref = service.file_report(
            session, keyring, IntakeAnswers(what_was_shared="photos"),
            contact_choices=ContactChoices(channel="email", detail="amy@example.org"),
        ).case_reference  # fmt: skip
        survivor_auth.set_pin(session, ref, "620418")
    http = httpx.Client(base_url=server)
    assert http.post("/portal/sign-in", data={"reference": ref, "pin": "620418"}).is_redirect
    home = http.get("/portal").text
    assert "The duty caseworker</strong>, Example Helpline" in home
    assert "0300 123 4567, weekdays 9am to 5pm" in home and "duty contact for new cases" in home
    assert "new message" not in home

    with transaction(sessions) as session:
        named_contact.assign_contact(session, keyring, CASEWORKER, ref, SAM)
        text = "Hello, I am Sam.\n\n<img src=x onerror=alert(1)> We found a copy."
        messages.send_message(session, keyring, CASEWORKER, ref, text)
    home = http.get("/portal").text
    assert "Sam Okoro</strong>, Example Helpline" in home and "07700 900456" in home
    assert "You have 2 new\n      messages" in home
    csrf = _csrf(home)
    page = http.get("/portal/messages").text
    assert page.count("<strong>New</strong>") == 2
    assert "<img" not in page and "&lt;img src=x" in page  # text only, escaped
    assert page.index("Hello, I am Sam.") < page.index("is now your named contact")  # newest
    assert "<strong>New</strong>" not in http.get("/portal/messages").text  # now read
    assert "new message" not in http.get("/portal").text

    forged = http.post("/portal/messages", data={"csrf_token": "forged", "text": "hi"})
    assert forged.headers["location"] == "/portal/sign-in"
    empty = http.post("/portal/messages", data={"csrf_token": csrf, "text": "   "})
    assert empty.status_code == 422 and "The message is empty" in empty.text
    sent = http.post("/portal/messages", data={"csrf_token": csrf, "text": "Thank you, Sam."})
    assert sent.status_code == 303
    assert "Your message was sent" in http.get(sent.headers["location"]).text
    with transaction(sessions) as session:
        replies = session.scalars(select(CaseMessage.direction)).all()
        assert sorted(replies) == ["from_survivor", "to_survivor", "to_survivor"]
        assert messages.for_staff(session, keyring, CASEWORKER, ref)[0].text == "Thank you, Sam."
        why = "The copies were removed and the site took the thread down."
        lifecycle.close_case(session, keyring, CASEWORKER, ref, contact=SAM, reason=why)

    home = http.get("/portal").text
    assert "Your case is closed" in home and f"Your case {ref}" in home
    assert "Ask for my case to be reopened" in home
    assert "Your case was closed." in home  # the timeline
    closing = http.get("/portal/messages").text
    assert "The reason we recorded: The copies were removed" in closing
    assert http.post("/portal/reopen", data={"csrf_token": "x"}).headers["location"] == (
        "/portal/sign-in"
    )
    asked = http.post("/portal/reopen", data={"csrf_token": csrf, "note": "They are back."})
    assert asked.status_code == 303
    home = http.get(asked.headers["location"]).text
    assert "You asked for your case to be reopened" in home
    assert "Ask for my case to be reopened" not in home
    again = http.post("/portal/reopen", data={"csrf_token": csrf})
    assert again.status_code == 422 and "already asked" in again.text
    with transaction(sessions) as session:
        assert lifecycle.pending_reopen_request(session, ref) is not None
