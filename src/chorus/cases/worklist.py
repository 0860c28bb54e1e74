"""What caseworkers and investigators work from: the queue of new reports, one report with
its suggested codes and links, and the decisions they record (through ``service``).

Every function takes the :class:`Actor` and asks the policy first; the pages only show
what these return.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from chorus.cases import classification, series_work, service
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Case, Classification, Link, Report, SeriesMember
from chorus.errors import CasesError
from chorus.security.policy import Actor, Permission, require

#: Highest risk first (the survivor's name, school or workplace was posted beside a copy).
RISK_ORDER = {"high": 0, "raised": 1, "standard": 2}
QUEUE_LIMIT = 500


@dataclass(frozen=True)
class QueueItem:
    report_id: str
    case_reference: str
    received_at: datetime
    route: str
    risk_level: str
    suggested_codes: list[str]
    suggested_links: int


def queue(session: Session, actor: Actor) -> list[QueueItem]:
    """Reports not yet classified, highest risk first, then oldest first."""
    require(actor, Permission.VIEW_QUEUE)
    classified = select(Classification.report_id)
    rows = session.execute(
        select(Report, Case.reference, Case.risk_level)
        .join(Case, Case.id == Report.case_id)
        .where(Report.id.not_in(classified), Case.status != "deleted")
    ).all()
    link_counts: dict[int, int] = defaultdict(int)
    for a, b, n in session.execute(
        select(Link.report_a, Link.report_b, func.count())
        .where(Link.state == "suggested")
        .group_by(Link.report_a, Link.report_b)
    ):
        link_counts[a] += n
        link_counts[b] += n
    items = []
    for report, reference, risk in rows:
        codes = (
            classification.suggest(IntakeAnswers.model_validate(report.answers))
            if (report.answers)
            else []
        )
        items.append(
            QueueItem(
                report.public_id,
                reference,
                report.received_at,
                report.route,
                risk,
                [c for c, _ in codes],
                link_counts[report.id],
            )
        )
    items.sort(key=lambda i: (RISK_ORDER.get(i.risk_level, 3), i.received_at, i.report_id))
    return items[:QUEUE_LIMIT]


@dataclass(frozen=True)
class LinkView:
    id: int
    other_report: str
    reasons: list[str]
    kinds: list[str]
    score: float
    state: str
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class ClassificationView:
    codes: list[str]
    recorded_by: str
    reason: str
    recorded_at: datetime


@dataclass(frozen=True)
class ReportView:
    report_id: str
    case_reference: str
    received_at: datetime
    route: str
    risk_level: str
    consent_linking: bool
    answers: dict[str, Any]
    suggested_codes: list[tuple[str, str]]
    offences: list[classification.Offence]
    history: list[ClassificationView]
    links: list[LinkView]
    series_id: str | None
    confirmed_group: int  # reports joined to this one by confirmed links, itself included


def reason_kind(reason: str) -> str:
    """The kind of a link reason, for labels and the chart: thread, address, image,
    account or person."""
    for needle, kind in (
        ("thread", "thread"),
        ("address", "address"),
        ("image", "image"),
        ("account", "account"),
        ("person", "person"),
    ):
        if needle in reason:
            return kind
    return "other"


def _link_view(link: Link, other: str) -> LinkView:
    kinds = sorted({reason_kind(r) for r in link.reasons})
    return LinkView(
        link.id,
        other,
        list(link.reasons),
        kinds,
        link.score,
        link.state,
        link.decided_by,
        link.decided_at,
    )


def report_view(session: Session, actor: Actor, report_id: str) -> ReportView:
    require(actor, Permission.VIEW_REPORT)
    report = session.scalar(select(Report).where(Report.public_id == report_id))
    if report is None:
        raise CasesError(f"No report has the id {report_id}.")
    case = session.get(Case, report.case_id)
    assert case is not None
    answers = IntakeAnswers.model_validate(report.answers) if report.answers else None
    history = [
        ClassificationView(row.codes, row.recorded_by, row.reason, row.recorded_at)
        for row in session.scalars(
            select(Classification)
            .where(Classification.report_id == report.id)
            .order_by(Classification.recorded_at.desc(), Classification.id.desc())
        )
    ]
    links = list(
        session.scalars(
            select(Link)
            .where(or_(Link.report_a == report.id, Link.report_b == report.id))
            .order_by(Link.score.desc(), Link.id)
        )
    )
    other_ids = {link.report_b if link.report_a == report.id else link.report_a for link in links}
    publics = (
        dict(
            session.execute(
                select(Report.id, Report.public_id).where(Report.id.in_(other_ids))
            ).all()
        )
        if other_ids
        else {}
    )
    views = [
        _link_view(link, publics[link.report_b if link.report_a == report.id else link.report_a])
        for link in links
    ]
    member = session.scalar(
        select(SeriesMember.series_id).where(SeriesMember.report_id == report.id)
    )
    return ReportView(
        report.public_id,
        case.reference,
        report.received_at,
        report.route,
        case.risk_level,
        case.consent_linking,
        answers.model_dump() if answers else {},
        classification.suggest(answers) if answers else [],
        sorted(
            classification.table().offences.values(), key=lambda o: (o.kind != "primary", o.code)
        ),
        history,
        views,
        series_work.public_id_of(session, member) if member else None,
        len(series_work.confirmed_component(session, report.id)),
    )


def classify(session: Session, actor: Actor, report_id: str, codes: list[str], reason: str) -> None:
    """Record a caseworker's classification (kept with who, when and why)."""
    require(actor, Permission.CLASSIFY_REPORT)
    if not codes:
        raise CasesError("Choose at least one offence code.")
    service.classify(session, report_id, codes, by=actor.label, reason=reason)


def decide_link(session: Session, actor: Actor, link_id: int, *, confirm: bool) -> str | None:
    """Confirm or reject a suggested link. A confirmed link to a report already in a series
    brings the other report into that series; the series id is returned then."""
    require(actor, Permission.DECIDE_LINK)
    link = session.get(Link, link_id)
    if link is None:
        raise CasesError(f"No link has the id {link_id}.")
    if link.state != "suggested":
        raise CasesError(f"This link was already {link.state}; nothing was changed.")
    service.decide_link(session, link_id, confirm=confirm, by=actor.label)
    return series_work.grow_after_confirm(session, actor, link.report_a) if confirm else None
