"""Survivors sign in with their case reference and a PIN they chose.

- PINs are hashed with argon2id (argon2-cffi); a wrong reference costs the same time as a
  wrong PIN (a dummy hash is checked), and the answer never says which part was wrong.
- After 5 failed attempts a reference is locked for 1 minute, doubling with each further
  failure up to a day. Unknown references are counted the same way, in memory, so the
  answers do not reveal whether a reference exists.
- A signed-in session is a signed, time-limited cookie (itsdangerous) holding the
  reference and a CSRF token that every change must send back in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from chorus.errors import SessionError, SignInError
from chorus.security.lockout import FREE_ATTEMPTS, UnknownNames, lock_for
from chorus.security.models import SurvivorCredential
from chorus.store.base import utcnow

SESSION_MAX_AGE_S = 30 * 60
COOKIE = "chorus_survivor"
_PIN = re.compile(r"^\d{6,12}$")
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY = _HASHER.hash("000000-not-a-pin")
_WRONG = "That case reference and PIN do not match. Please check both and try again."


def check_pin_format(pin: str) -> None:
    if not _PIN.match(pin):
        raise SignInError("Choose a PIN of 6 to 12 digits.")


def set_pin(session: Session, reference: str, pin: str) -> None:
    check_pin_format(pin)
    row = session.get(SurvivorCredential, reference)
    if row is None:
        session.add(SurvivorCredential(reference=reference, pin_hash=_HASHER.hash(pin), failures=0))
    else:
        row.pin_hash, row.failures, row.locked_until = _HASHER.hash(pin), 0, None
    session.flush()


def forget(session: Session, reference: str) -> None:
    """Remove a case's PIN (its data was deleted): the reference no longer signs in."""
    row = session.get(SurvivorCredential, reference)
    if row is not None:
        session.delete(row)
        session.flush()


_UNKNOWN = UnknownNames()


def sign_in(session: Session, reference: str, pin: str) -> str:
    """The reference, if ``pin`` is right and the reference is not locked; else SignInError."""
    now = utcnow()
    reference = reference.strip().upper()
    storable = len(reference) <= 20 and "\x00" not in reference  # PostgreSQL refuses NUL
    row = session.get(SurvivorCredential, reference) if storable else None
    locked = (row.locked_until is not None and row.locked_until > now) if row else (
        _UNKNOWN.locked(reference, now)
    )  # fmt: skip
    try:
        ok = _HASHER.verify(row.pin_hash if row else _DUMMY, pin) and row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if locked:
        raise SignInError("Too many attempts. Please wait a few minutes, then try again.")
    if not ok:
        if row is None:
            _UNKNOWN.fail(reference, now)
        else:
            row.failures += 1
            if row.failures >= FREE_ATTEMPTS:
                row.locked_until = now + lock_for(row.failures)
        raise SignInError(_WRONG)
    assert row is not None
    row.failures, row.locked_until = 0, None
    return reference


@dataclass(frozen=True)
class SurvivorSession:
    reference: str
    csrf_token: str

    def check_csrf(self, token: str | None) -> None:
        if not token or not hmac.compare_digest(token.encode(), self.csrf_token.encode()):
            raise SessionError("This page has expired. Please reload it and try again.")


class SessionSigner:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="chorus-survivor-session")

    def issue(self, reference: str) -> tuple[str, SurvivorSession]:
        survivor = SurvivorSession(reference, secrets.token_urlsafe(24))
        cookie = self._serializer.dumps({"ref": survivor.reference, "csrf": survivor.csrf_token})
        return cookie, survivor

    def read(self, cookie: str | None) -> SurvivorSession:
        if not cookie:
            raise SessionError("Please sign in with your case reference and PIN.")
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE_S)
        except BadSignature as exc:
            raise SessionError("Your session has ended. Please sign in again.") from exc
        return SurvivorSession(str(data["ref"]), str(data["csrf"]))
