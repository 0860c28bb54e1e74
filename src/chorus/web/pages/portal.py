"""The survivor portal: sign in with case reference + PIN, see where things stand.

Works without JavaScript (plain forms); a tiny script only makes "Leave this page
quickly" replace the page in the history. No images are ever shown here: counts and
dates only.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.cases import alerts, lifecycle, messages, named_contact, survivor_choices
from chorus.cases import service as cases
from chorus.errors import CasesError, RateLimitedError, SessionError, SignInError
from chorus.matching import bank
from chorus.monitor import sightings
from chorus.security import survivor_auth
from chorus.security.survivor_auth import COOKIE
from chorus.takedowns import progress as takedown_progress
from chorus.web.api.deps import SessionDep
from chorus.web.api.survivor import start_session
from chorus.web.pages.register import NO_STORE, TEMPLATES

PORTAL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
router = APIRouter(tags=["pages"], include_in_schema=False)


def page(request: Request, template: str, status: int = 200, **context: object) -> Response:
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status)
    response.headers["Content-Security-Policy"] = PORTAL_CSP
    response.headers["Cache-Control"] = NO_STORE
    return response


def same_origin(request: Request) -> bool:
    """Refuse form posts from other sites (login CSRF). Browsers say where a request comes
    from in Sec-Fetch-Site; with no-referrer pages, Origin is "null", so that comes first."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True  # old browsers that send neither: SameSite=Strict still guards the cookie
    return urlsplit(origin).netloc == request.headers.get("host")


@router.get("/portal/sign-in", response_class=HTMLResponse)
def sign_inpage(request: Request) -> Response:
    return page(request, "portal_sign_in.html")


@router.post("/portal/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: SessionDep,
    reference: Annotated[str, Form(max_length=40)] = "",
    pin: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    if not same_origin(request):
        return page(request, "portal_sign_in.html", 400, error="Please sign in from this page.")
    client = request.client.host if request.client else "unknown"
    try:
        request.app.state.rate_limiter.check(f"sign-in:{client}", 20)
    except RateLimitedError:
        error = "Too many attempts from here. Please wait a minute, then try again."
        return page(request, "portal_sign_in.html", 429, error=error)
    try:
        signed = survivor_auth.sign_in(session, reference, pin)
    except SignInError as exc:
        session.commit()  # the failed attempt counts towards the lockout
        return page(request, "portal_sign_in.html", 401, error=exc.message)
    response = RedirectResponse("/portal", status_code=303)
    start_session(request, response, signed)
    return response


@router.get("/portal", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    try:
        survivor = request.app.state.session_signer.read(request.cookies.get(COOKIE))
    except SessionError:
        return RedirectResponse("/portal/sign-in", status_code=303)
    reference = survivor.reference
    try:
        case = survivor_choices.case_of(session, reference)
    except CasesError:  # deleted at the survivor's request
        response = RedirectResponse("/portal/sign-in", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
    return page(
        request,
        "portal_home.html",
        reference=reference,
        csrf_token=survivor.csrf_token,
        timeline=cases.timeline(session, reference),
        alerts=alerts.alerts_for(session, reference),
        deletion_due=case.deletion_due_at,
        case_status=case.status,
        contact=named_contact.current_contact(session, request.app.state.settings, reference),
        unread=messages.unread_count(session, reference),
        reopen_asked=lifecycle.pending_reopen_request(session, reference),
        protected=bank.count_for_owner(session, reference),
        progress=sightings.progress_for_owner(session, reference),
        removal=takedown_progress.removal_progress(session, reference),
    )


@router.post("/portal/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    response = RedirectResponse("/portal/sign-in", status_code=303)
    try:
        request.app.state.session_signer.read(request.cookies.get(COOKIE)).check_csrf(csrf_token)
    except SessionError:
        return response
    response.delete_cookie(COOKIE, path="/")
    return response
