"""Staff pages for a series: its members, artifacts and link chart (SVG), assignment to one
unit and one named officer; for investigators, its captures listed by their records, a
warning and a reason before one is opened, and the evidence bundle export."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.background import BackgroundTask

from chorus.cases import connections, series_view, series_work
from chorus.errors import AccessDeniedError, CasesError, ChorusError, EvidenceError
from chorus.evidence import captures, export
from chorus.security.policy import Permission
from chorus.security.staff_auth import StaffSession
from chorus.web import link_chart
from chorus.web.api.deps import SessionDep
from chorus.web.pages.register import NO_STORE
from chorus.web.pages.staff import Csrf, Refused, page, signed_in

router = APIRouter(tags=["pages"], include_in_schema=False)
Reason = Annotated[str, Form(max_length=2000)]


def attachment(name: str) -> str:
    """A Content-Disposition for a download named ``name`` (RFC 6266): an ASCII fallback
    without quotes or control characters, and the full name as UTF-8 ``filename*``."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "capture.bin"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _series_page(
    request: Request,
    session: SessionDep,
    staff: StaffSession,
    series_id: str,
    status: int = 200,
    **extra: object,
) -> Response:
    try:
        view = series_view.series_view(session, staff.actor, series_id)
    except CasesError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    members = {m.report_id for m in view.members}
    edges = [link_chart.Edge(e.a, e.b, e.reasons, e.state == "confirmed") for e in view.edges]
    nodes = sorted(members) + view.outside
    chart = link_chart.render(nodes, members, edges, f"Links between the reports of {series_id}")
    return page(
        request,
        "staff_series.html",
        staff,
        status,
        series=view,
        chart=Markup(chart),  # noqa: S704 (render escapes every text)
        officers=series_view.officers(session),
        min_lists=max(2, request.app.state.settings.connections_min_lists),
        **extra,
    )


@router.get("/staff/series/{series_id}", response_class=HTMLResponse)
def series(request: Request, session: SessionDep, series_id: str) -> Response:
    try:
        staff = signed_in(request, session, Permission.VIEW_SERIES)
    except Refused as refused:
        return refused.response
    shown = None
    if request.query_params.get("connections") == "show":
        try:  # investigators only (the policy says so); the viewing goes in the ledger
            with session.begin_nested():
                shown = connections.common_connections(
                    session, request.app.state.settings, staff.actor, series_id
                )
        except ChorusError as exc:
            return _series_page(request, session, staff, series_id, 403
                                if isinstance(exc, AccessDeniedError) else 404,
                                error=exc.message)  # fmt: skip
    return _series_page(request, session, staff, series_id, connections=shown)


@router.post("/staff/series/{series_id}/assign", response_class=HTMLResponse)
def assign(
    request: Request,
    session: SessionDep,
    series_id: str,
    csrf_token: Csrf = "",
    officer: Annotated[str, Form(max_length=40)] = "",
    reason: Reason = "",
) -> Response:
    try:
        staff = signed_in(request, session, Permission.ASSIGN_SERIES, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        with session.begin_nested():
            series_work.assign(
                session, request.app.state.keyring, staff.actor, series_id, officer, reason
            )
    except CasesError as exc:
        return _series_page(request, session, staff, series_id, 422, error=exc.message)
    return RedirectResponse(f"/staff/series/{series_id}?saved=assigned", status_code=303)


@router.get("/staff/series/{series_id}/captures", response_class=HTMLResponse)
def series_captures(request: Request, session: SessionDep, series_id: str) -> Response:
    try:
        staff = signed_in(request, session, Permission.LIST_CAPTURES)
        listed = series_view.series_captures(session, staff.actor, series_id)
    except Refused as refused:
        return refused.response
    except CasesError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    return page(request, "staff_captures.html", staff, series_id=series_id, captures=listed)


@router.get("/staff/captures/{capture_id}", response_class=HTMLResponse)
def capture_warning(request: Request, session: SessionDep, capture_id: str) -> Response:
    """Before anything is shown: what the capture is, that opening it is recorded, a reason."""
    try:
        staff = signed_in(request, session, Permission.VIEW_CAPTURE)
        info = captures.describe(session, staff.actor, capture_id)
    except Refused as refused:
        return refused.response
    except EvidenceError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    return page(
        request,
        "staff_capture_open.html",
        staff,
        capture=info,
        back=request.query_params.get("series", "")[:20],
    )


@router.post("/staff/captures/{capture_id}/open")
def capture_open(
    request: Request,
    session: SessionDep,
    capture_id: str,
    csrf_token: Csrf = "",
    reason: Reason = "",
) -> Response:
    """The capture as a download (never shown in the page); the view is in the ledger first."""
    try:
        staff = signed_in(request, session, Permission.VIEW_CAPTURE, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        with session.begin_nested():
            info, data = captures.read(
                session, request.app.state.keyring, staff.actor, capture_id, reason=reason
            )
    except EvidenceError as exc:
        try:
            info = captures.describe(session, staff.actor, capture_id)
        except EvidenceError:
            return page(request, "staff_refused.html", staff, 404, message=exc.message)
        return page(
            request, "staff_capture_open.html", staff, 422, capture=info, error=exc.message, back=""
        )
    name = Path(info.filename).name or f"{info.public_id}.bin"
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": attachment(f"{info.public_id}-{name}"),
            "Cache-Control": NO_STORE,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/staff/series/{series_id}/export")
def export_bundle(
    request: Request,
    session: SessionDep,
    series_id: str,
    csrf_token: Csrf = "",
    reason: Reason = "",
) -> Response:
    try:
        staff = signed_in(request, session, Permission.EXPORT_EVIDENCE, csrf_token)
    except Refused as refused:
        return refused.response
    folder = Path(tempfile.mkdtemp(prefix="chorus-export-"))
    out = folder / f"{series_id}.zip"
    try:
        with session.begin_nested():
            export.export_bundle(
                session,
                request.app.state.settings,
                staff.actor,
                out,
                reason=reason,
                series_id=series_id,
            )
    except EvidenceError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _series_page(request, session, staff, series_id, 422, export_error=exc.message)
    return FileResponse(
        out,
        media_type="application/zip",
        filename=out.name,
        headers={"Cache-Control": NO_STORE},
        background=BackgroundTask(shutil.rmtree, folder, True),
    )
