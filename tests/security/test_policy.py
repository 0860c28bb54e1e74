"""The one access table: every permission is described, and the lines that protect
survivors hold (caseworkers never open captures; administrators never read reports)."""

from __future__ import annotations

import pytest

from chorus.errors import AccessDeniedError
from chorus.security.policy import DOES, STAFF_ROLES, Actor, Permission, Role, allowed, require

CAPTURES = {Permission.LIST_CAPTURES, Permission.VIEW_CAPTURE, Permission.EXPORT_EVIDENCE}
READING = {Permission.VIEW_QUEUE, Permission.VIEW_REPORT, Permission.VIEW_SERIES}


def test_every_permission_is_described_in_words() -> None:
    assert set(DOES) == set(Permission)


@pytest.mark.parametrize("role", list(Role))
def test_only_investigators_touch_captures_and_admins_read_nothing(role: Role) -> None:
    actor = Actor(role, "someone")
    assert any(allowed(actor, p) for p in CAPTURES) == (role is Role.INVESTIGATOR)
    if role in (Role.ADMIN, Role.PARTNER, Role.SURVIVOR, Role.SYSTEM):
        assert not any(allowed(actor, p) for p in READING)
    assert allowed(actor, Permission.MANAGE_STAFF) == (role is Role.ADMIN)


def test_a_refusal_says_what_and_how_to_get_it() -> None:
    assert Role.CASEWORKER in STAFF_ROLES and Role.SURVIVOR not in STAFF_ROLES
    with pytest.raises(AccessDeniedError, match="does not let you open evidence captures"):
        require(Actor(Role.CASEWORKER, "a.khan"), Permission.VIEW_CAPTURE)
