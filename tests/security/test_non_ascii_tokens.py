"""Codes and CSRF tokens are compared as bytes: a value with non-ASCII characters (digits
from another script, an accented letter) is simply wrong, never a crash (``hmac`` refuses
to compare such strings)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import SessionError, SignInError
from chorus.evidence.keys import KeyRing
from chorus.security import staff_auth
from chorus.security.policy import Role
from chorus.security.staff_auth import StaffInfo, StaffSession
from chorus.security.survivor_auth import SurvivorSession
from chorus.store.session import transaction

PASSWORD = "correct horse battery staple"


@pytest.fixture
def keyring(database_url: str, tmp_path: Path) -> KeyRing:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return KeyRing(Settings(env="test", secret_key="t" * 40, database_url=database_url,
                            data_dir=tmp_path, evidence_signing_key=key,  # type: ignore[arg-type]
                            evidence_master_key=key))  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "１２３４５６", "12345é"])
def test_a_code_in_other_digits_is_wrong_not_a_crash(
    sessions: sessionmaker[Session], keyring: KeyRing, code: str
) -> None:
    with transaction(sessions) as session:
        staff_auth.add_staff(session, keyring, "a.khan", role="caseworker",
                             display_name="Aisha Khan", unit="Victim Care",
                             password=PASSWORD)  # fmt: skip
    with transaction(sessions) as session, pytest.raises(SignInError, match="do not match"):
        staff_auth.sign_in(session, keyring, "a.khan", PASSWORD, code)


@pytest.mark.parametrize("token", ["é" * 32, "токен", "\u00ff"])
def test_a_csrf_token_with_other_characters_is_refused(token: str) -> None:
    staff = StaffInfo(1, "a.khan", "Aisha Khan", Role.CASEWORKER, "Victim Care", True, None)
    with pytest.raises(SessionError):
        StaffSession(staff, "x" * 32).check_csrf(token)
    with pytest.raises(SessionError):
        SurvivorSession("CH-AAAA-BBBB", "x" * 32).check_csrf(token)
