"""Who may do what: one table of roles and permissions that every edge and service asks.

Services take an :class:`Actor` (who is acting, in which role) and call :func:`require`
before anything sensitive. The cases issue adds the staff and survivor sign-in that turns
a request into an Actor; command-line tools act as a named operator.
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


class Permission(StrEnum):
    ADD_CAPTURE = "evidence:capture:add"
    VIEW_CAPTURE = "evidence:capture:view"
    EXPORT_EVIDENCE = "evidence:bundle:export"
    VERIFY_LEDGER = "evidence:ledger:verify"
    SHRED_CASE_DATA = "evidence:case:shred"
    DISCARD_CAPTURE = "evidence:capture:discard"  # a capture of a copy found to be no match
    REVIEW_SIGHTING = "monitor:sighting:review"  # confirm or reject a robust-only match


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.SURVIVOR: frozenset({Permission.ADD_CAPTURE}),
    Role.CASEWORKER: frozenset(
        {
            Permission.ADD_CAPTURE,
            Permission.SHRED_CASE_DATA,
            Permission.REVIEW_SIGHTING,
            Permission.DISCARD_CAPTURE,
        }
    ),
    # Captures may show intimate images: only investigators open or export them.
    Role.INVESTIGATOR: frozenset(
        {
            Permission.ADD_CAPTURE,
            Permission.VIEW_CAPTURE,
            Permission.EXPORT_EVIDENCE,
            Permission.VERIFY_LEDGER,
            Permission.REVIEW_SIGHTING,
            Permission.DISCARD_CAPTURE,
        }
    ),
    Role.PARTNER: frozenset(),
    Role.ADMIN: frozenset({Permission.VERIFY_LEDGER, Permission.SHRED_CASE_DATA}),
    Role.SYSTEM: frozenset(
        {Permission.ADD_CAPTURE, Permission.VERIFY_LEDGER, Permission.SHRED_CASE_DATA}
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
            f"The {actor.role.value} role cannot do this ({permission.value}). Evidence "
            "captures can be opened and exported by investigators only."
        )
