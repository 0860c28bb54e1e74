"""The per-host gate shared by every monitor process on one database.

Each process keeps its own gate (one request at a time per host, ``interval`` apart) as
the fast path; on top of it, before each request the process reserves the host's next
slot in ``monitor_host_slots``, so two workers sharing one PostgreSQL (or one SQLite file)
never hit a host more often than one worker would.

A reservation is one short transaction that holds the host's row while it reads and
moves it: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the transaction writes
first (an upsert), which takes the database's write lock before anything is read, the
same as ``BEGIN IMMEDIATE``. The slot's time is wall-clock time, as workers on several
machines share it (keep their clocks in sync with NTP, as any server's should be).

A worker takes the host when ``next_at`` has passed, by moving ``next_at`` a lease ahead
(longer than any request may take); when its request ends it sets ``next_at`` to one
interval after the end. So, across processes as within one, there is one request at a
time per host and at least the interval between the end of one and the start of the
next. Other workers wanting the host look again every fraction of the interval; a
killed worker's lease simply runs out. With an interval of 0 nothing is written.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from chorus.monitor.models import HostSlot
from chorus.store.session import transaction

log = logging.getLogger(__name__)

MAX_HOST = 255


class HostSlots:
    """Take and give back per-host slots in the database (see the module's docstring)."""

    def __init__(self, sessions: sessionmaker[Session], *, lease_s: float = 60.0) -> None:
        self.sessions = sessions
        self.lease_s = lease_s

    def _locked(self, session: Session, host: str) -> float:
        """The host's ``next_at``, with its row held until the transaction ends."""
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(  # a write first: on SQLite this takes the write lock
            insert(HostSlot).values(host=host, next_at=0.0).on_conflict_do_nothing()
        )
        query = select(HostSlot.next_at).where(HostSlot.host == host)
        if dialect == "postgresql":
            query = query.with_for_update()
        return float(session.scalar(query) or 0.0)

    def _set(self, session: Session, host: str, next_at: float) -> None:
        session.execute(update(HostSlot).where(HostSlot.host == host).values(next_at=next_at))

    def try_take(self, host: str) -> float | None:
        """Take ``host`` now (None) or say when it is next free (a wall-clock time)."""
        host = host.lower()[:MAX_HOST]
        with transaction(self.sessions) as session:
            next_at = self._locked(session, host)
            now = time.time()  # read the clock only once the row is held
            if now < next_at:
                return next_at
            self._set(session, host, now + self.lease_s)
        return None

    def give_back(self, host: str, interval: float) -> None:
        """The request to ``host`` has ended: the next may start one interval from now."""
        host = host.lower()[:MAX_HOST]
        with transaction(self.sessions) as session:
            self._locked(session, host)
            self._set(session, host, time.time() + interval)

    def wait(self, host: str, interval: float) -> None:
        """Block until this worker holds ``host`` (the fetcher calls this before a request).

        A database that cannot be reached leaves the process's own gate in charge
        (logged): politeness per process is kept, and the monitor goes on.
        """
        if interval <= 0:
            return
        poll = max(0.02, min(0.2, interval / 4))
        while True:
            try:
                free_at = self.try_take(host)
            except SQLAlchemyError as exc:
                log.warning("shared host gate unavailable for %s; this process's gate only: %s",
                            host, exc)  # fmt: skip
                return
            if free_at is None:
                return
            time.sleep(min(poll, max(free_at - time.time(), 0.0)) or 0.001)

    def release(self, host: str, interval: float) -> None:
        """After a request to ``host`` (the fetcher calls this)."""
        if interval <= 0:
            return
        try:
            self.give_back(host, interval)
        except SQLAlchemyError as exc:  # the lease runs out by itself
            log.warning("could not give back the shared host gate for %s: %s", host, exc)
