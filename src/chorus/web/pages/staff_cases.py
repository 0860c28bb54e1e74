"""Staff pages for one case (caseworkers): its named contact and their history, assigning a
contact, closing, transferring and reopening (each with a reason and a contact, the
survivor told in plain words), a reopen request shown first, the messages with the
survivor, neutral notes still waiting (calls to make), and every status change.

Thin: each form calls one cases service; a ``ChorusError`` comes back as a calm message on
the same page with what was typed still in the form.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.cases import case_view, lifecycle, messages, named_contact, notifier
from chorus.cases.named_contact import NamedContact
from chorus.errors import ChorusError
from chorus.security.policy import Permission
from chorus.security.staff_auth import StaffSession
from chorus.web.api.deps import SessionDep
from chorus.web.pages.staff import Csrf, Refused, page, signed_in

router = APIRouter(tags=["pages"], include_in_schema=False)
Name = Annotated[str, Form(max_length=200)]
Unit = Annotated[str, Form(max_length=300)]
Reach = Annotated[str, Form(max_length=400)]
Reason = Annotated[str, Form(max_length=lifecycle.MAX_REASON + 100)]
Text = Annotated[str, Form(max_length=messages.MAX_LENGTH + 100)]


def _case_page(
    request: Request,
    session: SessionDep,
    staff: StaffSession,
    reference: str,
    status: int = 200,
    **extra: object,
) -> Response:
    app = request.app.state
    try:
        view = case_view.case_view(session, app.settings, app.keyring, staff.actor, reference)
    except ChorusError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    extra.setdefault("typed", {})
    return page(request, "staff_case.html", staff, status, case=view, **extra)


def _done(reference: str, saved: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/staff/cases/{reference}?saved={saved}{anchor}", status_code=303)


@router.get("/staff/cases", response_class=HTMLResponse)
def find_case(request: Request, session: SessionDep, reference: str = "") -> Response:
    """The queue's "open a case by its reference" form."""
    try:
        staff = signed_in(request, session, Permission.MANAGE_CASE)
    except Refused as refused:
        return refused.response
    ref = reference.strip().upper()
    if not re.fullmatch(r"[A-Z0-9-]{1,30}", ref):
        message = "Please type the case reference (it looks like CH-XXXX-XXXX)."
        return page(request, "staff_refused.html", staff, 422, message=message)
    return RedirectResponse(f"/staff/cases/{ref}", status_code=303)


@router.get("/staff/cases/{case_ref}", response_class=HTMLResponse)
def case(request: Request, session: SessionDep, case_ref: str) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_CASE)
    except Refused as refused:
        return refused.response
    return _case_page(request, session, staff, case_ref)


@router.post("/staff/cases/{case_ref}/contact", response_class=HTMLResponse)
def assign(
    request: Request,
    session: SessionDep,
    case_ref: str,
    csrf_token: Csrf = "",
    name: Name = "",
    unit: Unit = "",
    reach: Reach = "",
) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_CASE, csrf_token)
    except Refused as refused:
        return refused.response
    keyring = request.app.state.keyring
    try:
        with session.begin_nested():
            named_contact.assign_contact(session, keyring, staff.actor, case_ref,
                                         NamedContact(name, unit, reach))  # fmt: skip
    except ChorusError as exc:
        typed = {"contact": {"name": name, "unit": unit, "reach": reach}}
        return _case_page(request, session, staff, case_ref, 422, error=exc.message,
                          error_for="contact", typed=typed)  # fmt: skip
    return _done(case_ref, "contact")


def _status_change(
    request: Request,
    session: SessionDep,
    reference: str,
    action: str,
    csrf_token: str,
    reason: str,
    contact: dict[str, str],
) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_CASE, csrf_token)
    except Refused as refused:
        return refused.response
    keyring = request.app.state.keyring
    who = NamedContact(contact["name"], contact["unit"], contact["reach"])
    try:
        with session.begin_nested():
            if action == "close":
                lifecycle.close_case(session, keyring, staff.actor, reference,
                                     reason=reason, contact=who)  # fmt: skip
            elif action == "transfer":
                lifecycle.transfer_case(session, keyring, staff.actor, reference,
                                        reason=reason, to_contact=who)  # fmt: skip
            else:
                given = any(v.strip() for v in contact.values())
                lifecycle.reopen_case(session, keyring, staff.actor, reference,
                                      reason=reason, contact=who if given else None)  # fmt: skip
    except ChorusError as exc:
        typed = {action: {"reason": reason, **contact}}
        return _case_page(request, session, staff, reference, 422, error=exc.message,
                          error_for=action, typed=typed)  # fmt: skip
    return _done(reference, action)


@router.post("/staff/cases/{case_ref}/close", response_class=HTMLResponse)
def close(
    request: Request, session: SessionDep, case_ref: str, csrf_token: Csrf = "",
    reason: Reason = "", name: Name = "", unit: Unit = "", reach: Reach = "",
) -> Response:  # fmt: skip
    contact = {"name": name, "unit": unit, "reach": reach}
    return _status_change(request, session, case_ref, "close", csrf_token, reason, contact)


@router.post("/staff/cases/{case_ref}/transfer", response_class=HTMLResponse)
def transfer(
    request: Request, session: SessionDep, case_ref: str, csrf_token: Csrf = "",
    reason: Reason = "", name: Name = "", unit: Unit = "", reach: Reach = "",
) -> Response:  # fmt: skip
    contact = {"name": name, "unit": unit, "reach": reach}
    return _status_change(request, session, case_ref, "transfer", csrf_token, reason, contact)


@router.post("/staff/cases/{case_ref}/reopen", response_class=HTMLResponse)
def reopen(
    request: Request, session: SessionDep, case_ref: str, csrf_token: Csrf = "",
    reason: Reason = "", name: Name = "", unit: Unit = "", reach: Reach = "",
) -> Response:  # fmt: skip
    contact = {"name": name, "unit": unit, "reach": reach}
    return _status_change(request, session, case_ref, "reopen", csrf_token, reason, contact)


@router.post("/staff/cases/{case_ref}/messages", response_class=HTMLResponse)
def write(
    request: Request, session: SessionDep, case_ref: str, csrf_token: Csrf = "", text: Text = ""
) -> Response:
    try:
        staff = signed_in(request, session, Permission.MESSAGE_SURVIVOR, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        with session.begin_nested():
            messages.send_message(session, request.app.state.keyring, staff.actor, case_ref, text)
    except ChorusError as exc:
        return _case_page(request, session, staff, case_ref, 422, error=exc.message,
                          error_for="message", typed={"message": {"text": text}})  # fmt: skip
    return _done(case_ref, "message", "#messages-title")


@router.post("/staff/cases/{case_ref}/notes/{note_id}/called", response_class=HTMLResponse)
def called(
    request: Request, session: SessionDep, case_ref: str, note_id: int, csrf_token: Csrf = ""
) -> Response:
    try:
        staff = signed_in(request, session, Permission.MESSAGE_SURVIVOR, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        with session.begin_nested():
            notifier.record_call(session, staff.actor, case_ref, note_id)
    except ChorusError as exc:
        return _case_page(request, session, staff, case_ref, 422, error=exc.message,
                          error_for="notes")  # fmt: skip
    return _done(case_ref, "called")
