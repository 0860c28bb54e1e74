"""Survivor sign-in: argon2id PINs, no hint of which part was wrong, lockout with back-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.errors import SessionError, SignInError
from chorus.security import survivor_auth
from chorus.security.models import SurvivorCredential
from chorus.security.survivor_auth import SessionSigner
from chorus.store.session import transaction


def test_pins_are_argon2id_and_sign_in_is_case_insensitive(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        with pytest.raises(SignInError, match="6 to 12 digits"):
            survivor_auth.set_pin(session, "CH-AAAA-BBBB", "1234")
        survivor_auth.set_pin(session, "CH-AAAA-BBBB", "482913")
        row = session.get(SurvivorCredential, "CH-AAAA-BBBB")
        assert row is not None and row.pin_hash.startswith("$argon2id$")
        assert "482913" not in row.pin_hash
        assert survivor_auth.sign_in(session, " ch-aaaa-bbbb ", "482913") == "CH-AAAA-BBBB"


def test_wrong_pin_and_unknown_reference_read_the_same_and_both_lock(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        survivor_auth.set_pin(session, "CH-CCCC-DDDD", "739201")
    messages = set()
    for reference in ("CH-CCCC-DDDD", "CH-NONE-NONE"):
        for _ in range(survivor_auth.FREE_ATTEMPTS):
            with transaction(sessions) as session, pytest.raises(SignInError) as caught:
                survivor_auth.sign_in(session, reference, "000000")
            messages.add(caught.value.message)
        with transaction(sessions) as session, pytest.raises(SignInError, match="wait"):
            survivor_auth.sign_in(session, reference, "739201")  # even the right PIN waits
    assert len(messages) == 1 and "do not match" in messages.pop()
    with transaction(sessions) as session:
        row = session.get(SurvivorCredential, "CH-CCCC-DDDD")
        assert row is not None and row.locked_until is not None
        row.locked_until -= timedelta(minutes=2)  # the lock runs out
    with transaction(sessions) as session:
        assert survivor_auth.sign_in(session, "CH-CCCC-DDDD", "739201") == "CH-CCCC-DDDD"
        row = session.get(SurvivorCredential, "CH-CCCC-DDDD")
        assert row is not None and row.failures == 0


def test_sessions_are_signed_and_carry_a_csrf_token() -> None:
    signer = SessionSigner("s" * 40)
    cookie, survivor = signer.issue("CH-AAAA-BBBB")
    again = signer.read(cookie)
    assert again == survivor
    again.check_csrf(survivor.csrf_token)
    with pytest.raises(SessionError):
        again.check_csrf("forged")
    with pytest.raises(SessionError):
        again.check_csrf(None)
    with pytest.raises(SessionError):
        SessionSigner("t" * 40).read(cookie)
    with pytest.raises(SessionError):
        signer.read(cookie[:-2] + "xx")
