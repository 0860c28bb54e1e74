"""What a caseworker's page shows of a takedown: its copy, notices, proposals, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.monitor import sightings
from chorus.takedowns import notices, regimes, states
from chorus.takedowns.models import EscalationProposal, Notice, Takedown, TakedownTransition
from chorus.takedowns.recipient import Recipient

_URL_ORDER = {"page": 0, "media": 1, "thumbnail": 2, "api": 3}


def copy_urls(info: sightings.SightingView) -> list[str]:
    """Every address that served the copy: page first, then the file, thumbnail, JSON."""
    ordered = sorted(info.urls, key=lambda u: _URL_ORDER.get(u[0], 9))
    return list(dict.fromkeys([info.page_url] + [url for _role, url, _state in ordered]))


@dataclass(frozen=True)
class NoticeView:
    public_id: str
    takedown: str
    regime: str
    regime_title: str
    recipient: Recipient
    state: str
    plain_state: str
    subject: str
    body: str
    missing: list[str]
    channel: str | None
    message_id: str
    sent_at: datetime | None
    due_at: datetime | None
    renotice_of: str | None


@dataclass(frozen=True)
class ProposalView:
    public_id: str
    role: str
    recipient: Recipient | None
    reason: str
    state: str
    notice: str | None


@dataclass(frozen=True)
class TransitionView:
    subject: str
    from_state: str | None
    to_state: str
    at: datetime
    by: str
    why: str


@dataclass(frozen=True)
class TakedownView:
    public_id: str
    case_ref: str
    sighting: str
    state: str
    urls: list[str]
    opened_at: datetime
    removed_at: datetime | None
    reopened_from: str | None
    candidates: list[Recipient]
    notices: list[NoticeView]
    proposals: list[ProposalView]
    history: list[TransitionView]


def notice_view(takedown: Takedown, notice: Notice) -> NoticeView:
    return NoticeView(
        public_id=notice.public_id,
        takedown=takedown.public_id,
        regime=notice.regime,
        regime_title=regimes.get(notice.regime).title,
        recipient=notices.recipient_from(notice.recipient),
        state=notice.state,
        plain_state=states.PLAIN.get(notice.state, notice.state),
        subject=notice.subject,
        body=notice.body,
        missing=[]
        if "forgotten" in notice.elements
        else notices.missing(notice.regime, notice.elements),
        channel=notice.channel,
        message_id=notice.message_id,
        sent_at=notice.sent_at,
        due_at=notice.due_at,
        renotice_of=notice.renotice_of,
    )


def view(session: Session, takedown: Takedown) -> TakedownView:
    rows = session.scalars(
        select(Notice).where(Notice.takedown_id == takedown.id).order_by(Notice.id)
    )
    proposals = session.scalars(
        select(EscalationProposal)
        .where(EscalationProposal.takedown_id == takedown.id)
        .order_by(EscalationProposal.id)
    )
    history = session.scalars(
        select(TakedownTransition)
        .where(TakedownTransition.takedown_id == takedown.id)
        .order_by(TakedownTransition.id)
    )
    info = sightings.find(session, takedown.sighting)
    return TakedownView(
        public_id=takedown.public_id,
        case_ref=takedown.case_ref,
        sighting=takedown.sighting,
        state=takedown.state,
        urls=copy_urls(info) if info else [],
        opened_at=takedown.opened_at,
        removed_at=takedown.removed_at,
        reopened_from=takedown.reopened_from,
        candidates=[notices.recipient_from(c) for c in takedown.candidates],
        notices=[notice_view(takedown, n) for n in rows],
        proposals=[
            ProposalView(
                p.public_id,
                p.role,
                notices.recipient_from(p.recipient) if p.recipient else None,
                p.reason,
                p.state,
                p.notice,
            )
            for p in proposals
        ],
        history=[
            TransitionView(h.subject, h.from_state, h.to_state, h.at, h.by, h.why) for h in history
        ],
    )


@dataclass(frozen=True)
class CopyView:
    """One copy the monitor found (a sighting): where, since when, its state; never the
    image. With its takedown, when one was opened."""

    sighting: str
    host: str
    page_url: str
    urls: list[tuple[str, str, str]]  # (role, url, state): page, media, thumbnail, api
    first_seen: datetime
    state: str  # present, removed (as the monitor's re-checks found)
    removed_at: datetime | None
    reappearance_of: str | None
    takedown: str | None
    takedown_state: str | None


def copy_view(session: Session, info: sightings.SightingView) -> CopyView:
    takedown = session.scalar(select(Takedown).where(Takedown.sighting == info.public_id))
    ordered = sorted(info.urls, key=lambda u: _URL_ORDER.get(u[0], 9))
    return CopyView(
        sighting=info.public_id,
        host=urlsplit(info.page_url).hostname or "",
        page_url=info.page_url,
        urls=list(ordered),
        first_seen=info.first_seen,
        state=info.state,
        removed_at=info.removed_at,
        reappearance_of=info.reappearance_of,
        takedown=takedown.public_id if takedown else None,
        takedown_state=takedown.state if takedown else None,
    )


def copies_for_case(session: Session, case_ref: str) -> list[CopyView]:
    """Every copy found of a case's images that counts, oldest first, with its takedown.
    Possible matches still awaiting a caseworker's review (or found not to match) are left
    out: no takedown is sent for them."""
    return [copy_view(session, info) for info in sightings.actionable(session, case_ref)]


def copy_of(session: Session, sighting_id: str) -> CopyView | None:
    info = sightings.find(session, sighting_id)
    return copy_view(session, info) if info is not None else None
