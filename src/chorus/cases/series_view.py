"""Series as staff read them: members with their artifacts and codes, the links among
them (and suggested links to reports outside) for the chart, the list of series, the
officers a series can go to, and (for investigators) the captures of its cases."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from chorus.cases.models import Artifact, Case, Classification, Link, Report, Series, SeriesMember
from chorus.cases.series_work import case_refs, series_by_id
from chorus.errors import StaffAccountError
from chorus.evidence import captures
from chorus.security import staff_auth
from chorus.security.policy import Actor, Permission, Role, require


@dataclass(frozen=True)
class MemberView:
    report_id: str
    case_reference: str
    received_at: datetime
    risk_level: str
    codes: list[str]
    artifacts: list[tuple[str, str]]


@dataclass(frozen=True)
class ChartEdge:
    a: str
    b: str
    reasons: list[str]
    state: str
    link_id: int


@dataclass(frozen=True)
class SeriesView:
    series_id: str
    created_at: datetime
    unit: str | None
    officer: str | None
    officer_name: str | None
    members: list[MemberView]
    edges: list[ChartEdge]  # among members, and suggested ones to reports outside
    outside: list[str]  # reports linked by a suggestion only, not (yet) members
    case_references: list[str]


def series_view(session: Session, actor: Actor, series_id: str) -> SeriesView:
    require(actor, Permission.VIEW_SERIES)
    series = series_by_id(session, series_id)
    rows = session.execute(
        select(Report, Case.reference, Case.risk_level)
        .join(SeriesMember, SeriesMember.report_id == Report.id)
        .join(Case, Case.id == Report.case_id)
        .where(SeriesMember.series_id == series.id)
        .order_by(Report.received_at, Report.id)
    ).all()
    pks = [report.id for report, _, _ in rows]
    artifacts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for rid, kind, value in session.execute(
        select(Artifact.report_id, Artifact.kind, Artifact.value)
        .where(Artifact.report_id.in_(pks))
        .order_by(Artifact.id)
    ):
        artifacts[rid].append((kind, value))
    codes: dict[int, list[str]] = {}
    for rid, row_codes in session.execute(
        select(Classification.report_id, Classification.codes)
        .where(Classification.report_id.in_(pks))
        .order_by(Classification.recorded_at, Classification.id)
    ):
        codes[rid] = list(row_codes)
    members = [
        MemberView(r.public_id, ref, r.received_at, risk, codes.get(r.id, []), artifacts[r.id])
        for r, ref, risk in rows
    ]
    links = list(
        session.scalars(
            select(Link)
            .where(
                or_(Link.report_a.in_(pks), Link.report_b.in_(pks)),
                Link.state != "rejected",
            )
            .order_by(Link.id)
        )
    )
    ends = {x for link in links for x in (link.report_a, link.report_b)}
    publics = (
        dict(session.execute(select(Report.id, Report.public_id).where(Report.id.in_(ends))).all())
        if ends
        else {}
    )
    inside = set(pks)
    edges = [
        ChartEdge(
            publics[link.report_a], publics[link.report_b], list(link.reasons), link.state, link.id
        )
        for link in links
        if (link.report_a in inside and link.report_b in inside) or link.state == "suggested"
    ]
    outside = sorted({publics[x] for x in ends - inside})
    officer_name = None
    if series.officer:
        try:
            officer_name = staff_auth.find_staff(session, series.officer).display_name
        except StaffAccountError:
            officer_name = None
    return SeriesView(
        series.public_id,
        series.created_at,
        series.unit,
        series.officer,
        officer_name,
        members,
        edges,
        outside,
        sorted({m.case_reference for m in members}),
    )


def officers(session: Session) -> list[staff_auth.StaffInfo]:
    """Investigators a series can be assigned to (active accounts only)."""
    return [s for s in staff_auth.list_staff(session, role=Role.INVESTIGATOR) if s.active]


@dataclass(frozen=True)
class SeriesSummary:
    series_id: str
    reports: int
    unit: str | None
    officer: str | None
    created_at: datetime


def list_series(session: Session, actor: Actor) -> list[SeriesSummary]:
    require(actor, Permission.VIEW_SERIES)
    counts = dict(
        session.execute(
            select(SeriesMember.series_id, func.count()).group_by(SeriesMember.series_id)
        ).all()
    )
    rows = session.scalars(select(Series).order_by(Series.created_at.desc(), Series.id.desc()))
    return [
        SeriesSummary(s.public_id, counts.get(s.id, 0), s.unit, s.officer, s.created_at)
        for s in rows
    ]


def series_captures(session: Session, actor: Actor, series_id: str) -> list[captures.CaptureInfo]:
    """The evidence captures of a series' cases, by their records only (investigators)."""
    require(actor, Permission.LIST_CAPTURES)
    series = series_by_id(session, series_id)
    return captures.for_cases(session, case_refs(session, series))
