"""Portal actions: how we keep in touch and what the survivor agrees to, a copy of their
data, taking their fingerprints back, and deletion (with time to change their mind).

Every form carries the session's CSRF token; nothing here shows an image.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.cases import contact, survivor_choices
from chorus.cases.contact import ContactChoices
from chorus.errors import CasesError, SessionError
from chorus.matching import bank
from chorus.security.survivor_auth import COOKIE, SurvivorSession
from chorus.web.api.deps import SessionDep
from chorus.web.pages.portal import page, same_origin

router = APIRouter(tags=["pages"], include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]
_SIGN_IN = RedirectResponse("/portal/sign-in", status_code=303)


def _survivor(request: Request, csrf_token: str | None = None) -> SurvivorSession:
    survivor: SurvivorSession = request.app.state.session_signer.read(request.cookies.get(COOKIE))
    if csrf_token is not None:  # a form post: from this site, with the session's token
        if not same_origin(request):
            raise SessionError("Please use the form on this site.")
        survivor.check_csrf(csrf_token)
    return survivor


def _data_page(request: Request, session: SessionDep, survivor: SurvivorSession,
               status: int = 200, **extra: object) -> Response:  # fmt: skip
    case = survivor_choices.case_of(session, survivor.reference)
    return page(request, "portal_data.html", status, reference=survivor.reference,
                csrf_token=survivor.csrf_token, protected=bank.count_for_owner(
                    session, survivor.reference), case_status=case.status,
                deletion_due=case.deletion_due_at, **extra)  # fmt: skip


@router.get("/portal/choices", response_class=HTMLResponse)
def choices_page(request: Request, session: SessionDep) -> Response:
    try:
        survivor = _survivor(request)
        case = survivor_choices.case_of(session, survivor.reference)
    except (SessionError, CasesError):
        return _SIGN_IN
    current = contact.read(session, request.app.state.keyring, case)
    return page(request, "portal_choices.html", csrf_token=survivor.csrf_token, choices=current)


@router.post("/portal/choices", response_class=HTMLResponse)
def save_choices(
    request: Request,
    session: SessionDep,
    csrf_token: Csrf = "",
    channel: Annotated[str, Form(max_length=10)] = "portal",
    detail: Annotated[str, Form(max_length=200)] = "",
    times: Annotated[str, Form(max_length=200)] = "",
    consent_linking: Annotated[str, Form(max_length=5)] = "",
    consent_police_contact: Annotated[str, Form(max_length=5)] = "",
    consent_peer_contact: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    try:
        survivor = _survivor(request, csrf_token)
    except SessionError:
        return _SIGN_IN
    try:
        choices = ContactChoices.model_validate(
            {"channel": channel if channel in ("portal", "email", "phone") else "portal",
             "detail": detail or None, "times": times or None,
             "consent_linking": bool(consent_linking),
             "consent_police_contact": bool(consent_police_contact),
             "consent_peer_contact": bool(consent_peer_contact)}
        )  # fmt: skip
        survivor_choices.update_choices(session, request.app.state.keyring, survivor.reference,
                                        choices)  # fmt: skip
    except CasesError as exc:
        return page(request, "portal_choices.html", 422, csrf_token=survivor.csrf_token,
                    choices=ContactChoices(), error=exc.message)  # fmt: skip
    return RedirectResponse("/portal?saved=choices", status_code=303)


@router.get("/portal/data", response_class=HTMLResponse)
def data_page(request: Request, session: SessionDep) -> Response:
    try:
        return _data_page(request, session, _survivor(request))
    except (SessionError, CasesError):
        return _SIGN_IN


@router.post("/portal/data/export")
def export(request: Request, session: SessionDep, csrf_token: Csrf = "") -> Response:
    try:
        survivor = _survivor(request, csrf_token)
        data = survivor_choices.export_data(session, request.app.state.keyring,
                                            survivor.reference)  # fmt: skip
    except (SessionError, CasesError):
        return _SIGN_IN
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{survivor.reference}.json"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip


@router.post("/portal/data/withdraw-fingerprints", response_class=HTMLResponse)
def withdraw(
    request: Request,
    session: SessionDep,
    csrf_token: Csrf = "",
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    try:
        survivor = _survivor(request, csrf_token)
    except SessionError:
        return _SIGN_IN
    if not confirm:
        return _data_page(request, session, survivor, 422,
                          error="Please tick the box to confirm, then try again.")  # fmt: skip
    count = bank.withdraw_owner(session, survivor.reference, reason="withdrawn by the survivor",
                                actor=f"survivor:{survivor.reference}")  # fmt: skip
    return _data_page(request, session, survivor, done=f"{count} fingerprints were withdrawn.")


@router.post("/portal/data/delete", response_class=HTMLResponse)
def delete(
    request: Request,
    session: SessionDep,
    csrf_token: Csrf = "",
    confirm: Annotated[str, Form(max_length=5)] = "",
    cancel: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    try:
        survivor = _survivor(request, csrf_token)
    except SessionError:
        return _SIGN_IN
    try:
        if cancel:
            survivor_choices.cancel_deletion(session, survivor.reference)
            return _data_page(request, session, survivor, done="Nothing will be deleted.")
        if not confirm:
            return _data_page(request, session, survivor, 422,
                              error="Please tick the box to confirm, then try again.")  # fmt: skip
        grace = request.app.state.settings.deletion_grace_s
        survivor_choices.request_deletion(session, survivor.reference, grace_s=grace)
    except CasesError as exc:
        return _data_page(request, session, survivor, 422, error=exc.message)
    return _data_page(request, session, survivor)
