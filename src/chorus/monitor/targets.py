"""Monitor targets: add, list, pause, and claim due ones so that no two workers share one.

Claims are conditional updates (``... WHERE id = ? AND claim is free``), checked by row
count: correct on SQLite and PostgreSQL alike; on PostgreSQL the candidate rows are also
read with ``FOR UPDATE SKIP LOCKED`` so busy workers do not queue on each other. A claim
is a lease: a killed worker's claims expire and are taken again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from chorus.errors import MonitorError
from chorus.monitor.fetch import blocked_service
from chorus.monitor.models import MonitorTarget
from chorus.monitor.sources import KINDS
from chorus.store.base import utcnow

REPORTED = "reported"  # a person asked for this URL to be watched (robots.txt not applied)
DISCOVERED = "discovered"  # found by the monitor itself (robots.txt applied)


def add(
    session: Session, url: str, kind: str, *, purpose: str = REPORTED, interval_s: int = 60
) -> MonitorTarget:
    if kind not in KINDS:
        raise MonitorError(f"Unknown source kind {kind!r}; use one of {', '.join(KINDS)}.")
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise MonitorError("A monitor target is an http(s) URL of at most 2,000 characters.")
    if blocked_service(url):
        raise MonitorError("Search and proxy services are never monitored.")
    existing = session.scalar(select(MonitorTarget).where(MonitorTarget.url == url))
    if existing is not None:
        if existing.state == "paused" and purpose == REPORTED:
            existing.state = "active"
        return existing
    target = MonitorTarget(url=url, kind=kind, purpose=purpose, state="active",
                           interval_s=interval_s, next_check_at=utcnow())  # fmt: skip
    session.add(target)
    session.flush()
    return target


def list_all(session: Session) -> list[MonitorTarget]:
    return list(session.scalars(select(MonitorTarget).order_by(MonitorTarget.id)))


def set_state(session: Session, target_id: int, state: str) -> MonitorTarget:
    target = session.get(MonitorTarget, target_id)
    if target is None:
        raise MonitorError(f"No monitor target has the id {target_id}.")
    target.state = state
    return target


def claim_due(
    session: Session, worker: str, *, limit: int = 10, lease_s: int = 300,
    now: datetime | None = None,
) -> list[int]:  # fmt: skip
    """Claim up to ``limit`` due targets for ``worker``; returns their ids."""
    now = now or utcnow()
    free = or_(MonitorTarget.claim_expires_at.is_(None), MonitorTarget.claim_expires_at < now)
    candidates = (
        select(MonitorTarget.id)
        .where(MonitorTarget.state == "active", MonitorTarget.next_check_at <= now, free)
        .order_by(MonitorTarget.next_check_at)
        .limit(limit * 2)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = []
    for target_id in session.scalars(candidates).all():
        result = session.execute(
            update(MonitorTarget)
            .where(MonitorTarget.id == target_id, free)
            .values(claimed_by=worker, claim_expires_at=now + timedelta(seconds=lease_s))
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(target_id)
        if len(claimed) == limit:
            break
    return claimed


def finish(
    session: Session, target_id: int, *, status: int | None, error: str | None = None,
    etag: str | None = None, last_modified: str | None = None,
) -> None:  # fmt: skip
    """Record a check and schedule the next one; the claim is released."""
    target = session.get(MonitorTarget, target_id)
    if target is None:
        return
    now = utcnow()
    target.checked_at = now
    target.last_status = status
    target.last_error = error
    if etag is not None:
        target.etag = etag
    if last_modified is not None:
        target.last_modified = last_modified
    target.claimed_by = None
    target.claim_expires_at = None
    target.next_check_at = now + timedelta(seconds=target.interval_s)
    if status in (404, 410) and target.purpose == DISCOVERED:
        target.state = "gone"
