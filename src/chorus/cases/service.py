"""Cases services: file a report, classify it, suggest links, confirm or reject, series.

Every change that matters to a case goes through the evidence ledger, by opaque ids.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chorus.cases import classification, contact, linking
from chorus.cases.intake import IntakeAnswers, artifacts_from_answers
from chorus.cases.models import (
    Artifact,
    Case,
    CaseContact,
    CaseStatusChange,
    Classification,
    Link,
    Report,
    Series,
    SeriesMember,
)
from chorus.errors import CasesError
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.store.base import utcnow

# No 0/O, 1/I/L, 5/S, 2/Z: a reference read out over the phone is not misheard.
_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"


def new_reference(prefix: str = "CH") -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


@dataclass(frozen=True)
class Filed:
    case_reference: str
    report_id: str
    suggested_codes: list[tuple[str, str]]
    new_links: int


def file_report(
    session: Session,
    keyring: KeyRing,
    answers: IntakeAnswers,
    *,
    case_reference: str | None = None,
    consent_linking: bool = True,
    contact_choices: contact.ContactChoices | None = None,
) -> Filed:
    """A new report (for a new case, or another report for an existing one)."""
    if case_reference:
        case = session.scalar(select(Case).where(Case.reference == case_reference))
        if case is None:
            raise CasesError("No case has that reference.")
    else:
        case = Case(reference=new_reference(), consent_linking=consent_linking)
        session.add(case)
        session.flush()
    if contact_choices is not None:
        contact.apply(session, keyring, case, contact_choices)
    report = Report(public_id=f"R-{secrets.token_hex(5).upper()}", case_id=case.id,
                    route=answers.route, answers=answers.model_dump())  # fmt: skip
    session.add(report)
    session.flush()
    artifacts = artifacts_from_answers(answers)
    for kind, value in artifacts:
        keys = linking.keys_for(kind, value)
        session.add(Artifact(report_id=report.id, kind=kind, value=value[:5000],
                             key=keys[0].key[:300] if keys else None))  # fmt: skip
    session.flush()
    suggested = classification.suggest(answers)
    ledger.append(
        session, EventTag.REPORT_RECEIVED, f"survivor:{case.reference}",
        {"case": case.reference, "report": report.public_id},
        {"route": answers.route, "suggested_codes": [c for c, _ in suggested]},
        scope=f"case:{case.reference}", keyring=keyring,
    )  # fmt: skip
    created = suggest_links_for(session, report) if case.consent_linking else 0
    return Filed(case.reference, report.public_id, suggested, created)


def classify(
    session: Session, report_id: str, codes: list[str], *, by: str, reason: str
) -> Classification:
    """Record the codes a caseworker chose; every change is kept with who, when and why."""
    report = _report(session, report_id)
    classification.check(IntakeAnswers.model_validate(report.answers), codes)
    if not reason.strip():
        raise CasesError("Say why this classification was chosen; it is kept with the record.")
    earlier = session.scalar(select(Classification.id).where(Classification.report_id == report.id))
    row = Classification(report_id=report.id, codes=codes, recorded_by=by, reason=reason)
    session.add(row)
    case = session.get(Case, report.case_id)
    assert case is not None
    tag = EventTag.REPORT_RECLASSIFIED if earlier else EventTag.REPORT_CLASSIFIED
    ledger.append(session, tag, by, {"case": case.reference, "report": report.public_id})
    return row


def _report(session: Session, report_id: str) -> Report:
    report = session.scalar(select(Report).where(Report.public_id == report_id))
    if report is None:
        raise CasesError(f"No report has the id {report_id}.")
    return report


def suggest_links_for(session: Session, report: Report) -> int:
    """Suggest links from ``report`` to earlier reports that share a link key with it."""
    own = list(session.scalars(select(Artifact).where(Artifact.report_id == report.id)))
    keys = {a.key for a in own if a.key}
    if not keys:
        return 0
    others = session.execute(
        select(Artifact.report_id, Artifact.kind, Artifact.value)
        .join(Report, Report.id == Artifact.report_id)
        .join(Case, Case.id == Report.case_id)
        .where(Artifact.key.in_(keys), Artifact.report_id != report.id, Case.consent_linking)
    ).all()
    grouped: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for report_id, kind, value in others:
        grouped[report_id].append((kind, value))
    batch = [(report.id, [(a.kind, a.value) for a in own]), *grouped.items()]
    suggestions, _series = linking.suggest(batch)
    created = 0
    for s in suggestions:
        if report.id not in (s.a, s.b):
            continue
        exists = session.scalar(select(Link.id).where(Link.report_a == s.a, Link.report_b == s.b))
        if exists is None:
            session.add(Link(report_a=s.a, report_b=s.b, reasons=s.reasons, score=s.score,
                             provenance="artifacts", state="suggested", weak=s.weak))  # fmt: skip
            created += 1
    session.flush()
    return created


def decide_link(session: Session, link_id: int, *, confirm: bool, by: str) -> Link:
    link = session.get(Link, link_id)
    if link is None:
        raise CasesError(f"No link has the id {link_id}.")
    link.state = "confirmed" if confirm else "rejected"
    link.decided_by, link.decided_at = by, utcnow()
    refs = [_case_ref(session, link.report_a), _case_ref(session, link.report_b)]
    tag = EventTag.LINK_CONFIRMED if confirm else EventTag.LINK_REJECTED
    ledger.append(session, tag, by, {"case": refs})
    return link


def _case_ref(session: Session, report_pk: int) -> str:
    return str(
        session.scalar(
            select(Case.reference)
            .join(Report, Report.case_id == Case.id)
            .where(Report.id == report_pk)
        )
    )


def suggested_series(
    session: Session, *, states: tuple[str, ...] = ("suggested", "confirmed")
) -> list[list[str]]:
    """Groups of report ids connected by links in ``states`` (largest first).

    A weak link (person names only) joins a group only once a caseworker confirmed it.
    """
    rows = session.execute(
        select(Link.report_a, Link.report_b)
        .where(Link.state.in_(states))
        .where(or_(Link.state == "confirmed", Link.weak.is_(False)))
    ).all()
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in rows:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for x in list(parent):
        groups[find(x)].append(x)
    ids = {pk: public for pk, public in session.execute(select(Report.id, Report.public_id))}
    return sorted(([ids[x] for x in sorted(g)] for g in groups.values()), key=len, reverse=True)


def form_series(session: Session, report_ids: list[str], *, by: str) -> Series:
    """Make a series of reports joined by confirmed links; recorded per member case."""
    reports = [_report(session, r) for r in dict.fromkeys(report_ids)]
    if len(reports) < 2:
        raise CasesError("A series needs at least two reports.")
    series = Series(public_id=f"S-{secrets.token_hex(4).upper()}")
    session.add(series)
    session.flush()
    for report in reports:
        session.add(SeriesMember(series_id=series.id, report_id=report.id, added_by=by))
    session.flush()
    cases = sorted({_case_ref(session, r.id) for r in reports})
    for case in cases:
        ledger.append(session, EventTag.SERIES_MEMBER_ADDED, by,
                      {"case": case, "series": series.public_id})  # fmt: skip
    return series


def links_of(session: Session, report_id: str) -> list[Link]:
    report = _report(session, report_id)
    return list(
        session.scalars(
            select(Link).where(or_(Link.report_a == report.id, Link.report_b == report.id))
        )
    )


@dataclass(frozen=True)
class TimelineItem:
    when: datetime
    text: str


def timeline(session: Session, reference: str) -> list[TimelineItem]:
    """What has happened in a case, in plain words, oldest first."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise CasesError("No case has that reference.")
    items = [TimelineItem(case.created_at, "Your case was opened and given its reference.")]
    for report in session.scalars(select(Report).where(Report.case_id == case.id)):
        items.append(TimelineItem(report.received_at, "We received your report."))
        for row in session.scalars(
            select(Classification).where(Classification.report_id == report.id)
        ):
            items.append(TimelineItem(row.recorded_at, "A caseworker recorded what happened "
                                      "as a crime, so it can be investigated."))  # fmt: skip
    for when, name, unit in session.execute(
        select(CaseContact.assigned_at, CaseContact.name, CaseContact.unit)
        .where(CaseContact.case_id == case.id)
    ):  # fmt: skip
        items.append(TimelineItem(when, f"{name} from {unit} became your named contact."))
    for change, unit in session.execute(
        select(CaseStatusChange, CaseContact.unit)
        .outerjoin(CaseContact, CaseContact.id == CaseStatusChange.contact_id)
        .where(CaseStatusChange.case_id == case.id)
    ):
        words = _STATUS_WORDS[change.action]
        if change.action == "transferred" and unit:
            words = f"Your case moved to {unit}, who now look after it."
        items.append(TimelineItem(change.at, words))
    return sorted(items, key=lambda item: item.when)


_STATUS_WORDS = {
    "closed": "Your case was closed. You can still sign in here and ask for it to be reopened.",
    "transferred": "Your case moved to another team, who now look after it.",
    "reopen_requested": "You asked for your case to be reopened.",
    "reopened": "Your case was reopened.",
}
