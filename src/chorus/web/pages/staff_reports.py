"""Staff pages for one report: its answers, suggested codes, classification (with a
required reason), suggested links with their reasons (confirm or reject), and making a
series of the reports its confirmed links join."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chorus.cases import series_work, worklist
from chorus.errors import CasesError
from chorus.security.policy import Permission
from chorus.security.staff_auth import StaffSession
from chorus.web.api.deps import SessionDep
from chorus.web.pages.staff import Csrf, Refused, page, signed_in

router = APIRouter(tags=["pages"], include_in_schema=False)
ReportId = Annotated[str, Form(max_length=20)]


def _report_page(
    request: Request,
    session: SessionDep,
    staff: StaffSession,
    report_id: str,
    status: int = 200,
    **extra: object,
) -> Response:
    try:
        view = worklist.report_view(session, staff.actor, report_id)
    except CasesError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    return page(
        request,
        "staff_report.html",
        staff,
        status,
        report=view,
        suggested={c for c, _ in view.suggested_codes},
        **extra,
    )


@router.get("/staff/reports/{report_id}", response_class=HTMLResponse)
def report(request: Request, session: SessionDep, report_id: str) -> Response:
    try:
        staff = signed_in(request, session, Permission.VIEW_REPORT)
    except Refused as refused:
        return refused.response
    return _report_page(request, session, staff, report_id)


@router.post("/staff/reports/{report_id}/classify", response_class=HTMLResponse)
def classify(
    request: Request,
    session: SessionDep,
    report_id: str,
    csrf_token: Csrf = "",
    codes: Annotated[list[str] | None, Form(max_length=20)] = None,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        staff = signed_in(request, session, Permission.CLASSIFY_REPORT, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        with session.begin_nested():
            worklist.classify(session, staff.actor, report_id, codes or [], reason)
    except CasesError as exc:
        return _report_page(
            request, session, staff, report_id, 422, error=exc.message, reason=reason
        )
    return RedirectResponse(f"/staff/reports/{report_id}?saved=classification", status_code=303)


@router.post("/staff/links/{link_id}/decide", response_class=HTMLResponse)
def decide(
    request: Request,
    session: SessionDep,
    link_id: int,
    csrf_token: Csrf = "",
    decision: Annotated[str, Form(max_length=10)] = "",
    back: ReportId = "",
) -> Response:
    try:
        staff = signed_in(request, session, Permission.DECIDE_LINK, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        if decision not in ("confirm", "reject"):
            raise CasesError("Choose whether to confirm or reject the link.")
        with session.begin_nested():
            worklist.decide_link(session, staff.actor, link_id, confirm=decision == "confirm")
    except CasesError as exc:
        if back:
            return _report_page(request, session, staff, back, 422, error=exc.message)
        return page(request, "staff_refused.html", staff, 422, message=exc.message)
    target = f"/staff/reports/{back}" if back else "/staff"
    return RedirectResponse(f"{target}?saved=link", status_code=303)


@router.post("/staff/reports/{report_id}/series", response_class=HTMLResponse)
def make_series(
    request: Request, session: SessionDep, report_id: str, csrf_token: Csrf = ""
) -> Response:
    try:
        staff = signed_in(request, session, Permission.FORM_SERIES, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        with session.begin_nested():
            series_id = series_work.make_series(session, staff.actor, report_id)
    except CasesError as exc:
        return _report_page(request, session, staff, report_id, 422, error=exc.message)
    return RedirectResponse(f"/staff/series/{series_id}", status_code=303)
