"""A NUL character typed or sent in a sign-in field is a wrong answer, never a crash
(PostgreSQL refuses NUL in text, so such a value must not reach a query)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import SignInError
from chorus.evidence.keys import KeyRing
from chorus.security import staff_auth, survivor_auth
from chorus.store.session import transaction


@pytest.fixture
def keyring(database_url: str, tmp_path: Path) -> KeyRing:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return KeyRing(Settings(env="test", secret_key="t" * 40, database_url=database_url,
                            data_dir=tmp_path, evidence_signing_key=key,  # type: ignore[arg-type]
                            evidence_master_key=key))  # type: ignore[arg-type]  # fmt: skip


def test_nul_in_a_staff_username_is_a_wrong_answer(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    with transaction(sessions) as session, pytest.raises(SignInError, match="do not match"):
        staff_auth.sign_in(session, keyring, "a.khan\x00", "a long staff passphrase", "123456")


def test_nul_in_a_case_reference_is_a_wrong_answer(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session, pytest.raises(SignInError):
        survivor_auth.sign_in(session, "CH-AAAA\x00", "620418")
