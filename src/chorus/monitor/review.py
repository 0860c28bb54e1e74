"""Review of possible matches found by the robust signal or the local features alone.

The robust signal finds crops, borders and screenshots that PDQ misses, and the local
features crops away from the centre, but their false-match rates (about 1e-11 per pair
from the tail fit for the robust codes, and structurally alike photos come closest;
docs/robust-matching.md) are far above PDQ's. So a sighting matched by them alone (whole-
region or half-frame codes, local features; no PDQ variant, no SHA-256 or MD5) is **held**:
captured as evidence at once (encrypted, investigators only, so nothing is lost if the copy
is taken down meanwhile), but not told to the survivor, not counted in the portal's progress, not
raising doxxing alerts and not offered for takedowns, until a caseworker decides.

- :func:`confirm`: it is the survivor's image; the sighting counts from now on, and an
  alert held with it (their own details seen beside it) is raised.
- :func:`reject`: it is not; the false match is recorded against the bank entry the way
  a partner's ``false_positive`` feedback is (it counts toward quarantine), and the
  capture (someone else's photo) is discarded.
- A held sighting whose copy later also matches by PDQ or a file digest is confirmed
  automatically, and the ledger says so.

Each decision names who took it and why, and is a ledger event of the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chorus.cases import alerts
from chorus.errors import AccessDeniedError, BankEntryNotFoundError, SightingReviewError
from chorus.evidence import captures, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.matching import exchange
from chorus.monitor.models import Sighting
from chorus.security.policy import Actor, Permission, allowed, require
from chorus.store.base import utcnow

HELD, CONFIRMED, REJECTED = "held", "confirmed", "rejected"
#: Sightings in these review states are not (yet) the survivor's: invisible to them,
#: to progress counts, to alerts and to takedowns.
NOT_ACTIONABLE = (HELD, REJECTED)
MAX_REASON = 2000


@dataclass(frozen=True)
class HeldSighting:
    """One entry of the review queue: where and how close, never the image.

    The URLs are for reading as text; a page must not embed ``media_url``. The capture is
    opened, if at all, by an investigator through ``evidence.captures.read`` (logged).
    """

    public_id: str
    case: str  # the bank entry's owner: a case reference, or an opaque owner id
    bank_entry: str
    signal_type: str
    distance: int
    corners: int | None  # local matches: how many of the photo's corners agree
    page_url: str
    media_url: str
    thread: str | None
    post_id: str | None
    state: str  # present or removed: a copy taken down while held stays held
    first_seen: datetime
    capture_id: str | None


def held_count(session: Session, *, by: Actor) -> int:
    """How many sightings wait for review (reviewers only): one COUNT, no rows loaded."""
    require(by, Permission.REVIEW_SIGHTING)
    return int(
        session.scalar(select(func.count()).select_from(Sighting).where(Sighting.review == HELD))
        or 0
    )


def review_queue(session: Session, *, by: Actor, limit: int = 100) -> list[HeldSighting]:
    """Sightings waiting for a caseworker's review, oldest first (reviewers only)."""
    require(by, Permission.REVIEW_SIGHTING)
    rows = session.scalars(
        select(Sighting)
        .where(Sighting.review == HELD)
        .order_by(Sighting.first_seen, Sighting.id)
        .limit(limit)
    )
    return [
        HeldSighting(
            public_id=r.public_id,
            case=r.owner_id,
            bank_entry=r.bank_entry,
            signal_type=r.signal_type,
            distance=r.distance,
            corners=r.corners,
            page_url=r.page_url,
            media_url=r.media_url,
            thread=r.thread,
            post_id=r.post_id,
            state=r.state,
            first_seen=r.first_seen,
            capture_id=r.capture_id,
        )
        for r in rows
    ]


def _held(session: Session, public_id: str) -> Sighting:
    row = session.scalar(select(Sighting).where(Sighting.public_id == public_id))
    if row is None:
        raise SightingReviewError(f"No sighting has the id {public_id}.")
    if row.review != HELD:
        done = f"was already {row.review}" if row.review else "did not need a review"
        raise SightingReviewError(f"Sighting {public_id} {done}; nothing was changed.")
    return row


def _checked(by: Actor, reason: str) -> str:
    if not allowed(by, Permission.REVIEW_SIGHTING):
        raise AccessDeniedError(
            f"The {by.role.value} role cannot review possible matches; a caseworker or "
            "investigator can."
        )
    reason = reason.strip()
    if not reason:
        raise SightingReviewError("Say why you decided this; the reason is recorded.")
    if len(reason) > MAX_REASON:
        raise SightingReviewError(f"Please keep the reason under {MAX_REASON:,} characters.")
    return reason


def confirm(
    session: Session, keyring: KeyRing, public_id: str, *, by: Actor, reason: str
) -> Sighting:
    """A caseworker confirms a held sighting as the survivor's image."""
    reason = _checked(by, reason)
    return settle_confirmed(session, keyring, _held(session, public_id), by.label, reason)


def settle_confirmed(
    session: Session,
    keyring: KeyRing,
    sighting: Sighting,
    by: str,
    reason: str,
    *,
    automatic: bool = False,
) -> Sighting:
    """Mark ``sighting`` (held) confirmed; raise what was held back with it."""
    sighting.review, sighting.reviewed_by, sighting.reviewed_at = CONFIRMED, by, utcnow()
    scope = captures.case_scope(sighting.owner_id)
    ledger.append(
        session, EventTag.SIGHTING_CONFIRMED, by,
        {"case": sighting.owner_id, "sighting": sighting.public_id,
         "bank_entry": sighting.bank_entry},
        {"reason": reason, "automatic": automatic, "signal_type": sighting.signal_type,
         "distance": sighting.distance, "corners": sighting.corners},
        scope=scope, keyring=keyring,
    )  # fmt: skip
    if sighting.reappearance_of:  # flagged only now that it counts
        ledger.append(session, EventTag.SIGHTING_REAPPEARED, by,
                      {"case": sighting.owner_id,
                       "sighting": [sighting.public_id, sighting.reappearance_of]})  # fmt: skip
    if sighting.held_details:
        alerts.raise_own_details(session, keyring, sighting.owner_id, sighting.held_details,
                                 sighting=sighting.public_id, by=by)  # fmt: skip
        sighting.held_details = None
    session.flush()
    return sighting


def reject(
    session: Session, keyring: KeyRing, public_id: str, *, by: Actor, reason: str
) -> Sighting:
    """A caseworker finds a held sighting is not the survivor's image.

    The false match counts against the bank entry (``false_positive``, as partners report
    them: enough of them quarantine the entry), and the capture is discarded: it shows
    someone else's photo. The sighting stays, rejected, so the ledger's story reads whole.
    """
    reason = _checked(by, reason)
    sighting = _held(session, public_id)
    try:
        quarantined = exchange.record_feedback(
            session, entry_id=sighting.bank_entry, verdict="false_positive", api_key_id=None,
            item=("monitor", sighting.public_id),
        )  # fmt: skip
    except BankEntryNotFoundError:
        quarantined = []  # the entry was deleted meanwhile: nothing left to count against
    if sighting.capture_id:
        why = f"not a match (sighting {sighting.public_id}): {reason}"
        captures.discard(session, keyring, by, sighting.capture_id, reason=why)
    sighting.review, sighting.reviewed_by, sighting.reviewed_at = REJECTED, by.label, utcnow()
    sighting.held_details = None
    ledger.append(
        session, EventTag.SIGHTING_REJECTED, by.label,
        {"case": sighting.owner_id, "sighting": sighting.public_id,
         "bank_entry": sighting.bank_entry},
        {"reason": reason, "signal_type": sighting.signal_type, "distance": sighting.distance,
         "corners": sighting.corners, "quarantined": quarantined},
        scope=captures.case_scope(sighting.owner_id), keyring=keyring,
    )  # fmt: skip
    session.flush()
    return sighting
