"""Every case has a named contact: a person, their unit and how to reach them.

From the moment a case is filed it shows the duty contact from the settings (production
refuses to start without one: see ``Settings.duty_contact``), until a caseworker assigns
a named person. Every assignment is kept (who, when) and recorded in the ledger, and the
survivor is told in the portal who their contact is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.cases import messages
from chorus.cases.models import Case, CaseContact
from chorus.config import Settings
from chorus.errors import CasesError
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor, Permission, require

_LIMITS = {"name": 120, "unit": 200, "reach": 300}


@dataclass(frozen=True)
class NamedContact:
    """Who looks after a case and how to reach them (a phone line with hours, say)."""

    name: str
    unit: str
    reach: str
    is_duty_contact: bool = False

    def checked(self) -> NamedContact:
        values = {"name": self.name.strip(), "unit": self.unit.strip(), "reach": self.reach.strip()}
        for field, value in values.items():
            if not value:
                raise CasesError(
                    "A named contact needs a person's name, their unit or organisation and "
                    f"how to reach them; the {field} is missing."
                )
            if len(value) > _LIMITS[field]:
                raise CasesError(f"Please keep the contact's {field} under {_LIMITS[field]} "
                                 "characters.")  # fmt: skip
        return NamedContact(values["name"], values["unit"], values["reach"])

    def plain(self) -> str:
        """How the survivor reads it: "Sam Okoro, Example Helpline: 0300 ... weekdays"."""
        return f"{self.name}, {self.unit}: {self.reach}"


def _case(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.status == "deleted":
        raise CasesError("No case has that reference.")
    return case


def _latest(session: Session, case: Case) -> CaseContact | None:
    return session.scalar(
        select(CaseContact).where(CaseContact.case_id == case.id).order_by(CaseContact.id.desc())
    )


def current_contact(session: Session, settings: Settings, reference: str) -> NamedContact:
    """The case's named contact now: the last one assigned, or the duty contact."""
    row = _latest(session, _case(session, reference))
    if row is None:
        name, unit, reach = settings.duty_contact()
        return NamedContact(name, unit, reach, is_duty_contact=True)
    return NamedContact(row.name, row.unit, row.reach)


def record(session: Session, case: Case, contact: NamedContact, by: str) -> CaseContact:
    """Keep a new assignment (no ledger entry: the caller records the event it is part of)."""
    contact = contact.checked()
    row = CaseContact(case_id=case.id, name=contact.name, unit=contact.unit,
                      reach=contact.reach, assigned_by=by)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def assign_contact(
    session: Session, keyring: KeyRing, actor: Actor, reference: str, contact: NamedContact
) -> NamedContact:
    """A caseworker names who looks after the case; the survivor is told in the portal."""
    require(actor, Permission.MANAGE_CASE)
    case = _case(session, reference)
    row = record(session, case, contact, actor.label)
    checked = NamedContact(row.name, row.unit, row.reach)
    message = messages.tell_survivor(
        session, keyring, case, actor.label,
        f"{checked.name} from {checked.unit} is now your named contact. You can reach them "
        f"here: {checked.reach}.",
    )  # fmt: skip
    ledger.append(session, EventTag.CASE_CONTACT_ASSIGNED, actor.label,
                  {"case": reference, "message": message})  # fmt: skip
    return checked


@dataclass(frozen=True)
class Assignment:
    contact: NamedContact
    by: str
    when: datetime


def contact_history(session: Session, actor: Actor, reference: str) -> list[Assignment]:
    """Every named contact the case has had, oldest first (who assigned them, when)."""
    require(actor, Permission.MANAGE_CASE)
    case = _case(session, reference)
    rows = session.scalars(
        select(CaseContact).where(CaseContact.case_id == case.id).order_by(CaseContact.id)
    )
    return [Assignment(NamedContact(r.name, r.unit, r.reach), r.assigned_by, r.assigned_at)
            for r in rows]  # fmt: skip
