"""Sightings: record a match found online, capture it, verify removal, catch re-appearance."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from chorus.errors import SightingHeldError, SightingReviewError
from chorus.evidence import captures, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.matching.identify import EntryMatch
from chorus.monitor import review
from chorus.monitor.models import Sighting, SightingUrl
from chorus.monitor.sources.base import MediaRef
from chorus.security.policy import Actor, Role
from chorus.store.base import utcnow

MONITOR = Actor(Role.SYSTEM, "monitor")
PRESENT, REMOVED = "present", "removed"


@dataclass(frozen=True)
class Recorded:
    sighting: Sighting
    new: bool
    reappeared: bool
    confirmed: bool = False  # a held sighting confirmed now (matched again, by PDQ or digest)

    @property
    def held(self) -> bool:
        """Waiting for a caseworker (robust signal alone): not told, alerted or counted."""
        return self.sighting.review == review.HELD


def _not_rejected() -> ColumnElement[bool]:
    return or_(Sighting.review.is_(None), Sighting.review != review.REJECTED)


def record(
    session: Session,
    keyring: KeyRing,
    ref: MediaRef,
    match: EntryMatch,
    warc: Callable[[], bytes],
    *,
    recheck_after_s: int = 600,
    max_capture_bytes: int = 64 * 1024 * 1024,
) -> Recorded:
    """A match of ``ref`` against a bank entry: a new sighting (captured), or seen again.

    A match by the robust signal or the local features alone is held for review
    (monitor/review.py), its strength recorded (``distance``, and for the local signal
    ``corners``, how many of the photo's corners agree): captured
    like any other, but nothing is told or counted until a caseworker confirms it; the
    same copy matched again by PDQ or a file digest confirms it automatically. A copy a
    caseworker rejected stays rejected.
    """
    now = utcnow()
    existing = session.scalar(
        select(Sighting).where(Sighting.bank_entry == match.entry_id, Sighting.media_url == ref.url)
    )
    if existing is not None:
        existing.last_seen = now
        if existing.review == review.REJECTED:
            return Recorded(existing, new=False, reappeared=False)
        confirmed = existing.review == review.HELD and not match.robust_only
        if confirmed:
            was = strength_text(existing.signal_type, existing.distance, existing.corners)
            existing.signal_type, existing.distance = match.signal_type, match.distance
            existing.corners = match.inliers
            now_text = strength_text(match.signal_type, match.distance, match.inliers)
            why = f"also matched by {now_text} (held: {was})"
            review.settle_confirmed(session, keyring, existing, MONITOR.label, why, automatic=True)
        tracked = {(row.role, row.url) for row in urls(session, existing)}
        for role, url in ref.urls.items():  # a thumbnail or page found later is checked too
            if (role, url) not in tracked:
                session.add(SightingUrl(sighting_id=existing.id, role=role, url=url,
                                        state=PRESENT))  # fmt: skip
        if existing.state == REMOVED:  # back at the very same address
            existing.state, existing.removed_at = PRESENT, None
            _set_urls(session, existing, PRESENT)
            if existing.review != review.HELD:
                ledger.append(session, EventTag.SIGHTING_REAPPEARED, MONITOR.label,
                              {"case": existing.owner_id,
                               "sighting": existing.public_id})  # fmt: skip
            return Recorded(existing, new=False, reappeared=True, confirmed=confirmed)
        return Recorded(existing, new=False, reappeared=False, confirmed=confirmed)

    earlier = session.scalar(
        select(Sighting)
        .where(Sighting.bank_entry == match.entry_id, Sighting.state == REMOVED, _not_rejected())
        .order_by(Sighting.removed_at.desc())
        .limit(1)
    )
    held = match.robust_only
    sighting = Sighting(
        public_id=f"SG-{secrets.token_hex(6).upper()}",
        bank_entry=match.entry_id,
        owner_id=match.owner_id,
        signal_type=match.signal_type,
        distance=match.distance,
        corners=match.inliers,
        media_url=ref.url,
        page_url=ref.page_url,
        post_id=ref.post_id or None,
        thread=ref.thread,
        state=PRESENT,
        reappearance_of=earlier.public_id if earlier else None,
        first_seen=now,
        last_seen=now,
        next_check_at=now + timedelta(seconds=recheck_after_s),
        review=review.HELD if held else None,
    )
    session.add(sighting)
    session.flush()
    for role, url in ref.urls.items():
        session.add(SightingUrl(sighting_id=sighting.id, role=role, url=url, state=PRESENT))
    capture = captures.store(
        session, keyring, MONITOR, case_ref=match.owner_id, kind="warc", data=warc(),
        filename=f"{sighting.public_id}.warc.gz", source_url=ref.page_url,
        subjects={"sighting": sighting.public_id}, max_bytes=max_capture_bytes,
    )  # fmt: skip
    sighting.capture_id = capture.public_id
    ledger.append(
        session,
        EventTag.SIGHTING_RECORDED,
        MONITOR.label,
        {"case": match.owner_id, "sighting": sighting.public_id, "bank_entry": match.entry_id,
         "capture": capture.public_id},
        {"media_url": ref.url, "page_url": ref.page_url, "post": ref.post_id,
         "thread": ref.thread, "signal_type": match.signal_type, "distance": match.distance,
         "corners": match.inliers,
         "signal_types": sorted(match.signal_types or {match.signal_type})},
        scope=captures.case_scope(match.owner_id),
        keyring=keyring,
    )  # fmt: skip
    if held:
        ledger.append(session, EventTag.SIGHTING_HELD, MONITOR.label,
                      {"case": match.owner_id, "sighting": sighting.public_id},
                      {"reason": "matched only by the signals beyond PDQ (robust codes or "
                       "local features); a caseworker reviews it before it counts"},
                      scope=captures.case_scope(match.owner_id), keyring=keyring)  # fmt: skip
    elif earlier is not None:
        ledger.append(session, EventTag.SIGHTING_REAPPEARED, MONITOR.label,
                      {"case": match.owner_id,
                       "sighting": [sighting.public_id, earlier.public_id]})  # fmt: skip
    return Recorded(sighting, new=True, reappeared=earlier is not None)


def strength_text(signal_type: str, distance: int, corners: int | None) -> str:
    """How a match was made, in words a caseworker reads: "local, 23 corners agree"."""
    if signal_type == "local" and corners is not None:
        return f"local, {corners} corners agree"
    if signal_type in ("sha256", "md5"):
        return f"{signal_type}, identical file"
    return f"{signal_type} at distance {distance}"


def _set_urls(session: Session, sighting: Sighting, state: str) -> None:
    for row in session.scalars(select(SightingUrl).where(SightingUrl.sighting_id == sighting.id)):
        row.state = state


def urls(session: Session, sighting: Sighting) -> list[SightingUrl]:
    return list(
        session.scalars(
            select(SightingUrl)
            .where(SightingUrl.sighting_id == sighting.id)
            .order_by(SightingUrl.id)
        )
    )


def due_for_recheck(session: Session, limit: int = 50, now: datetime | None = None) -> list[int]:
    return list(
        session.scalars(
            select(Sighting.id)
            .where(
                Sighting.state == PRESENT,
                Sighting.next_check_at <= (now or utcnow()),
                _not_rejected(),
            )
            .order_by(Sighting.next_check_at)
            .limit(limit)
        )
    )


def apply_recheck(
    session: Session,
    keyring: KeyRing,
    sighting: Sighting,
    results: dict[int, tuple[str, int | None]],
    *,
    recheck_after_s: int = 600,
) -> bool:
    """Store each URL's state; the sighting is removed only when every URL is. True if so."""
    now = utcnow()
    rows = urls(session, sighting)
    for row in rows:
        if row.id in results:
            row.state, row.last_status = results[row.id]
            row.checked_at = now
    sighting.next_check_at = now + timedelta(seconds=recheck_after_s)
    if rows and all(row.state == REMOVED for row in rows):
        sighting.state, sighting.removed_at = REMOVED, now
        ledger.append(
            session, EventTag.REMOVAL_VERIFIED, MONITOR.label,
            {"case": sighting.owner_id, "sighting": sighting.public_id},
            {"checked": {row.role: row.last_status for row in rows}},
            scope=captures.case_scope(sighting.owner_id), keyring=keyring,
        )  # fmt: skip
        return True
    sighting.last_seen = now
    return False


@dataclass(frozen=True)
class Progress:
    found: int
    removed: int
    still_up: int
    last_found: datetime | None
    last_removed: datetime | None


def progress_for_owner(session: Session, owner_id: str) -> Progress:
    """Counts and dates for a survivor: never URLs, never images."""
    rows = session.execute(
        select(Sighting.state, Sighting.first_seen, Sighting.removed_at).where(
            Sighting.owner_id == owner_id,
            or_(Sighting.review.is_(None), Sighting.review.not_in(review.NOT_ACTIONABLE)),
        )
    ).all()
    removed = [r.removed_at for r in rows if r.state == REMOVED and r.removed_at]
    return Progress(
        found=len(rows),
        removed=len(removed),
        still_up=sum(1 for r in rows if r.state == PRESENT),
        last_found=max((r.first_seen for r in rows), default=None),
        last_removed=max(removed, default=None),
    )


@dataclass(frozen=True)
class SightingView:
    """A sighting as other domains see it (takedowns, staff pages): no image, no capture."""

    public_id: str
    case: str
    bank_entry: str
    signal_type: str
    distance: int
    media_url: str
    page_url: str
    post_id: str | None
    thread: str | None
    state: str
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None
    reappearance_of: str | None
    urls: tuple[tuple[str, str, str], ...]  # (role, url, present|removed) per URL checked
    corners: int | None = None  # a local match: how many of the photo's corners agree

    @classmethod
    def of(cls, session: Session, row: Sighting) -> SightingView:
        return cls(
            public_id=row.public_id,
            case=row.owner_id,
            bank_entry=row.bank_entry,
            signal_type=row.signal_type,
            distance=row.distance,
            media_url=row.media_url,
            page_url=row.page_url,
            post_id=row.post_id,
            thread=row.thread,
            state=row.state,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            removed_at=row.removed_at,
            reappearance_of=row.reappearance_of,
            urls=tuple((u.role, u.url, u.state) for u in urls(session, row)),
            corners=row.corners,
        )


def for_takedown(session: Session, public_id: str) -> SightingView:
    """A sighting that a takedown may act on; held or rejected ones are refused."""
    row = session.scalar(select(Sighting).where(Sighting.public_id == public_id))
    if row is None:
        raise SightingReviewError(f"No sighting has the id {public_id}.")
    if row.review in review.NOT_ACTIONABLE:
        why = ("is a possible match still waiting for a caseworker's review"
               if row.review == review.HELD else "was found not to be a match")  # fmt: skip
        raise SightingHeldError(f"Sighting {public_id} {why}, so no takedown is sent for it.")
    return SightingView.of(session, row)


def actionable(session: Session, owner_id: str) -> list[SightingView]:
    """A case's sightings that count (confirmed or needing no review), oldest first."""
    rows = session.scalars(
        select(Sighting)
        .where(
            Sighting.owner_id == owner_id,
            or_(Sighting.review.is_(None), Sighting.review.not_in(review.NOT_ACTIONABLE)),
        )
        .order_by(Sighting.first_seen, Sighting.id)
    )
    return [SightingView.of(session, row) for row in rows]


def find(session: Session, public_id: str) -> SightingView | None:
    """One sighting by its public id (service for takedowns), or None."""
    row = session.scalar(select(Sighting).where(Sighting.public_id == public_id))
    return SightingView.of(session, row) if row is not None else None


def states(session: Session, public_ids: Collection[str]) -> dict[str, tuple[str, datetime | None]]:
    """(state, removed_at) of each sighting named: one query for many takedowns."""
    if not public_ids:
        return {}
    rows = session.execute(
        select(Sighting.public_id, Sighting.state, Sighting.removed_at).where(
            Sighting.public_id.in_(list(public_ids))
        )
    ).all()
    return {r.public_id: (r.state, r.removed_at) for r in rows}


def reappearances(session: Session, of: Collection[str]) -> list[SightingView]:
    """Sightings the monitor linked to one of ``of`` as its re-appearance, oldest first."""
    if not of:
        return []
    rows = session.scalars(
        select(Sighting).where(Sighting.reappearance_of.in_(list(of))).order_by(Sighting.id)
    )
    return [SightingView.of(session, row) for row in rows]
