"""Request dependencies: a database session per request, and the partner's API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from chorus.matching.lookup import BankIndex
from chorus.matching.quarantine import QuarantinePolicy
from chorus.security import api_keys
from chorus.security.models import ApiKey

bearer = HTTPBearer(auto_error=False, description="A partner API key: `chorus_<id>_<secret>`")


def get_session(request: Request) -> Iterator[Session]:
    factory = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


#: scope="function": the transaction commits before the response is sent, so a client that
#: got "revoked" or "withdrawn" back can rely on it (the default scope commits afterwards).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_index(request: Request) -> BankIndex:
    index: BankIndex = request.app.state.bank_index
    return index


IndexDep = Annotated[BankIndex, Depends(get_index)]


def get_policy(request: Request) -> QuarantinePolicy:
    policy: QuarantinePolicy = request.app.state.quarantine_policy
    return policy


PolicyDep = Annotated[QuarantinePolicy, Depends(get_policy)]


def _key_for(scope: str) -> Callable[..., ApiKey]:
    def dependency(
        request: Request,
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiKey:
        token = credentials.credentials if credentials else None
        key = api_keys.authenticate(session, token, scope)
        request.app.state.rate_limiter.check(key.key_id, key.rate_limit_per_minute)
        return key

    return dependency


LookupKey = Annotated[ApiKey, Depends(_key_for("lookup"))]
ExchangeKey = Annotated[ApiKey, Depends(_key_for("exchange"))]
FeedbackKey = Annotated[ApiKey, Depends(_key_for("feedback"))]
BankKey = Annotated[ApiKey, Depends(_key_for("bank"))]
AdminKey = Annotated[ApiKey, Depends(_key_for("admin"))]
