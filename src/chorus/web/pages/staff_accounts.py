"""Staff accounts for administrators: who has an account, in which role and unit, when
they last signed in; disabling one ends its sessions at once. Accounts are added with
``chorus staff add`` (it shows the sign-in code secret once, on the operator's terminal)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.errors import StaffAccountError
from chorus.security import staff_auth
from chorus.security.policy import Permission
from chorus.web.api.deps import SessionDep
from chorus.web.pages.staff import Csrf, Refused, page, signed_in

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/staff/accounts", response_class=HTMLResponse)
def accounts(request: Request, session: SessionDep) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_STAFF)
    except Refused as refused:
        return refused.response
    return page(request, "staff_accounts.html", staff, accounts=staff_auth.list_staff(session))


@router.post("/staff/accounts/{username}/disable", response_class=HTMLResponse)
def disable(
    request: Request, session: SessionDep, username: str, csrf_token: Csrf = ""
) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_STAFF, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        if username == staff.staff.username:
            raise StaffAccountError(
                "You cannot disable your own account; ask another administrator."
            )
        staff_auth.disable_staff(session, username)
    except StaffAccountError as exc:
        return page(request, "staff_accounts.html", staff, 422, error=exc.message,
                    accounts=staff_auth.list_staff(session))  # fmt: skip
    return RedirectResponse("/staff/accounts?saved=disabled", status_code=303)
