"""Staff pages: sign in (password + TOTP), the queue of new reports, sign out.

Server-rendered, no JavaScript. Every page asks the policy (through the cases services or
:func:`signed_in`) and never decides access itself; every form post carries the session's
CSRF token in a hidden field and must come from this site. No image is ever shown here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chorus.cases import case_view, series_view, worklist
from chorus.errors import AccessDeniedError, RateLimitedError, SessionError, SignInError
from chorus.monitor import review
from chorus.security import staff_auth
from chorus.security.policy import Permission, allowed, require
from chorus.security.staff_auth import COOKIE, StaffSession, StaffSessionSigner
from chorus.web.api.deps import SessionDep
from chorus.web.pages.portal import same_origin
from chorus.web.pages.register import NO_STORE, TEMPLATES

STAFF_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SIGN_IN = "/staff/sign-in"
router = APIRouter(tags=["pages"], include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]


def page(
    request: Request,
    template: str,
    staff: StaffSession | None = None,
    status: int = 200,
    **context: object,
) -> Response:
    """A staff page: strict CSP, never cached; ``can`` lets the template ask the policy."""

    def can(permission: str) -> bool:
        return staff is not None and allowed(staff.actor, Permission(permission))

    response = TEMPLATES.TemplateResponse(
        request, template, {"staff": staff, "can": can, **context}, status_code=status
    )
    response.headers["Content-Security-Policy"] = STAFF_CSP
    response.headers["Cache-Control"] = NO_STORE
    return response


class Refused(Exception):
    """A staff request that cannot go on; ``response`` says so (sign-in or a refusal)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def signed_in(
    request: Request,
    session: Session,
    permission: Permission | None = None,
    csrf_token: str | None = None,
) -> StaffSession:
    """The signed-in staff member allowed ``permission``; for posts, same origin + CSRF."""
    signer: StaffSessionSigner = request.app.state.staff_signer
    try:
        staff = signer.read(session, request.cookies.get(COOKIE))
    except SessionError as exc:
        raise Refused(RedirectResponse(SIGN_IN, status_code=303)) from exc
    if request.method == "POST":
        try:
            if not same_origin(request):
                raise SessionError("Please use the form on this site.")
            staff.check_csrf(csrf_token)
        except SessionError as exc:
            raise Refused(
                page(request, "staff_refused.html", staff, 400, message=exc.message)
            ) from exc
    if permission is not None:
        try:
            require(staff.actor, permission)
        except AccessDeniedError as exc:
            raise Refused(
                page(request, "staff_refused.html", staff, 403, message=exc.message)
            ) from exc
    return staff


@router.get("/staff/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return page(request, "staff_sign_in.html")


@router.post("/staff/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=60)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if not same_origin(request):
        return page(
            request, "staff_sign_in.html", None, 400, error="Please sign in from this page."
        )
    client = request.client.host if request.client else "unknown"
    try:
        request.app.state.rate_limiter.check(f"staff-sign-in:{client}", 20)
        staff = staff_auth.sign_in(session, request.app.state.keyring, username, password, code)
    except (RateLimitedError, SignInError) as exc:
        session.commit()  # a failed attempt counts towards the lockout
        error = (
            exc.message
            if isinstance(exc, SignInError)
            else ("Too many attempts from here. Please wait a minute, then try again.")
        )
        return page(request, "staff_sign_in.html", None, 401, error=error, username=username)
    signer: StaffSessionSigner = request.app.state.staff_signer
    cookie, _csrf = signer.issue(staff)
    response = RedirectResponse("/staff", status_code=303)
    secure = request.app.state.settings.env == "production" or request.url.scheme == "https"
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=signer.max_age_s,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/staff",
    )
    return response


@router.post("/staff/sign-out")
def sign_out(request: Request, session: SessionDep, csrf_token: Csrf = "") -> Response:
    response = RedirectResponse(SIGN_IN, status_code=303)
    try:
        staff = signed_in(request, session, csrf_token=csrf_token)
    except Refused:
        return response
    staff_auth.end_sessions(session, staff.staff.id)  # a copied cookie ends too
    response.delete_cookie(COOKIE, path="/staff")
    return response


@router.get("/staff", response_class=HTMLResponse)
def queue(request: Request, session: SessionDep) -> Response:
    try:
        staff = signed_in(request, session)
    except Refused as refused:
        return refused.response
    items = (
        worklist.queue(session, staff.actor)
        if allowed(staff.actor, Permission.VIEW_QUEUE)
        else None
    )
    series = (
        series_view.list_series(session, staff.actor)
        if allowed(staff.actor, Permission.VIEW_SERIES)
        else None
    )
    waiting = (
        case_view.waiting_cases(session, staff.actor)
        if allowed(staff.actor, Permission.MANAGE_CASE)
        else None
    )
    to_review = (
        review.held_count(session, by=staff.actor)
        if allowed(staff.actor, Permission.REVIEW_SIGHTING)
        else None
    )
    return page(request, "staff_queue.html", staff, items=items, series=series,
                waiting=waiting, to_review=to_review)  # fmt: skip
