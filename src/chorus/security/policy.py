"""Who may do what: one table of roles and permissions that every edge and service asks.

Services take an :class:`Actor` (who is acting, in which role) and call :func:`require`
before anything sensitive; staff pages ask :func:`allowed` before they show a link or a
form, and never decide access themselves. Staff sign in with password + TOTP
(``chorus.security.staff_auth``), survivors with their case reference + PIN
(``chorus.security.survivor_auth``); command-line tools act as a named operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chorus.errors import AccessDeniedError


class Role(StrEnum):
    SURVIVOR = "survivor"
    CASEWORKER = "caseworker"
    INVESTIGATOR = "investigator"
    PARTNER = "partner"
    ADMIN = "admin"
    SYSTEM = "system"  # Chorus's own processes (the monitor, scheduled jobs)


#: Roles a staff account can have (survivors, partners and the system never sign in here).
STAFF_ROLES = (Role.CASEWORKER, Role.INVESTIGATOR, Role.ADMIN)


class Permission(StrEnum):
    # evidence
    ADD_CAPTURE = "evidence:capture:add"
    LIST_CAPTURES = "evidence:capture:list"
    VIEW_CAPTURE = "evidence:capture:view"
    EXPORT_EVIDENCE = "evidence:bundle:export"
    VERIFY_LEDGER = "evidence:ledger:verify"
    SHRED_CASE_DATA = "evidence:case:shred"
    # cases, staff side
    VIEW_QUEUE = "cases:queue:view"
    VIEW_REPORT = "cases:report:view"
    CLASSIFY_REPORT = "cases:report:classify"
    DECIDE_LINK = "cases:link:decide"
    VIEW_SERIES = "cases:series:view"
    FORM_SERIES = "cases:series:form"
    ASSIGN_SERIES = "cases:series:assign"
    # staff accounts
    MANAGE_STAFF = "security:staff:manage"
    MANAGE_CASE = "cases:case:manage"  # assign a named contact, close, transfer, reopen
    MESSAGE_SURVIVOR = "cases:message:send"  # write to a survivor, read their replies
    VIEW_CONNECTIONS = "cases:connections:view"  # common connections within a series
    # takedowns
    MANAGE_TAKEDOWNS = "takedowns:notice:manage"  # draft, send, record replies, escalate
    # monitor
    DISCARD_CAPTURE = "evidence:capture:discard"  # a capture of a copy found to be no match
    REVIEW_SIGHTING = "monitor:sighting:review"  # confirm or reject a robust-only match


#: What each permission lets someone do, in words for a refusal.
DOES = {
    Permission.ADD_CAPTURE: "add evidence captures",
    Permission.LIST_CAPTURES: "see the list of evidence captures",
    Permission.VIEW_CAPTURE: "open evidence captures",
    Permission.EXPORT_EVIDENCE: "export evidence bundles",
    Permission.VERIFY_LEDGER: "check the evidence ledger",
    Permission.SHRED_CASE_DATA: "delete a case's data",
    Permission.VIEW_QUEUE: "see the queue of new reports",
    Permission.VIEW_REPORT: "read reports",
    Permission.CLASSIFY_REPORT: "record how a report is classified",
    Permission.DECIDE_LINK: "confirm or reject suggested links",
    Permission.VIEW_SERIES: "see series",
    Permission.FORM_SERIES: "make a series from linked reports",
    Permission.ASSIGN_SERIES: "assign a series to a unit and officer",
    Permission.MANAGE_STAFF: "manage staff accounts",
    Permission.MANAGE_CASE: "assign a contact, close, transfer or reopen a case",
    Permission.MESSAGE_SURVIVOR: "write to survivors and read their replies",
    Permission.VIEW_CONNECTIONS: "see the common connections within a series",
    Permission.MANAGE_TAKEDOWNS: "draft, send and follow takedown notices",
    Permission.DISCARD_CAPTURE: "discard the capture of a copy found not to be a match",
    Permission.REVIEW_SIGHTING: "confirm or reject a possible match found by the monitor",
}

_CASEWORK = frozenset(
    {
        Permission.VIEW_QUEUE,
        Permission.VIEW_REPORT,
        Permission.CLASSIFY_REPORT,
        Permission.DECIDE_LINK,
        Permission.VIEW_SERIES,
        Permission.FORM_SERIES,
        Permission.ASSIGN_SERIES,
        Permission.MANAGE_CASE,
        Permission.MESSAGE_SURVIVOR,
        Permission.MANAGE_TAKEDOWNS,
    }
)

_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.SURVIVOR: frozenset({Permission.ADD_CAPTURE}),
    # Caseworkers read reports and decide links, but never see captures (they may show
    # intimate images): they may only discard one found not to be a match, unseen.
    Role.CASEWORKER: _CASEWORK
    | {
        Permission.ADD_CAPTURE,
        Permission.SHRED_CASE_DATA,
        Permission.REVIEW_SIGHTING,
        Permission.DISCARD_CAPTURE,
    },
    # Captures may show intimate images: only investigators list, open or export them.
    Role.INVESTIGATOR: frozenset(
        {
            Permission.VIEW_QUEUE,
            Permission.VIEW_REPORT,
            Permission.VIEW_SERIES,
            Permission.ADD_CAPTURE,
            Permission.LIST_CAPTURES,
            Permission.VIEW_CAPTURE,
            Permission.EXPORT_EVIDENCE,
            Permission.VERIFY_LEDGER,
            Permission.VIEW_CONNECTIONS,
            Permission.REVIEW_SIGHTING,
            Permission.DISCARD_CAPTURE,
        }
    ),
    Role.PARTNER: frozenset(),
    # Administrators manage accounts; they do not read reports or evidence.
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_STAFF,
            Permission.VERIFY_LEDGER,
            Permission.SHRED_CASE_DATA,
        }
    ),
    Role.SYSTEM: frozenset(
        {
            Permission.ADD_CAPTURE,
            Permission.VERIFY_LEDGER,
            Permission.SHRED_CASE_DATA,
            Permission.MANAGE_TAKEDOWNS,
        }
    ),
}


@dataclass(frozen=True)
class Actor:
    """Someone (or some process) acting in one role. ``id`` is opaque: a staff id, a case ref."""

    role: Role
    id: str

    @property
    def label(self) -> str:
        """How the ledger names this actor: ``role:id``."""
        return f"{self.role.value}:{self.id}"


def allowed(actor: Actor, permission: Permission) -> bool:
    return permission in _GRANTS[actor.role]


def require(actor: Actor, permission: Permission) -> None:
    """Raise AccessDeniedError unless ``actor``'s role grants ``permission``."""
    if not allowed(actor, permission):
        raise AccessDeniedError(
            f"Your role ({actor.role.value}) does not let you "
            f"{DOES.get(permission, 'do this')} "
            f"({permission.value}). If you need to, please ask an administrator."
        )
