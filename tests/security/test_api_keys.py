"""API keys: shown once, stored as a digest, scoped, revocable, rate-limited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.errors import InvalidApiKeyError, RateLimitedError, ScopeError
from chorus.security import api_keys
from chorus.security.models import ApiKey
from chorus.store.session import transaction


def test_key_is_stored_as_a_digest_only(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        key = api_keys.create_key(session, "Platform A", ["lookup"])
    secret = key.token.split("_", 2)[2]
    with transaction(sessions) as session:
        row = session.scalar(select(ApiKey))
        assert row is not None
        assert secret not in (row.secret_digest, row.key_id, row.name)
        assert len(row.secret_digest) == 64
        assert api_keys.authenticate(session, key.token, "lookup").key_id == key.key_id


@pytest.mark.parametrize(
    "token",
    [None, "", "nonsense", "chorus_x_y", "chorus_abc_def_ghi", "Bearer chorus_1_2"],
)
def test_bad_tokens_are_refused(sessions: sessionmaker[Session], token: str | None) -> None:
    with transaction(sessions) as session:
        api_keys.create_key(session, "Platform A", ["lookup"])
        with pytest.raises(InvalidApiKeyError):
            api_keys.authenticate(session, token, "lookup")


def test_wrong_secret_scope_and_revocation(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        key = api_keys.create_key(session, "Platform A", ["lookup", "feedback"])
    prefix, key_id, secret = key.token.split("_", 2)
    with transaction(sessions) as session:
        with pytest.raises(InvalidApiKeyError):
            api_keys.authenticate(session, f"{prefix}_{key_id}_{secret[:-1]}x", "lookup")
        with pytest.raises(ScopeError):
            api_keys.authenticate(session, key.token, "exchange")
        api_keys.revoke_key(session, key.key_id)
    with transaction(sessions) as session, pytest.raises(InvalidApiKeyError, match="revoked"):
        api_keys.authenticate(session, key.token, "lookup")


def test_unknown_scopes_are_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session, pytest.raises(ScopeError):
        api_keys.create_key(session, "Platform A", ["root"])


def test_rate_limit_per_key() -> None:
    limiter = api_keys.RateLimiter()
    for _ in range(5):
        limiter.check("a", per_minute=5)
    with pytest.raises(RateLimitedError, match="try again"):
        limiter.check("a", per_minute=5)
    limiter.check("b", per_minute=5)  # other keys are unaffected
