"""Series as staff work with them: made from reports joined by confirmed links, grown as
more links are confirmed, and assigned to one unit and one named officer (what staff read
of a series is in ``series_view``).

Membership is kept in ``case_series_members`` (a report is in one series at most) and
every change is in the ledger, per member case, so evidence exports find the series.
"""

from __future__ import annotations

from collections import deque

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chorus.cases import service
from chorus.cases.models import Case, Link, Report, Series, SeriesMember
from chorus.errors import CasesError, StaffAccountError
from chorus.evidence import ledger
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


def case_refs(session: Session, series: Series) -> list[str]:
    """The references of the cases with a report in ``series``, sorted."""
    return sorted(
        set(
            session.scalars(
                select(Case.reference)
                .join(Report, Report.case_id == Case.id)
                .join(SeriesMember, SeriesMember.report_id == Report.id)
                .where(SeriesMember.series_id == series.id)
            )
        )
    )


def series_by_id(session: Session, series_id: str) -> Series:
    series = session.scalar(select(Series).where(Series.public_id == series_id))
    if series is None:
        raise CasesError(f"No series has the id {series_id}.")
    return series


def _add_members(session: Session, series: Series, report_pks: set[int], by: str) -> None:
    known = set(case_refs(session, series))
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
    series = service.form_series(session, sorted(publics), by=actor.label)  # adds members
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


def assign(
    session: Session, keyring: KeyRing, actor: Actor, series_id: str, officer: str, reason: str
) -> None:
    """Assign a series to one named investigator and so to their unit; in the ledger."""
    require(actor, Permission.ASSIGN_SERIES)
    series = series_by_id(session, series_id)
    try:
        staff = staff_auth.find_staff(session, officer)
    except StaffAccountError as exc:
        raise CasesError(exc.message) from exc
    if staff.role is not Role.INVESTIGATOR or not staff.active:
        raise CasesError(f"{staff.display_name} is not an active investigator; choose one who is.")
    if not reason.strip():
        raise CasesError("Say why this officer is taking the series; it is kept with the record.")
    series.unit, series.officer = staff.unit, staff.username
    refs = case_refs(session, series)
    ledger.append(
        session,
        EventTag.SERIES_ASSIGNED,
        actor.label,
        {"series": series.public_id, "case": refs},
        {"unit": staff.unit, "officer": staff.username, "reason": reason.strip()[:2000]},
        keyring=keyring,
    )
