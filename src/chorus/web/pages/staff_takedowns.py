"""Caseworker pages for takedowns: a case's copies found online, one copy's takedown
(who can remove it, found by discovery with sources and how sure; a notice drafted under
a chosen law; its notices, proposed escalations and whole history).

Thin: every rule is in ``chorus.takedowns``. Server-rendered, no JavaScript, never an
image: copies are shown by their addresses only. Notices are in ``staff_notices``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.errors import SightingHeldError, TakedownError
from chorus.security.policy import Permission
from chorus.security.staff_auth import StaffSession
from chorus.takedowns import finding, regimes, service, views
from chorus.takedowns.discovery import Discoverer
from chorus.takedowns.notices import DEFAULT_DESCRIPTION, Choices, Disclosure
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole
from chorus.web.api.deps import SessionDep
from chorus.web.pages.staff import Csrf, Refused, page, signed_in

router = APIRouter(tags=["pages"], include_in_schema=False)
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=300)]
Tick = Annotated[str, Form(max_length=10)]
#: Roles a caseworker may type a recipient in as (search engines have their own pack).
TYPED_ROLES = [r for r in RecipientRole if r != RecipientRole.SEARCH_ENGINE]


def choices_from_form(staff: StaffSession, form: dict[str, str]) -> Choices:
    """What the caseworker filled in, as the notice's choices (checked by the service)."""
    named = form.get("disclosure") == "named"
    return Choices(
        disclosure=Disclosure(
            "named" if named else "representative",
            form.get("survivor_name", "").strip() or None if named else None,
            staff.actor.label if named else None,
        ),
        content_description=form.get("content_description", "").strip() or DEFAULT_DESCRIPTION,
        explanation_extra=form.get("explanation_extra", ""),
        signature=form.get("signature", ""),
        non_consent_confirmed=bool(form.get("non_consent")),
        accuracy_confirmed=bool(form.get("accurate")),
        survivor_took_image=bool(form.get("took_image")),
    )


def typed_recipient(form: dict[str, str]) -> Recipient:
    """A recipient the caseworker typed in (when discovery found nobody to write to)."""
    name = form.get("other_name", "").strip()
    email = form.get("other_email", "").strip() or None
    web_form = form.get("other_form", "").strip() or None
    if not name or not (email or web_form):
        raise TakedownError(
            "To write to someone discovery did not find, give their name and their email "
            "address or web form."
        )
    try:
        role = RecipientRole(form.get("other_role", "site"))
    except ValueError as exc:
        raise TakedownError("Choose where the recipient sits (site, host, ...).") from exc
    source = "typed in by a caseworker"
    return Recipient(role, name[:200], source, Confidence.MEDIUM, email, web_form)


def takedown_page(
    request: Request,
    session: SessionDep,
    staff: StaffSession,
    takedown_id: str,
    status: int = 200,
    **extra: object,
) -> Response:
    try:
        view = service.get(session, takedown_id)
        found = finding.latest(session, takedown_id)
    except TakedownError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    return page(
        request,
        "staff_takedown.html",
        staff,
        status,
        td=view,
        copy=views.copy_of(session, view.sighting),
        found=found,
        candidates=[(finding.candidate_key(r), r) for r in view.candidates],
        regimes=regimes.all_regimes(),
        roles=TYPED_ROLES,
        form=extra.pop("form", {}),
        **extra,
    )


@router.get("/staff/cases/{case_ref}/takedowns", response_class=HTMLResponse)
def case_copies(request: Request, session: SessionDep, case_ref: str) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_TAKEDOWNS)
    except Refused as refused:
        return refused.response
    case_ref = case_ref[:64]
    return page(
        request,
        "staff_case_takedowns.html",
        staff,
        case_ref=case_ref,
        copies=views.copies_for_case(session, case_ref),
    )


@router.post("/staff/sightings/{sighting_id}/takedown", response_class=HTMLResponse)
def open_takedown(
    request: Request, session: SessionDep, sighting_id: str, csrf_token: Csrf = ""
) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_TAKEDOWNS, csrf_token)
    except Refused as refused:
        return refused.response
    existing = service.for_sighting(session, sighting_id)
    if existing is not None:
        return RedirectResponse(f"/staff/takedowns/{existing.public_id}", status_code=303)
    try:
        with session.begin_nested():
            made = service.open_takedown(session, sighting_id, by=staff.actor)
    except TakedownError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    except SightingHeldError as exc:  # a possible match not confirmed yet (or rejected)
        return page(request, "staff_refused.html", staff, 409, message=exc.message)
    return RedirectResponse(f"/staff/takedowns/{made.public_id}?saved=opened", status_code=303)


@router.get("/staff/takedowns/{takedown_id}", response_class=HTMLResponse)
def takedown(request: Request, session: SessionDep, takedown_id: str) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_TAKEDOWNS)
    except Refused as refused:
        return refused.response
    return takedown_page(request, session, staff, takedown_id)


@router.post("/staff/takedowns/{takedown_id}/discover", response_class=HTMLResponse)
def discover(
    request: Request, session: SessionDep, takedown_id: str, csrf_token: Csrf = ""
) -> Response:
    """Look up who can remove the copy (seconds at most: each source has a time limit)."""
    try:
        staff = signed_in(request, session, Permission.MANAGE_TAKEDOWNS, csrf_token)
    except Refused as refused:
        return refused.response
    try:  # no savepoint around the look-ups: nothing is written until they are done
        with Discoverer(request.app.state.settings) as discoverer:
            finding.find_recipients(session, takedown_id, by=staff.actor, discoverer=discoverer)
    except TakedownError as exc:
        return takedown_page(request, session, staff, takedown_id, 422, error=exc.message)
    return RedirectResponse(f"/staff/takedowns/{takedown_id}?saved=found", status_code=303)


@router.post("/staff/takedowns/{takedown_id}/notices", response_class=HTMLResponse)
def draft(
    request: Request,
    session: SessionDep,
    takedown_id: str,
    csrf_token: Csrf = "",
    recipient: Short = "",
    regime: Short = "",
    other_name: Short = "",
    other_email: Short = "",
    other_form: Short = "",
    other_role: Short = "site",
    content_description: Text = "",
    explanation_extra: Text = "",
    signature: Short = "",
    non_consent: Tick = "",
    accurate: Tick = "",
    took_image: Tick = "",
    disclosure: Short = "representative",
    survivor_name: Short = "",
) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_TAKEDOWNS, csrf_token)
    except Refused as refused:
        return refused.response
    form = {
        "recipient": recipient, "regime": regime, "other_name": other_name,
        "other_email": other_email, "other_form": other_form, "other_role": other_role,
        "content_description": content_description, "explanation_extra": explanation_extra,
        "signature": signature, "non_consent": non_consent, "accurate": accurate,
        "took_image": took_image, "disclosure": disclosure, "survivor_name": survivor_name,
    }  # fmt: skip
    try:
        if not recipient:
            raise TakedownError("Choose whom to write to.")
        if not regime:
            raise TakedownError("Choose the law the notice is made under.")
        chosen = (
            typed_recipient(form)
            if recipient == "other"
            else finding.chosen_candidate(session, takedown_id, recipient)
        )
        if not chosen.email and not chosen.web_form_url:
            raise TakedownError(f"No way to reach {chosen.name} is known: choose someone else.")
        with session.begin_nested():
            made = service.draft(
                session,
                takedown_id,
                by=staff.actor,
                regime=regime,
                recipient=chosen,
                notifier=service.notifier_from_settings(request.app.state.settings),
                choices=choices_from_form(staff, form),
            )
    except TakedownError as exc:
        return takedown_page(
            request, session, staff, takedown_id, 422, error=exc.message, form=form
        )
    return RedirectResponse(f"/staff/notices/{made.public_id}?saved=drafted", status_code=303)
