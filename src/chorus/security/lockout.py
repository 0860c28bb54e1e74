"""Lockout with back-off after repeated failed sign-ins, shared by survivors and staff.

After ``FREE_ATTEMPTS`` failures a name (a case reference, a staff username) is locked for
1 minute, doubling with each further failure up to a day. Names that do not exist are
counted the same way, in memory (:class:`UnknownNames`), so the answers never reveal
whether a name exists.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

FREE_ATTEMPTS = 5
MAX_LOCK = timedelta(days=1)


def lock_for(failures: int) -> timedelta:
    """How long a name is locked after its ``failures``-th failure in a row."""
    return min(MAX_LOCK, timedelta(minutes=2 ** (failures - FREE_ATTEMPTS)))


class UnknownNames:
    """Failed attempts on names that do not exist, so they lock like real ones."""

    def __init__(self, limit: int = 100_000) -> None:
        self._failures: dict[str, tuple[int, datetime | None]] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def locked(self, name: str, now: datetime) -> bool:
        _count, until = self._failures.get(name, (0, None))
        return until is not None and until > now

    def fail(self, name: str, now: datetime) -> None:
        with self._lock:
            if len(self._failures) >= self._limit:
                self._failures.clear()
            count = self._failures.get(name, (0, None))[0] + 1
            until = now + lock_for(count) if count >= FREE_ATTEMPTS else None
            self._failures[name] = (count, until)
