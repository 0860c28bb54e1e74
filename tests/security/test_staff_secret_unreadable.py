"""An account whose sign-in code secret no longer opens (a master key rotated without its
predecessor, a damaged row) refuses sign-in with the usual answer: the page never says
that the account exists, and never crashes."""

from __future__ import annotations

import base64
import logging
import secrets
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import SignInError
from chorus.evidence.keys import KeyRing
from chorus.security import staff_auth
from chorus.security.models import StaffMember
from chorus.store.session import transaction

PASSWORD = "correct horse battery staple"


@pytest.fixture
def keyring(database_url: str, tmp_path: Path) -> KeyRing:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return KeyRing(Settings(env="test", secret_key="t" * 40, database_url=database_url,
                            data_dir=tmp_path, evidence_signing_key=key,  # type: ignore[arg-type]
                            evidence_master_key=key))  # type: ignore[arg-type]  # fmt: skip


def test_an_unreadable_secret_gets_the_usual_answer(
    sessions: sessionmaker[Session], keyring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    with transaction(sessions) as session:
        enrolled = staff_auth.add_staff(session, keyring, "a.khan", role="caseworker",
                                        display_name="Aisha Khan", unit="Victim Care",
                                        password=PASSWORD)  # fmt: skip
        session.execute(update(StaffMember).values(totp_sealed=b"\x00" * 40))
    code = pyotp.TOTP(pyotp.parse_uri(enrolled.provisioning_uri).secret).now()
    caplog.set_level(logging.WARNING, logger="chorus.security.staff_auth")
    with transaction(sessions) as session, pytest.raises(SignInError, match="do not match"):
        staff_auth.sign_in(session, keyring, "a.khan", PASSWORD, code)
    assert "enrol them again" in caplog.text  # the operator is told, in the log
