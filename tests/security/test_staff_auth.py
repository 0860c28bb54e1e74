"""Staff sign-in: argon2id password + TOTP sealed at rest, one answer for every wrong part,
codes used once, lockout with back-off, sessions that end when the account is disabled."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import SessionError, SignInError, StaffAccountError
from chorus.evidence.keys import KeyRing
from chorus.security import staff_auth
from chorus.security.models import StaffMember
from chorus.security.policy import Role
from chorus.security.staff_auth import StaffSessionSigner
from chorus.store.session import transaction

PASSWORD = "correct horse battery staple"


@pytest.fixture
def keyring(database_url: str, tmp_path: Path) -> KeyRing:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return KeyRing(Settings(env="test", secret_key="t" * 40, database_url=database_url,
                            data_dir=tmp_path, evidence_signing_key=key,  # type: ignore[arg-type]
                            evidence_master_key=key))  # type: ignore[arg-type]  # fmt: skip


def enrol(sessions: sessionmaker[Session], keyring: KeyRing, username: str = "a.khan") -> str:
    with transaction(sessions) as session:
        enrolled = staff_auth.add_staff(session, keyring, username, role="caseworker",
                                        display_name="Aisha Khan", unit="Victim Care",
                                        password=PASSWORD)  # fmt: skip
    uri = urlsplit(enrolled.provisioning_uri)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    return parse_qs(uri.query)["secret"][0]


def test_enrolment_seals_the_secret_and_hashes_the_password(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    secret = enrol(sessions, keyring)
    with transaction(sessions) as session:
        row = session.query(StaffMember).one()
        assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
        assert secret.encode() not in row.totp_sealed
        staff = staff_auth.sign_in(session, keyring, "A.Khan", PASSWORD, pyotp.TOTP(secret).now())
        assert staff.role is Role.CASEWORKER and staff.actor.label == "caseworker:a.khan"
        listed = staff_auth.list_staff(session)
        assert [s.username for s in listed] == ["a.khan"] and listed[0].last_sign_in_at


@pytest.mark.parametrize(
    ("username", "role", "password", "message"),
    [("A K", "caseworker", PASSWORD, "lowercase"), ("bo", "survivor", PASSWORD, "role"),
     ("bo", "admin", "short", "12 to 200"), ("a.khan", "admin", PASSWORD, "already")],
)  # fmt: skip
def test_bad_accounts_are_refused_and_change_nothing(
    sessions: sessionmaker[Session], keyring: KeyRing, username: str, role: str,
    password: str, message: str,
) -> None:  # fmt: skip
    enrol(sessions, keyring)
    with transaction(sessions) as session, pytest.raises(StaffAccountError, match=message):
        staff_auth.add_staff(session, keyring, username, role=role, display_name="B O",
                             unit="Unit", password=password)  # fmt: skip
    with transaction(sessions) as session:
        assert session.query(StaffMember).count() == 1


def test_every_wrong_part_gets_the_same_answer_and_codes_work_once(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    secret = enrol(sessions, keyring)
    code = pyotp.TOTP(secret).now()
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"
    answers = set()
    with transaction(sessions) as session:
        for username, password, attempt in [
            ("a.khan", "wrong password!!", code),
            ("a.khan", PASSWORD, wrong_code),
            ("nobody", PASSWORD, code),
            ("a.khan", PASSWORD, ""),
        ]:
            with pytest.raises(SignInError) as caught:
                staff_auth.sign_in(session, keyring, username, password, attempt)
            answers.add(caught.value.message)
        assert len(answers) == 1
        # A fresh code: on a loaded machine the wrong attempts above (argon2 on purpose)
        # can outlast the first code's window.
        fresh = pyotp.TOTP(secret).now()
        staff_auth.sign_in(session, keyring, "a.khan", PASSWORD, fresh)
        with pytest.raises(SignInError, match="do not match"):  # the same code again: replay
            staff_auth.sign_in(session, keyring, "a.khan", PASSWORD, fresh)


def test_repeated_failures_lock_with_back_off_even_for_the_right_details(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    secret = enrol(sessions, keyring)
    with transaction(sessions) as session:
        for _ in range(staff_auth.FREE_ATTEMPTS):
            with pytest.raises(SignInError, match="do not match"):
                staff_auth.sign_in(session, keyring, "a.khan", "not the password", "000000")
        row = session.query(StaffMember).one()
        assert row.locked_until is not None
        first_lock = row.locked_until - row.created_at
        with pytest.raises(SignInError, match="Too many attempts"):
            staff_auth.sign_in(session, keyring, "a.khan", PASSWORD, pyotp.TOTP(secret).now())
        row.locked_until = None
        with pytest.raises(SignInError, match="do not match"):
            staff_auth.sign_in(session, keyring, "a.khan", "still not it", "000000")
        assert row.locked_until - row.created_at > first_lock + timedelta(seconds=30)
    with transaction(sessions) as session:
        for _ in range(staff_auth.FREE_ATTEMPTS):
            with pytest.raises(SignInError, match="do not match"):
                staff_auth.sign_in(session, keyring, "ghost", PASSWORD, "123456")
        with pytest.raises(SignInError, match="Too many attempts"):
            staff_auth.sign_in(session, keyring, "ghost", PASSWORD, "123456")


def test_sessions_are_signed_and_end_when_the_account_is_disabled(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    secret = enrol(sessions, keyring)
    signer = StaffSessionSigner("s" * 40, max_age_s=600)
    with transaction(sessions) as session:
        staff = staff_auth.sign_in(session, keyring, "a.khan", PASSWORD, pyotp.TOTP(secret).now())
        cookie, csrf = signer.issue(staff)
        current = signer.read(session, cookie)
        assert current.staff.username == "a.khan"
        current.check_csrf(csrf)
        with pytest.raises(SessionError):
            current.check_csrf("forged")
        with pytest.raises(SessionError):
            signer.read(session, cookie[:-2] + "xx")
        with pytest.raises(SessionError):
            StaffSessionSigner("other" * 10, 600).read(session, cookie)
        staff_auth.disable_staff(session, "a.khan")
        with pytest.raises(SessionError):
            signer.read(session, cookie)
        with pytest.raises(SignInError, match="do not match"):
            staff_auth.sign_in(session, keyring, "a.khan", PASSWORD, pyotp.TOTP(secret).now())
