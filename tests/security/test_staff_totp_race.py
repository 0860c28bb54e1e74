"""A TOTP code is used once even when two sign-ins with it race: the second one, which read
the account before the first was saved, is refused when it tries to record the code."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pyotp
import pytest
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


def test_a_code_replayed_in_a_race_is_refused(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    with transaction(sessions) as session:
        enrolled = staff_auth.add_staff(session, keyring, "a.khan", role="caseworker",
                                        display_name="Aisha Khan", unit="Victim Care",
                                        password=PASSWORD)  # fmt: skip
        keyring.data_key(session, staff_auth.TOTP_SCOPE)
    secret = pyotp.parse_uri(enrolled.provisioning_uri).secret
    code = pyotp.TOTP(secret).now()
    late = sessions()
    try:
        stale = late.get(StaffMember, enrolled.staff.id)  # read before the first is saved
        assert stale is not None and stale.totp_last_step == 0
        with transaction(sessions) as first:
            staff_auth.sign_in(first, keyring, "a.khan", PASSWORD, code)
        with pytest.raises(SignInError, match="do not match"):
            staff_auth.sign_in(late, keyring, "a.khan", PASSWORD, code)
    finally:
        late.close()
