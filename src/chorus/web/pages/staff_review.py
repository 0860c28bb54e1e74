"""The review queue for possible matches found by the robust signal alone (caseworkers and
investigators): oldest first, with how close each one is and which signal matched, the
addresses as text only — never the image. Confirm or reject, each with a reason that is
recorded; the monitor's review service decides what follows (``chorus.monitor.review``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.errors import ChorusError, SightingReviewError
from chorus.monitor import review
from chorus.security.policy import Permission
from chorus.security.staff_auth import StaffSession
from chorus.web.api.deps import SessionDep
from chorus.web.pages.staff import Csrf, Refused, page, signed_in

router = APIRouter(tags=["pages"], include_in_schema=False)
Reason = Annotated[str, Form(max_length=review.MAX_REASON + 100)]


def _queue_page(
    request: Request, session: SessionDep, staff: StaffSession, status: int = 200,
    **extra: object,
) -> Response:  # fmt: skip
    held = review.review_queue(session, by=staff.actor)
    return page(request, "staff_review.html", staff, status, held=held,
                radius=request.app.state.settings.match_radius, **extra)  # fmt: skip


@router.get("/staff/review", response_class=HTMLResponse)
def queue(request: Request, session: SessionDep) -> Response:
    try:
        staff = signed_in(request, session, Permission.REVIEW_SIGHTING)
    except Refused as refused:
        return refused.response
    return _queue_page(request, session, staff)


@router.post("/staff/review/{sighting_id}", response_class=HTMLResponse)
def decide(
    request: Request,
    session: SessionDep,
    sighting_id: str,
    csrf_token: Csrf = "",
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Reason = "",
) -> Response:
    try:
        staff = signed_in(request, session, Permission.REVIEW_SIGHTING, csrf_token)
    except Refused as refused:
        return refused.response
    keyring = request.app.state.keyring
    try:
        if decision not in ("confirm", "reject"):
            raise SightingReviewError("Choose whether it is the survivor's image or not.")
        with session.begin_nested():
            decide_with = review.confirm if decision == "confirm" else review.reject
            decide_with(session, keyring, sighting_id, by=staff.actor, reason=reason)
    except ChorusError as exc:
        return _queue_page(request, session, staff, 422, error=exc.message,
                           error_for=sighting_id, reason=reason)  # fmt: skip
    saved = "confirmed" if decision == "confirm" else "rejected"
    return RedirectResponse(f"/staff/review?saved={saved}", status_code=303)
