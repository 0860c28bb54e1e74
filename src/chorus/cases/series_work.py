"""Series as staff work with them: made from reports joined by confirmed links, shown with
their members, artifacts and links, and assigned to one unit and one named officer.

Membership is kept in ``case_series_members`` (a report is in one series at most) and
every change is in the ledger, per member case, so evidence exports find the series.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chorus.cases import service
from chorus.cases.models import Artifact, Case, Classification, Link, Report, Series, SeriesMember
from chorus.errors import CasesError, StaffAccountError
from chorus.evidence import captures, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security import staff_auth
from chorus.security.policy import Actor, Permission, Role, require


def public_id_of(session: Session, series_pk: int) -> str:
    return str(session.scalar(select(Series.public_id).where(Series.id == series_pk)))


def confirmed_component(session: Session, report_pk: int) -> set[int]:
    """Reports joined to ``report_pk`` by confirmed links (itself included)."""
    seen, todo = {report_pk}, deque([report_pk])
    while todo:
        current = todo.popleft()
        for a, b in session.execute(
            select(Link.report_a, Link.report_b).where(
                Link.state == "confirmed", or_(Link.report_a == current, Link.report_b == current)
            )
        ):
            for other in (a, b):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
    return seen


def _series(session: Session, series_id: str) -> Series:
    series = session.scalar(select(Series).where(Series.public_id == series_id))
    if series is None:
        raise CasesError(f"No series has the id {series_id}.")
    return series


def _add_members(session: Session, series: Series, report_pks: set[int], by: str) -> None:
    known = set(
        session.scalars(
            select(Case.reference)
            .join(Report, Report.case_id == Case.id)
            .join(SeriesMember, SeriesMember.report_id == Report.id)
            .where(SeriesMember.series_id == series.id)
        )
    )
    for pk in sorted(report_pks):
        session.add(SeriesMember(series_id=series.id, report_id=pk, added_by=by))
    session.flush()
    refs = set(
        session.scalars(
            select(Case.reference)
            .join(Report, Report.case_id == Case.id)
            .where(Report.id.in_(report_pks))
        )
    )
    for ref in sorted(refs - known):
        ledger.append(
            session, EventTag.SERIES_MEMBER_ADDED, by, {"case": ref, "series": series.public_id}
        )


def make_series(session: Session, actor: Actor, report_id: str) -> str:
    """A series of the reports joined to ``report_id`` by confirmed links; if some of them
    are already in a series, the others join it. Returns the series id."""
    require(actor, Permission.FORM_SERIES)
    report = session.scalar(select(Report).where(Report.public_id == report_id))
    if report is None:
        raise CasesError(f"No report has the id {report_id}.")
    group = confirmed_component(session, report.id)
    if len(group) < 2:
        raise CasesError("Confirm at least one link of this report before making a series.")
    existing = dict(
        session.execute(
            select(SeriesMember.report_id, SeriesMember.series_id).where(
                SeriesMember.report_id.in_(group)
            )
        ).all()
    )
    if len(set(existing.values())) > 1:
        raise CasesError(
            "These reports are already in more than one series; they were left "
            "as they are. Joining two series is not possible here yet."
        )
    if existing:
        series = session.get(Series, next(iter(existing.values())))
        assert series is not None
        _add_members(session, series, group - set(existing), actor.label)
        return series.public_id
    publics = list(session.scalars(select(Report.public_id).where(Report.id.in_(group))))
    series = service.form_series(session, sorted(publics), by=actor.label)
    for pk in sorted(group):
        session.add(SeriesMember(series_id=series.id, report_id=pk, added_by=actor.label))
    session.flush()
    return series.public_id


def grow_after_confirm(session: Session, actor: Actor, report_pk: int) -> str | None:
    """After a link was confirmed: if its group touches a series, the rest joins it."""
    group = confirmed_component(session, report_pk)
    members = set(
        session.scalars(select(SeriesMember.series_id).where(SeriesMember.report_id.in_(group)))
    )
    if len(members) != 1:
        return None
    series = session.get(Series, members.pop())
    assert series is not None
    inside = set(
        session.scalars(select(SeriesMember.report_id).where(SeriesMember.report_id.in_(group)))
    )
    if group - inside:
        _add_members(session, series, group - inside, actor.label)
    return series.public_id


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
    series = _series(session, series_id)
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


def assign(
    session: Session, keyring: KeyRing, actor: Actor, series_id: str, officer: str, reason: str
) -> None:
    """Assign a series to one named investigator and so to their unit; in the ledger."""
    require(actor, Permission.ASSIGN_SERIES)
    series = _series(session, series_id)
    try:
        staff = staff_auth.find_staff(session, officer)
    except StaffAccountError as exc:
        raise CasesError(exc.message) from exc
    if staff.role is not Role.INVESTIGATOR or not staff.active:
        raise CasesError(f"{staff.display_name} is not an active investigator; choose one who is.")
    if not reason.strip():
        raise CasesError("Say why this officer is taking the series; it is kept with the record.")
    series.unit, series.officer = staff.unit, staff.username
    refs = sorted(
        set(
            session.scalars(
                select(Case.reference)
                .join(Report, Report.case_id == Case.id)
                .join(SeriesMember, SeriesMember.report_id == Report.id)
                .where(SeriesMember.series_id == series.id)
            )
        )
    )
    ledger.append(
        session,
        EventTag.SERIES_ASSIGNED,
        actor.label,
        {"series": series.public_id, "case": refs},
        {"unit": staff.unit, "officer": staff.username, "reason": reason.strip()[:2000]},
        keyring=keyring,
    )


@dataclass(frozen=True)
class SeriesSummary:
    series_id: str
    reports: int
    unit: str | None
    officer: str | None
    created_at: datetime


def list_series(session: Session, actor: Actor) -> list[SeriesSummary]:
    require(actor, Permission.VIEW_SERIES)
    counts: dict[int, int] = defaultdict(int)
    for (series_pk,) in session.execute(select(SeriesMember.series_id)):
        counts[series_pk] += 1
    rows = session.scalars(select(Series).order_by(Series.created_at.desc(), Series.id.desc()))
    return [SeriesSummary(s.public_id, counts[s.id], s.unit, s.officer, s.created_at) for s in rows]


def series_captures(session: Session, actor: Actor, series_id: str) -> list[captures.CaptureInfo]:
    """The evidence captures of a series' cases, by their records only (investigators)."""
    require(actor, Permission.LIST_CAPTURES)
    series = _series(session, series_id)
    refs = sorted(
        set(
            session.scalars(
                select(Case.reference)
                .join(Report, Report.case_id == Case.id)
                .join(SeriesMember, SeriesMember.report_id == Report.id)
                .where(SeriesMember.series_id == series.id)
            )
        )
    )
    return captures.for_cases(session, refs)
