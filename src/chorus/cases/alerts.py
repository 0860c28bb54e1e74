"""Alerts on a case: the survivor's own details seen beside a copy (doxxing).

The monitor calls :func:`check_own_details` when it records a sighting; a hit raises the
case's risk level for the caseworker, and the survivor is told the way they chose (the
portal always shows it; "email" and "phone" put it on the caseworker's list to pass on).
Only the kinds of detail are kept, never the words of the post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.cases import doxxing
from chorus.cases.models import Case, CaseAlert, Report
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag

OWN_DETAILS_SEEN = "own_details_seen"
_RANK = {"standard": 0, "raised": 1, "high": 2}
#: How a kind of detail is named to the survivor.
_PLAIN = {
    "name": "your name",
    "handle": "a username of yours",
    "school": "your school or college",
    "workplace": "your workplace",
    "town": "your town",
}


def _case(session: Session, reference: str) -> Case | None:
    return session.scalar(select(Case).where(Case.reference == reference))


def own_details_of(session: Session, case: Case) -> list[doxxing.OwnDetail]:
    answers = session.scalars(select(Report.answers).where(Report.case_id == case.id))
    return doxxing.details_from(pair for a in answers for pair in doxxing.own_details(a))


def own_details_in(session: Session, case_reference: str, text: str) -> list[str]:
    """The kinds of the survivor's own details in ``text``, changing nothing (empty when
    ``case_reference`` is no case: bank entries of partners are owned by opaque ids)."""
    case = _case(session, case_reference)
    if case is None:
        return []
    return doxxing.kinds_seen(text, own_details_of(session, case))


def raise_own_details(
    session: Session,
    keyring: KeyRing,
    case_reference: str,
    kinds: list[str],
    *,
    sighting: str | None,
    by: str,
) -> list[str]:
    """Alert the case that ``kinds`` of the survivor's details were seen and raise its risk.

    For a hit found earlier by :func:`own_details_in` (the monitor holds a possible match
    until a caseworker confirms it, and raises the alert only then). Returns ``kinds``.
    """
    case = _case(session, case_reference)
    if case is None or not kinds:
        return []
    level = doxxing.risk_for(kinds)
    if _RANK[level] > _RANK.get(case.risk_level, 0):
        case.risk_level = level
    session.add(CaseAlert(case_id=case.id, kind=OWN_DETAILS_SEEN, details=kinds,
                          sighting=sighting, told_via=case.contact_channel))  # fmt: skip
    ledger.append(
        session, EventTag.CASE_OWN_DETAILS_SEEN, by,
        {"case": case.reference, **({"sighting": sighting} if sighting else {})},
        {"details": kinds, "risk_level": case.risk_level},
        scope=f"case:{case.reference}", keyring=keyring,
    )  # fmt: skip
    return kinds


def check_own_details(
    session: Session,
    keyring: KeyRing,
    case_reference: str,
    text: str,
    *,
    sighting: str | None,
    by: str,
) -> list[str]:
    """Look for the survivor's details in ``text``; on a hit, alert and raise the risk.

    Returns the kinds seen (empty when none, or when ``case_reference`` is no case).
    """
    kinds = own_details_in(session, case_reference, text)
    return raise_own_details(session, keyring, case_reference, kinds, sighting=sighting, by=by)


@dataclass(frozen=True)
class AlertView:
    when: datetime
    text: str
    told_via: str
    acknowledged: bool


def plain_details(kinds: list[str]) -> str:
    words = [_PLAIN.get(k, "a detail about you") for k in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def alerts_for(session: Session, case_reference: str) -> list[AlertView]:
    """The case's alerts in plain words, newest first (for the survivor and caseworker)."""
    case = _case(session, case_reference)
    if case is None:
        return []
    rows = session.scalars(
        select(CaseAlert).where(CaseAlert.case_id == case.id).order_by(CaseAlert.id.desc())
    )
    return [
        AlertView(
            row.created_at,
            f"Next to a copy we found, someone also wrote {plain_details(row.details)}. "
            "Your caseworker knows and will get in touch the way you asked.",
            row.told_via,
            row.acknowledged_at is not None,
        )
        for row in rows
    ]
