"""Caseworker pages: takedown metrics (time to removal per recipient and provider, share
removed within 48 hours, re-appearance rate, the chart inline, a CSV download), and the
search engines' delisting packs for one copy, ready to copy. Thin edges over
``chorus.takedowns.metrics`` and ``finding.delisting_for``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from chorus.errors import TakedownError
from chorus.security.policy import Permission
from chorus.takedowns import finding, metrics
from chorus.web.api.deps import SessionDep
from chorus.web.pages.register import NO_STORE
from chorus.web.pages.staff import Csrf, Refused, page, signed_in

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/staff/metrics/takedowns", response_class=HTMLResponse)
def takedown_metrics(request: Request, session: SessionDep) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_TAKEDOWNS)
    except Refused as refused:
        return refused.response
    summary = metrics.compute(session)
    return page(
        request,
        "staff_takedown_metrics.html",
        staff,
        summary=summary,
        by_recipient=[r for r in summary.rows if r.group == "recipient"],
        by_provider=[r for r in summary.rows if r.group == "provider"],
        chart=Markup(metrics.to_svg(summary, "recipient")),  # noqa: S704 (to_svg escapes text)
        provider_chart=Markup(metrics.to_svg(summary, "provider")),  # noqa: S704
    )


@router.get("/staff/metrics/takedowns.csv")
def takedown_metrics_csv(request: Request, session: SessionDep) -> Response:
    try:
        signed_in(request, session, Permission.MANAGE_TAKEDOWNS)
    except Refused as refused:
        return refused.response
    return Response(
        metrics.to_csv(metrics.compute(session)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="takedown-times.csv"',
            "Cache-Control": NO_STORE,
        },
    )


@router.get("/staff/takedowns/{takedown_id}/delisting", response_class=HTMLResponse)
def delisting_form(request: Request, session: SessionDep, takedown_id: str) -> Response:
    """The form that asks for the country (and results pages) first."""
    return _delisting(request, session, takedown_id)


@router.post("/staff/takedowns/{takedown_id}/delisting", response_class=HTMLResponse)
def delisting(
    request: Request,
    session: SessionDep,
    takedown_id: str,
    csrf_token: Csrf = "",
    country: Annotated[str, Form(max_length=10)] = "",
    results: Annotated[str, Form(max_length=8000)] = "",
    minor: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The delisting packs. A post, not a query string: results pages often carry the
    person's name as the search, and addresses end up in access logs and history."""
    return _delisting(request, session, takedown_id, csrf_token, country, results, minor)


def _delisting(
    request: Request,
    session: SessionDep,
    takedown_id: str,
    csrf_token: str | None = None,
    country: str = "",
    results: str = "",
    minor: str = "",
) -> Response:
    try:
        staff = signed_in(request, session, Permission.MANAGE_TAKEDOWNS, csrf_token)
    except Refused as refused:
        return refused.response
    try:
        finding.addresses(session, takedown_id)
    except TakedownError as exc:
        return page(request, "staff_refused.html", staff, 404, message=exc.message)
    packs, error = [], None
    if country or minor:
        try:
            packs = finding.delisting_for(
                session, takedown_id, country, results_urls=results.splitlines(),
                minor_may_be_involved=bool(minor),
            )  # fmt: skip
        except TakedownError as exc:
            error = exc.message
    return page(
        request,
        "staff_delisting.html",
        staff,
        422 if error else 200,
        takedown_id=takedown_id[:40],
        packs=packs,
        error=error,
        country=country,
        results=results,
        minor=minor,
    )
