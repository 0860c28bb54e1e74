"""Tracking: move every takedown on by itself as time passes and the monitor re-checks.

- A copy is removed only when the monitor says its sighting is (every URL that served it is
  gone); a recipient's reply never decides it.
- A notice with no removal ``takedown_renotice_after_s`` after it was sent gets a re-notice;
  a re-notice with no removal after as long again proposes the next rung of the ladder
  (site -> host -> registrar -> CDN -> regulator) to the caseworker, with the reason. A
  refusal proposes it at once. The caseworker approves or declines (service.py).
- A copy that comes back re-opens its takedown: at the same address, the takedown itself;
  at a new address (the monitor's ``reappearance_of``), a new takedown for the new sighting,
  with drafts to the recipients who were asked last time.

:func:`advance` does everything due in the caller's transaction; :func:`run_due` is the
periodic job of ``chorus serve``: it advances and then emails the re-notices it made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import ChorusError, SightingHeldError
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.monitor import sightings
from chorus.security.policy import Actor, Role
from chorus.store.base import utcnow
from chorus.store.session import transaction
from chorus.takedowns import finding, notices, service, states
from chorus.takedowns.discovery import Discoverer, DiscoveryResult
from chorus.takedowns.models import EscalationProposal, Notice, Takedown
from chorus.takedowns.recipient import ESCALATION_ORDER, Recipient, RecipientRole

log = logging.getLogger(__name__)
TRACKER = Actor(Role.SYSTEM, "takedown-tracker")
_ROLE_WORDS = {
    RecipientRole.SITE: "site's operator",
    RecipientRole.HOST: "hosting provider",
    RecipientRole.REGISTRAR: "domain's registrar",
    RecipientRole.CDN: "CDN in front of the site",
    RecipientRole.REGULATOR: "regulator's reporting route",
}


@dataclass
class Advanced:
    removed: list[str] = field(default_factory=list)  # takedowns verified removed
    renotices: list[str] = field(default_factory=list)  # re-notices drafted
    proposals: list[str] = field(default_factory=list)  # escalations proposed
    reopened: list[str] = field(default_factory=list)  # takedowns opened or re-opened


def advance(
    session: Session,
    now: datetime | None = None,
    *,
    discover: Callable[[str], list[Recipient]] | None = None,
) -> Advanced:
    """Do everything that is due; ``discover`` (page URL -> recipients) is used for copies
    found at a new location, when given."""
    now = now or utcnow()
    done = Advanced()
    # Several `chorus serve` processes may advance at once: each takedown is handled by the
    # one that locks it (PostgreSQL; SQLite has one writer anyway).
    takedowns = list(
        session.scalars(select(Takedown).order_by(Takedown.id).with_for_update(skip_locked=True))
    )
    seen = sightings.states(session, [t.sighting for t in takedowns])
    for takedown in takedowns:
        state, removed_at = seen.get(takedown.sighting, ("present", None))
        if takedown.state == states.OPEN and state == sightings.REMOVED:
            _removed(session, takedown, removed_at or now)
            done.removed.append(takedown.public_id)
        elif takedown.state == states.REMOVED and state == sightings.PRESENT:
            _reopen_same(session, takedown)
            done.reopened.append(takedown.public_id)
    for takedown in takedowns:
        if takedown.state == states.OPEN:
            _due_notices(session, takedown, now, done)
    _new_locations(session, takedowns, discover, done)
    return done


def _removed(session: Session, takedown: Takedown, at: datetime) -> None:
    why = "the monitor checked every address that served the copy: all are gone"
    states.record(
        session,
        takedown,
        takedown.public_id,
        takedown.state,
        states.REMOVED,
        by=TRACKER.label,
        why=why,
    )
    takedown.state, takedown.removed_at = states.REMOVED, at
    for notice in _notices(session, takedown):
        if notice.state in (*states.AWAITING, states.NO_RESPONSE, states.REFUSED):
            states.move_notice(session, takedown, notice, states.REMOVED, by=TRACKER.label, why=why)
        elif notice.state == states.DRAFT:
            states.move_notice(
                session,
                takedown,
                notice,
                states.WITHDRAWN,
                by=TRACKER.label,
                why="the copy was removed before this was sent",
            )
    for proposal in _open_proposals(session, takedown):
        states.move_proposal(
            session,
            takedown,
            proposal,
            states.DECLINED,
            by=TRACKER.label,
            why="not needed: the copy was removed",
        )
    service.record_event(session, EventTag.TAKEDOWN_REMOVAL_VERIFIED, TRACKER.label, takedown)


def _reopen_same(session: Session, takedown: Takedown) -> None:
    states.record(
        session,
        takedown,
        takedown.public_id,
        states.REMOVED,
        states.OPEN,
        by=TRACKER.label,
        why="the copy is back at the same address",
    )
    takedown.state, takedown.removed_at = states.OPEN, None
    service.record_event(session, EventTag.TAKEDOWN_REOPENED, TRACKER.label, takedown)
    _redraft(session, takedown, takedown)


def _new_locations(
    session: Session,
    takedowns: list[Takedown],
    discover: Callable[[str], list[Recipient]] | None,
    done: Advanced,
) -> None:
    by_sighting = {t.sighting: t for t in takedowns}
    for info in sightings.reappearances(session, list(by_sighting)):
        if info.public_id in by_sighting or info.state != sightings.PRESENT:
            continue
        earlier = by_sighting[info.reappearance_of or ""]
        if earlier.state == states.CLOSED:  # the survivor's data was deleted: not followed
            continue
        try:
            sightings.for_takedown(session, info.public_id)
        except SightingHeldError:  # a possible match awaiting review: followed once confirmed
            continue
        candidates = [notices.recipient_from(c) for c in earlier.candidates]
        if discover is not None:
            try:
                candidates = discover(info.page_url) or candidates
            except ChorusError as exc:
                log.info("discovery for a re-appearance failed, using earlier recipients: %s", exc)
        takedown = service.open_takedown(
            session,
            info.public_id,
            by=TRACKER,
            candidates=candidates,
            reopened_from=earlier.public_id,
            why=f"re-opened: the copy of takedown {earlier.public_id} came back at a new address",
        )
        by_sighting[info.public_id] = takedown
        service.record_event(session, EventTag.TAKEDOWN_REOPENED, TRACKER.label, takedown)
        _redraft(session, earlier, takedown)
        done.reopened.append(takedown.public_id)


def _redraft(session: Session, source: Takedown, target: Takedown) -> None:
    """Drafts to the recipients last asked about ``source``, for ``target``'s copy."""
    latest: dict[tuple[str, str], Notice] = {}
    for notice in _notices(session, source):
        if notice.sent_at is not None:
            latest[(notice.recipient["name"], notice.regime)] = notice
    for notice in latest.values():
        service.draft(
            session,
            target.public_id,
            by=TRACKER,
            regime=notice.regime,
            recipient=notices.recipient_from(notice.recipient),
            notifier=notices.notifier_from(notice.elements),
            choices=notices.choices_from(notice.elements),
        )


def _due_notices(session: Session, takedown: Takedown, now: datetime, done: Advanced) -> None:
    rows = _notices(session, takedown)
    followed = {n.renotice_of for n in rows if n.renotice_of}
    proposed = set(
        session.scalars(
            select(EscalationProposal.after_notice).where(
                EscalationProposal.takedown_id == takedown.id
            )
        )
    )
    for notice in rows:
        overdue = (
            notice.state in states.AWAITING and notice.due_at is not None and (notice.due_at <= now)
        )
        if overdue and notice.renotice_of is None and notice.public_id not in followed:
            states.move_notice(
                session,
                takedown,
                notice,
                states.NO_RESPONSE,
                by=TRACKER.label,
                why="no verified removal in time: a re-notice follows",
            )
            made = service.draft(
                session,
                takedown.public_id,
                by=TRACKER,
                regime=notice.regime,
                recipient=notices.recipient_from(notice.recipient),
                notifier=notices.notifier_from(notice.elements),
                choices=notices.choices_from(notice.elements),
                renotice_of=notice,
            )
            done.renotices.append(made.public_id)
        elif overdue or (notice.state == states.REFUSED and notice.public_id not in proposed):
            if overdue:
                states.move_notice(
                    session,
                    takedown,
                    notice,
                    states.NO_RESPONSE,
                    by=TRACKER.label,
                    why="no verified removal after the re-notice: the next step is proposed",
                )
            if notice.public_id not in proposed:
                made_id = _propose(session, takedown, notice, rows)
                if made_id:
                    done.proposals.append(made_id)


def _propose(session: Session, takedown: Takedown, after: Notice, rows: list[Notice]) -> str | None:
    role = RecipientRole(after.recipient["role"])
    if role not in ESCALATION_ORDER or role == ESCALATION_ORDER[-1]:
        return None  # search engines and the regulator have no rung above them
    asked = {(n.recipient["name"], n.recipient["role"]) for n in rows}
    candidates = [notices.recipient_from(c) for c in takedown.candidates]
    skipped: list[str] = []
    chosen: tuple[RecipientRole, Recipient | None] | None = None
    for step in ESCALATION_ORDER[ESCALATION_ORDER.index(role) + 1 :]:
        found = [
            c
            for c in candidates
            if c.role == step and c.reachable and (c.name, c.role.value) not in asked
        ]
        if found:
            chosen = (step, found[0])
            break
        if step == RecipientRole.REGULATOR:
            chosen = (step, None)
            break
        skipped.append(_ROLE_WORDS[step])
    assert chosen is not None
    step, recipient = chosen
    what = "refused to remove it" if after.state == states.REFUSED else "has not removed it"
    reason = (
        f"{after.recipient['name']} ({_ROLE_WORDS.get(role, role.value)}) {what}"
        + (" after a notice and a re-notice." if after.renotice_of else ".")
        + " The copy is still online."
    )
    if skipped:
        reason += f" No contact is known for the {', '.join(skipped)}."
    if recipient is not None:
        reason += (
            f" Next: ask the {_ROLE_WORDS[step]}, {recipient.name}, who can act on it "
            f"(found via {recipient.source})."
        )
    else:
        reason += (
            " Next: report it through the regulator's route (Ofcom for services in the "
            "UK, the Digital Services Coordinator in the EU); add its address to approve."
        )
    proposal = EscalationProposal(
        public_id=service.new_id("E"),
        takedown_id=takedown.id,
        after_notice=after.public_id,
        role=step.value,
        recipient=notices.recipient_snapshot(recipient) if recipient else None,
        reason=reason,
        state=states.PROPOSED,
    )
    session.add(proposal)
    session.flush()
    states.record(
        session, takedown, proposal.public_id, None, states.PROPOSED, by=TRACKER.label, why=reason
    )
    service.record_event(
        session,
        EventTag.ESCALATION_PROPOSED,
        TRACKER.label,
        takedown,
        escalation=proposal.public_id,
        notice=after.public_id,
    )
    return proposal.public_id


def _notices(session: Session, takedown: Takedown) -> list[Notice]:
    return list(
        session.scalars(select(Notice).where(Notice.takedown_id == takedown.id).order_by(Notice.id))
    )


def _open_proposals(session: Session, takedown: Takedown) -> list[EscalationProposal]:
    return list(
        session.scalars(
            select(EscalationProposal).where(
                EscalationProposal.takedown_id == takedown.id,
                EscalationProposal.state == states.PROPOSED,
            )
        )
    )


def run_due(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    now: datetime | None = None,
    *,
    mailer: object | None = None,
    discover: bool = True,
    discoverer: Discoverer | None = None,
) -> Advanced:
    """The periodic job: advance, then email the re-notices whose first notice went by email
    (when email is set up); the others wait as drafts for the caseworker.

    A copy found again at a new address gets its recipients from real discovery (with
    ``discover``), looked up first, outside the transaction that locks the takedowns; the
    run is kept with the new takedown (``finding.record``) so its page shows what was
    found and what failed."""
    from chorus.takedowns import sending  # sending imports service; keep the job light

    found: dict[str, list[DiscoveryResult]] = {}
    if discover:
        with transaction(sessions) as session:
            wanted = finding.copies_to_discover(session)
        found = finding.look_up_copies(settings, wanted, discoverer)

    def recipients_at(page_url: str) -> list[Recipient]:
        return finding.merged(found.get(page_url, []))[0]

    with transaction(sessions) as session:
        done = advance(session, now, discover=recipients_at if found else None)
        for takedown_id in done.reopened:
            takedown = service.takedown_row(session, takedown_id)
            info = sightings.find(session, takedown.sighting)
            if info is not None and found.get(info.page_url):
                finding.record(session, takedown_id, found[info.page_url], by=TRACKER)
        by_email = []
        for notice_id in done.renotices:
            _takedown, notice = service.notice_row(session, notice_id)
            _t, first = service.notice_row(session, notice.renotice_of or "")
            if first.channel == sending.EMAIL and notice.recipient.get("email"):
                by_email.append(notice_id)
    if by_email and (mailer is not None or settings.smtp_host.strip()):
        real = mailer if isinstance(mailer, sending.Mailer) else sending.Mailer(settings)
        for notice_id in by_email:
            try:
                sending.send_email(sessions, keyring, settings, notice_id, by=TRACKER, mailer=real)
            except ChorusError as exc:
                log.warning("re-notice %s not sent: %s", notice_id, exc)
    return done
