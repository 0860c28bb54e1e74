"""Caseworker pages for one notice: review the text as it will be sent, fill in what its
law still needs (listed beside the form, what was typed kept), send it by email (at most
once), use the web form pack, record a send done by hand, record the recipient's reply;
and decide a proposed escalation. Thin: the rules are in ``chorus.takedowns``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.errors import TakedownError
from chorus.security.policy import Permission
from chorus.security.staff_auth import StaffSession
from chorus.takedowns import packs, sending, service
from chorus.takedowns.notices import Choices
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole
from chorus.web.api.deps import SessionDep
from chorus.web.pages.staff import Csrf, Refused, page, signed_in
from chorus.web.pages.staff_takedowns import Short, Text, Tick, choices_from_form, takedown_page

router = APIRouter(tags=["pages"], include_in_schema=False)


def _notice_page(
    request: Request,
    session: SessionDep,
    staff: StaffSession,
    notice_id: str,
    status: int = 200,
    **extra: object,
) -> Response:
    try:
        view = service.notice(session, notice_id)
        choices = service.notice_choices(session, notice_id)
    except TakedownError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    form = extra.pop("form", None) or _form_of(choices)
    return page(request, "staff_notice.html", staff, status, notice=view, form=form, **extra)


def _form_of(choices: Choices | None) -> dict[str, str]:
    """The notice's stored choices as the form shows them."""
    if choices is None:
        return {}
    return {
        "content_description": choices.content_description,
        "explanation_extra": choices.explanation_extra,
        "signature": choices.signature,
        "non_consent": "yes" if choices.non_consent_confirmed else "",
        "accurate": "yes" if choices.accuracy_confirmed else "",
        "took_image": "yes" if choices.survivor_took_image else "",
        "disclosure": choices.disclosure.mode,
        "survivor_name": choices.disclosure.survivor_name or "",
    }


def _staff(request: Request, session: SessionDep, csrf_token: str | None = None) -> StaffSession:
    return signed_in(request, session, Permission.MANAGE_TAKEDOWNS, csrf_token)


@router.get("/staff/notices/{notice_id}", response_class=HTMLResponse)
def notice(request: Request, session: SessionDep, notice_id: str) -> Response:
    try:
        staff = _staff(request, session)
    except Refused as refused:
        return refused.response
    return _notice_page(request, session, staff, notice_id)


@router.post("/staff/notices/{notice_id}/revise", response_class=HTMLResponse)
def revise(
    request: Request,
    session: SessionDep,
    notice_id: str,
    csrf_token: Csrf = "",
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
        staff = _staff(request, session, csrf_token)
    except Refused as refused:
        return refused.response
    form = {
        "content_description": content_description, "explanation_extra": explanation_extra,
        "signature": signature, "non_consent": non_consent, "accurate": accurate,
        "took_image": took_image, "disclosure": disclosure, "survivor_name": survivor_name,
    }  # fmt: skip
    try:
        with session.begin_nested():
            service.revise(
                session, notice_id, by=staff.actor, choices=choices_from_form(staff, form)
            )
    except TakedownError as exc:
        return _notice_page(request, session, staff, notice_id, 422, error=exc.message, form=form)
    return RedirectResponse(f"/staff/notices/{notice_id}?saved=revised", status_code=303)


@router.post("/staff/notices/{notice_id}/send", response_class=HTMLResponse)
def send_email(
    request: Request, session: SessionDep, notice_id: str, csrf_token: Csrf = ""
) -> Response:
    """By email, at most once: a second press (or a retry) sends nothing."""
    try:
        staff = _staff(request, session, csrf_token)
    except Refused as refused:
        return refused.response
    app = request.app.state
    try:
        result = sending.send_email(
            app.sessions, app.keyring, app.settings, notice_id, by=staff.actor
        )
    except TakedownError as exc:
        session.expire_all()  # the send used its own transactions
        return _notice_page(request, session, staff, notice_id, 422, error=exc.message)
    saved = "emailed" if result.sent_now else "already"
    return RedirectResponse(f"/staff/notices/{notice_id}?saved={saved}", status_code=303)


@router.get("/staff/notices/{notice_id}/pack", response_class=HTMLResponse)
def web_form_pack(request: Request, session: SessionDep, notice_id: str) -> Response:
    try:
        staff = _staff(request, session)
    except Refused as refused:
        return refused.response
    try:
        pack = packs.web_form_pack(session, notice_id)
        view = service.notice(session, notice_id)
    except TakedownError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    return page(request, "staff_notice_pack.html", staff, pack=pack, notice=view)


@router.post("/staff/notices/{notice_id}/sent", response_class=HTMLResponse)
def record_sent(
    request: Request,
    session: SessionDep,
    notice_id: str,
    csrf_token: Csrf = "",
    channel: Short = "manual",
    note: Short = "",
) -> Response:
    """Record a notice sent through the recipient's web form or by hand."""
    try:
        staff = _staff(request, session, csrf_token)
    except Refused as refused:
        return refused.response
    app = request.app.state
    try:
        if channel not in (sending.WEB_FORM, sending.MANUAL, sending.EMAIL):
            raise TakedownError("Say whether it went through their web form or another way.")
        with session.begin_nested():
            sending.mark_sent(
                session, app.keyring, app.settings, notice_id, by=staff.actor,
                channel=channel, note=note,
            )  # fmt: skip
    except TakedownError as exc:
        return _notice_page(request, session, staff, notice_id, 422, error=exc.message)
    return RedirectResponse(f"/staff/notices/{notice_id}?saved=recorded", status_code=303)


@router.post("/staff/notices/{notice_id}/resend", response_class=HTMLResponse)
def resend(
    request: Request, session: SessionDep, notice_id: str, csrf_token: Csrf = "", why: Text = ""
) -> Response:
    """A deliberate resend of a notice left "being sent" (it keeps the same Message-ID)."""
    try:
        staff = _staff(request, session, csrf_token)
    except Refused as refused:
        return refused.response
    app = request.app.state
    try:
        sending.resend_unconfirmed(
            app.sessions, app.keyring, app.settings, notice_id, by=staff.actor, why=why
        )
    except TakedownError as exc:
        session.expire_all()
        return _notice_page(request, session, staff, notice_id, 422, error=exc.message)
    return RedirectResponse(f"/staff/notices/{notice_id}?saved=emailed", status_code=303)


@router.post("/staff/notices/{notice_id}/answer", response_class=HTMLResponse)
def answer(
    request: Request,
    session: SessionDep,
    notice_id: str,
    csrf_token: Csrf = "",
    outcome: Short = "",
    note: Text = "",
) -> Response:
    try:
        staff = _staff(request, session, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        with session.begin_nested():
            service.record_answer(session, notice_id, outcome, by=staff.actor, note=note)
    except TakedownError as exc:
        return _notice_page(request, session, staff, notice_id, 422, error=exc.message)
    return RedirectResponse(f"/staff/notices/{notice_id}?saved=answer", status_code=303)


@router.post("/staff/notices/{notice_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    request: Request, session: SessionDep, notice_id: str, csrf_token: Csrf = "", why: Text = ""
) -> Response:
    try:
        staff = _staff(request, session, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        with session.begin_nested():
            service.withdraw(session, notice_id, by=staff.actor, why=why)
    except TakedownError as exc:
        return _notice_page(request, session, staff, notice_id, 422, error=exc.message)
    return RedirectResponse(f"/staff/notices/{notice_id}?saved=withdrawn", status_code=303)


@router.post("/staff/escalations/{proposal_id}/decide", response_class=HTMLResponse)
def decide_escalation(
    request: Request,
    session: SessionDep,
    proposal_id: str,
    csrf_token: Csrf = "",
    decision: Short = "",
    why: Text = "",
    takedown: Short = "",
    name: Short = "",
    email: Short = "",
    web_form: Short = "",
    role: Short = "",
) -> Response:
    """Approve (a draft to the next recipient is made) or decline, with the reason."""
    try:
        staff = _staff(request, session, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        if decision not in ("approve", "decline"):
            raise TakedownError("Choose whether to approve or decline the next step.")
        recipient = None
        if email.strip() or web_form.strip():
            recipient = Recipient(
                RecipientRole(role) if role in set(RecipientRole) else RecipientRole.REGULATOR,
                name.strip()[:200] or (email or web_form).strip()[:200],
                "typed in by a caseworker",
                Confidence.MEDIUM,
                email=email.strip() or None,
                web_form_url=web_form.strip() or None,
            )
        with session.begin_nested():
            made = service.decide_escalation(
                session, proposal_id, approve=decision == "approve", by=staff.actor, why=why,
                recipient=recipient,
            )  # fmt: skip
    except TakedownError as exc:
        if takedown:
            return takedown_page(request, session, staff, takedown[:40], 422, error=exc.message)
        return page(request, "staff_refused.html", staff, 422, message=exc.message)
    if made.notice:
        return RedirectResponse(f"/staff/notices/{made.notice}?saved=escalated", status_code=303)
    back = f"/staff/takedowns/{takedown[:40]}" if takedown else "/staff"
    return RedirectResponse(f"{back}?saved=declined", status_code=303)
