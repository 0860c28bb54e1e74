"""Portal: messages from the caseworker (newest first, new ones marked), a reply form, and
asking for a closed case to be reopened. Plain forms with the session's CSRF token; text
only, shown escaped, never an image."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.cases import lifecycle, messages, survivor_choices
from chorus.errors import CasesError, SessionError
from chorus.security.survivor_auth import COOKIE, SurvivorSession
from chorus.web.api.deps import SessionDep
from chorus.web.pages.portal import page, same_origin

router = APIRouter(tags=["pages"], include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]
Text = Annotated[str, Form(max_length=messages.MAX_LENGTH + 500)]
_SIGN_IN = "/portal/sign-in"


def _survivor(request: Request, csrf_token: str | None = None) -> SurvivorSession:
    survivor: SurvivorSession = request.app.state.session_signer.read(request.cookies.get(COOKIE))
    if csrf_token is not None:  # a form post: from this site, with the session's token
        if not same_origin(request):
            raise SessionError("Please use the form on this site.")
        survivor.check_csrf(csrf_token)
    return survivor


def _messages_page(
    request: Request, session: SessionDep, survivor: SurvivorSession, status: int = 200,
    **extra: object,
) -> Response:  # fmt: skip
    keyring = request.app.state.keyring
    survivor_choices.case_of(session, survivor.reference)  # a deleted case signs out
    shown = messages.for_survivor(session, keyring, survivor.reference)
    return page(request, "portal_messages.html", status, csrf_token=survivor.csrf_token,
                reference=survivor.reference, messages=shown, **extra)  # fmt: skip


@router.get("/portal/messages", response_class=HTMLResponse)
def messages_page(request: Request, session: SessionDep) -> Response:
    try:
        return _messages_page(request, session, _survivor(request))
    except (SessionError, CasesError):
        return RedirectResponse(_SIGN_IN, status_code=303)


@router.post("/portal/messages", response_class=HTMLResponse)
def send_reply(
    request: Request, session: SessionDep, csrf_token: Csrf = "", text: Text = ""
) -> Response:
    try:
        survivor = _survivor(request, csrf_token)
        survivor_choices.case_of(session, survivor.reference)
    except (SessionError, CasesError):
        return RedirectResponse(_SIGN_IN, status_code=303)
    try:
        with session.begin_nested():  # a refusal changes nothing
            messages.reply(session, request.app.state.keyring, survivor.reference, text)
    except CasesError as exc:
        return _messages_page(request, session, survivor, 422, error=exc.message, draft=text)
    return RedirectResponse("/portal/messages?sent=1", status_code=303)


@router.post("/portal/reopen", response_class=HTMLResponse)
def ask_to_reopen(
    request: Request, session: SessionDep, csrf_token: Csrf = "", note: Text = ""
) -> Response:
    try:
        survivor = _survivor(request, csrf_token)
        survivor_choices.case_of(session, survivor.reference)
    except (SessionError, CasesError):
        return RedirectResponse(_SIGN_IN, status_code=303)
    try:
        with session.begin_nested():
            lifecycle.request_reopen(session, request.app.state.keyring, survivor.reference, note)
    except CasesError as exc:
        return _messages_page(request, session, survivor, 422, error=exc.message)
    return RedirectResponse("/portal?saved=reopen", status_code=303)
