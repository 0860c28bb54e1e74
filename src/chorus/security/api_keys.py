"""Partner API keys: random, shown once, stored as a digest, scoped, revocable, rate-limited.

A key looks like ``chorus_<key id>_<secret>``. Only SHA-256 of the secret is stored: the
secret has 256 bits of entropy, so a slow password hash adds nothing but latency.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.errors import InvalidApiKeyError, RateLimitedError, ScopeError
from chorus.security.models import ApiKey
from chorus.store.base import utcnow

#: lookup, exchange, feedback: for partner platforms. bank: register and withdraw
#: fingerprints (caseworkers' tools). admin: manage keys.
SCOPES: Final = ("lookup", "exchange", "feedback", "bank", "admin")
PREFIX: Final = "chorus"
DEFAULT_RATE_LIMIT: Final = 600


@dataclass(frozen=True)
class NewKey:
    key_id: str
    token: str  # shown once; never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session,
    name: str,
    scopes: Iterable[str],
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
) -> NewKey:
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if not wanted or unknown:
        raise ScopeError(f"Scopes must be some of {', '.join(SCOPES)}; got {wanted or 'none'}.")
    if not name.strip():
        raise ScopeError("Give the key a name that says who holds it.")
    if rate_limit_per_minute < 1:
        raise ScopeError("The rate limit must be at least 1 request a minute.")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            key_id=key_id,
            name=name.strip(),
            secret_digest=_digest(secret),
            scopes=",".join(wanted),
            rate_limit_per_minute=rate_limit_per_minute,
        )
    )
    session.flush()
    return NewKey(key_id=key_id, token=f"{PREFIX}_{key_id}_{secret}")


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if key is None:
        raise InvalidApiKeyError(f"No API key has the id {key_id!r}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def authenticate(session: Session, token: str | None, scope: str) -> ApiKey:
    """The key for ``token`` if it is valid, unrevoked and has ``scope``."""
    if not token:
        raise InvalidApiKeyError("An API key is required (header: Authorization: Bearer ...).")
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise InvalidApiKeyError("That is not a Chorus API key.")
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == parts[1]))
    if key is None or not hmac.compare_digest(key.secret_digest, _digest(parts[2])):
        raise InvalidApiKeyError("That API key is not valid.")
    if key.revoked_at is not None:
        raise InvalidApiKeyError("That API key has been revoked.")
    if scope not in key.scopes.split(","):
        raise ScopeError(f"This API key may not use '{scope}'; ask for a key with that scope.")
    key.last_used_at = utcnow()
    return key


@dataclass
class RateLimiter:
    """Token buckets per key, in this process (each server process limits on its own)."""

    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, key_id: str, per_minute: int, cost: int = 1) -> None:
        now = time.monotonic()
        rate = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens < cost:
                self._buckets[key_id] = (tokens, now)
                wait = (cost - tokens) / rate
                raise RateLimitedError(
                    f"Too many requests with this API key; try again in {wait:.0f} s."
                )
            self._buckets[key_id] = (tokens - cost, now)
