"""Staff sign in with a password (argon2id) and a TOTP code (RFC 6238, pyotp).

- The TOTP secret is made at enrolment, shown once as an ``otpauth://`` URI, and kept
  sealed (AES-256-GCM, the username as associated data) with a data key that the evidence
  master key wraps (scope ``staff:totp``), so a database dump alone gives no codes.
- Every attempt checks both the password and the code, against dummies when the username
  is unknown, so the time taken and the answer are the same whichever part was wrong.
- A code is accepted once (the last time step used is kept), within one step of the clock.
- After 5 failed attempts an account is locked for 1 minute, doubling with each further
  failure up to a day; unknown usernames lock the same way, in memory.
- A staff session is a signed, time-limited cookie (itsdangerous) holding the staff id and
  a CSRF token; each request re-reads the account, so disabling it ends its sessions.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chorus.errors import SessionError, SignInError, StaffAccountError
from chorus.security.lockout import FREE_ATTEMPTS, UnknownNames, lock_for
from chorus.security.models import StaffMember
from chorus.security.policy import STAFF_ROLES, Actor, Role
from chorus.store.base import utcnow

log = logging.getLogger(__name__)
COOKIE = "chorus_staff"
ISSUER = "Chorus"
TOTP_SCOPE = "staff:totp"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
_CODE = re.compile(r"[0-9]{6}")  # ASCII digits only (\d takes any script's)
MIN_PASSWORD, MAX_PASSWORD = 12, 200
_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
_DUMMY_HASH = _HASHER.hash("not-a-password-of-anyone")
_DUMMY_TOTP = pyotp.random_base32()
_WRONG = "Those sign-in details do not match. Please check them and try again."
_UNKNOWN = UnknownNames()


class DataKeys(Protocol):
    """What staff_auth needs of the evidence key ring (``chorus.evidence.keys.KeyRing``)."""

    def data_key(self, session: Session, scope: str, *, create: bool = True) -> bytes: ...


@dataclass(frozen=True)
class StaffInfo:
    id: int
    username: str
    display_name: str
    role: Role
    unit: str
    active: bool
    last_sign_in_at: datetime | None

    @classmethod
    def of(cls, row: StaffMember) -> StaffInfo:
        return cls(
            row.id,
            row.username,
            row.display_name,
            Role(row.role),
            row.unit,
            row.disabled_at is None,
            row.last_sign_in_at,
        )

    @property
    def actor(self) -> Actor:
        return Actor(self.role, self.username)


@dataclass(frozen=True)
class Enrolled:
    staff: StaffInfo
    provisioning_uri: str  # shown once; it holds the TOTP secret


def _seal(keys: DataKeys, session: Session, username: str, secret: str) -> bytes:
    nonce = secrets.token_bytes(12)
    key = keys.data_key(session, TOTP_SCOPE)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode(), f"totp:{username}".encode())


def _unseal(key: bytes, row: StaffMember) -> str:
    sealed = row.totp_sealed
    try:
        plain = AESGCM(key).decrypt(sealed[:12], sealed[12:], f"totp:{row.username}".encode())
    except InvalidTag as exc:
        raise StaffAccountError(
            f"The sign-in code secret of {row.username} does not open; enrol them again."
        ) from exc
    return plain.decode()


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise StaffAccountError(
            f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters; a few "
            "unrelated words make a strong one that is easy to remember."
        )


def add_staff(
    session: Session,
    keys: DataKeys,
    username: str,
    *,
    role: str,
    display_name: str,
    unit: str,
    password: str,
) -> Enrolled:
    """Enrol a staff member; the answer's provisioning URI is the only copy of the secret."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise StaffAccountError(
            "A username is 2 to 40 lowercase letters, digits, dots, dashes or underscores."
        )
    if role not in {r.value for r in STAFF_ROLES}:
        raise StaffAccountError("The role must be caseworker, investigator or admin.")
    if not display_name.strip() or len(display_name) > 120:
        raise StaffAccountError("Give the person's name as colleagues know it (120 at most).")
    if not unit.strip() or len(unit) > 120:
        raise StaffAccountError("Give the person's unit or team (120 characters at most).")
    check_password(password)
    if session.scalar(select(StaffMember.id).where(StaffMember.username == username)):
        raise StaffAccountError(f"There is already a staff account called {username}.")
    secret = pyotp.random_base32(length=32)
    row = StaffMember(
        username=username,
        display_name=display_name.strip(),
        role=role,
        unit=unit.strip(),
        password_hash=_HASHER.hash(password),
        totp_sealed=_seal(keys, session, username, secret),
        totp_last_step=0,
        failures=0,
    )
    session.add(row)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    return Enrolled(StaffInfo.of(row), uri)


def list_staff(session: Session, *, role: Role | None = None) -> list[StaffInfo]:
    query = select(StaffMember).order_by(StaffMember.username)
    if role is not None:
        query = query.where(StaffMember.role == role.value)
    return [StaffInfo.of(row) for row in session.scalars(query)]


def _by_username(session: Session, username: str) -> StaffMember:
    row = session.scalar(select(StaffMember).where(StaffMember.username == username.lower()))
    if row is None:
        raise StaffAccountError(f"There is no staff account called {username}.")
    return row


def find_staff(session: Session, username: str) -> StaffInfo:
    return StaffInfo.of(_by_username(session, username))


def disable_staff(session: Session, username: str) -> StaffInfo:
    """Disable an account at once: it can no longer sign in and its sessions end."""
    row = _by_username(session, username)
    if row.disabled_at is None:
        row.disabled_at = utcnow()
        session.flush()
    return StaffInfo.of(row)


def _code_step(secret: str, code: str, after_step: int, now: datetime) -> int | None:
    """The time step ``code`` belongs to (the current one or either neighbour), if newer
    than ``after_step``. All three candidates are compared, in constant time each."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and step > after_step:
            found = step
    return found


def sign_in(session: Session, keys: DataKeys, username: str, password: str, code: str) -> StaffInfo:
    """The staff member, if password and code are right and the account is usable."""
    now = utcnow()
    username = username.strip().lower()[:40]
    code = code.strip().replace(" ", "")
    row = (  # a name that cannot be a username (a NUL, say) is looked up nowhere
        session.scalar(select(StaffMember).where(StaffMember.username == username))
        if _USERNAME.match(username)
        else None
    )
    try:
        stored = row.password_hash if row else _DUMMY_HASH
        password_ok: bool = _HASHER.verify(stored, password[:200])
    except (VerificationError, InvalidHashError):
        password_ok = False
    # The key is fetched whether or not the username exists, so timing does not tell.
    key = keys.data_key(session, TOTP_SCOPE)
    try:
        secret = _unseal(key, row) if row is not None else _DUMMY_TOTP
    except StaffAccountError as exc:  # told to the operator, never to whoever is signing in
        log.warning("staff sign-in refused: %s", exc.message)
        secret, password_ok = _DUMMY_TOTP, False
    step = _code_step(
        secret, code if _CODE.fullmatch(code) else "------", row.totp_last_step if row else 0, now
    )
    if row is None:
        locked = _UNKNOWN.locked(username, now)
    else:
        locked = row.locked_until is not None and row.locked_until > now
    if locked:
        raise SignInError("Too many attempts. Please wait a few minutes, then try again.")
    if row is None or not password_ok or step is None or row.disabled_at is not None:
        if row is None:
            _UNKNOWN.fail(username, now)
        else:
            row.failures += 1
            if row.failures >= FREE_ATTEMPTS:
                row.locked_until = now + lock_for(row.failures)
        raise SignInError(_WRONG)
    # The code is spent with a conditional UPDATE, so two sign-ins racing with one code
    # (each having read the old last step) cannot both succeed.
    spent = session.execute(  # type: ignore[attr-defined]
        update(StaffMember)
        .where(StaffMember.id == row.id, StaffMember.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise SignInError(_WRONG)
    row.failures, row.locked_until = 0, None
    row.totp_last_step, row.last_sign_in_at = step, now
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
    session.flush()
    return StaffInfo.of(row)


@dataclass(frozen=True)
class StaffSession:
    staff: StaffInfo
    csrf_token: str

    @property
    def actor(self) -> Actor:
        return self.staff.actor

    def check_csrf(self, token: str | None) -> None:
        if not token or not hmac.compare_digest(token.encode(), self.csrf_token.encode()):
            raise SessionError("This page has expired. Please go back, reload it and try again.")


class StaffSessionSigner:
    """Signed, time-limited staff session cookies (a salt of their own: a survivor's cookie
    never passes as a staff one)."""

    def __init__(self, secret: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="chorus-staff-session")
        self.max_age_s = max_age_s

    def issue(self, staff: StaffInfo) -> tuple[str, str]:
        """A cookie value and the session's CSRF token."""
        csrf = secrets.token_urlsafe(24)
        issued = utcnow().timestamp()
        return self._serializer.dumps({"sid": staff.id, "csrf": csrf, "iat": issued}), csrf

    def read(self, session: Session, cookie: str | None) -> StaffSession:
        if not cookie:
            raise SessionError("Please sign in.")
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature as exc:
            raise SessionError("Your session has ended. Please sign in again.") from exc
        row = session.get(StaffMember, int(data["sid"]))
        if row is None or row.disabled_at is not None:
            raise SessionError("Your session has ended. Please sign in again.")
        ended = row.sessions_ended_at
        if ended is not None and float(data.get("iat", 0)) <= ended.timestamp():
            raise SessionError("Your session has ended. Please sign in again.")
        return StaffSession(StaffInfo.of(row), str(data["csrf"]))


def end_sessions(session: Session, staff_id: int) -> None:
    """Sign out: every session of this staff member issued until now ends, wherever its
    cookie is (another device, a copied cookie)."""
    row = session.get(StaffMember, staff_id)
    if row is not None:
        row.sessions_ended_at = utcnow()
        session.flush()
