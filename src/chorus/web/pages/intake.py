"""The report form: tell us what happened, a step at a time, without JavaScript.

Every step is saved as a draft (sealed with a key from its resume code, see
``cases.drafts``); "Save and come back later" shows the code. The code travels only in
form bodies, never in a URL, and pages are not cached, so "Leave this page quickly" leaves
nothing to go back to. Nothing is filed until the survivor chooses a PIN at the end.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from chorus.cases import drafts, intake_form, named_contact
from chorus.cases import service as cases
from chorus.config import Settings
from chorus.errors import CasesError, RateLimitedError, SignInError
from chorus.security import survivor_auth
from chorus.web.api.deps import SessionDep
from chorus.web.api.survivor import start_session
from chorus.web.pages.portal import page, same_origin

router = APIRouter(tags=["pages"], include_in_schema=False)
_MAX_FORM_BYTES = 1_200_000


def _show(request: Request, draft: drafts.Draft, *, status: int = 200,
          error: str | None = None, saved: bool = False) -> Response:  # fmt: skip
    current = intake_form.step(draft.step)
    context: dict[str, Any] = {
        "step": draft.step, "steps": intake_form.STEPS, "current": current,
        "values": draft.values, "code": draft.code, "error": error, "saved": saved,
    }  # fmt: skip
    if current.name == "finish":
        try:
            context["answers"], context["contact"] = intake_form.answers(draft.values)
        except CasesError as exc:
            context["error"] = error or exc.message
    return page(request, "report.html", status, **context)


@router.get("/report", response_class=HTMLResponse)
def start(request: Request) -> Response:
    return page(request, "report_start.html")


@router.post("/report", response_class=HTMLResponse)
async def step(request: Request, session: SessionDep) -> Response:
    if not same_origin(request):
        return page(request, "report_start.html", 400, error="Please use the form on this page.")
    if int(request.headers.get("content-length") or 0) > _MAX_FORM_BYTES:
        return page(request, "report_start.html", 413,
                    error="That was more than this form can take. Please shorten it.")  # fmt: skip
    form = {k: v for k, v in (await request.form(max_files=0, max_fields=200)).items()
            if isinstance(v, str)}  # fmt: skip
    settings: Settings = request.app.state.settings
    code = form.get("code") or None
    try:
        number = int(form.get("step") or 0)
        values = drafts.load(session, code).values if code else intake_form.defaults()
        if number == 0:  # starting
            return _show(request, drafts.save(session, None, 1, values,
                                              ttl_s=settings.intake_draft_ttl_s))  # fmt: skip
        values = intake_form.update(values, number, form) if number < intake_form.LAST else values
        action = form.get("action", "next")
        target = {"back": number - 1, "save": number}.get(action, number + 1)
        if action == "next":
            intake_form.check_step(values, number)
        draft = drafts.save(session, code, max(1, min(target, intake_form.LAST)), values,
                            ttl_s=settings.intake_draft_ttl_s)  # fmt: skip
    except (CasesError, ValueError) as exc:
        message = exc.message if isinstance(exc, CasesError) else "Please start again."
        if code and number:
            try:
                kept = drafts.Draft(code, number, drafts.load(session, code).values)
                return _show(request, kept, status=422, error=message)
            except CasesError:
                pass
        return page(request, "report_start.html", 422, error=message)
    return _show(request, draft, saved=action == "save")


@router.post("/report/resume", response_class=HTMLResponse)
def resume(
    request: Request, session: SessionDep, code: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    if not same_origin(request):
        return page(request, "report_start.html", 400, error="Please use the form on this page.")
    try:
        request.app.state.rate_limiter.check(f"resume:{_client(request)}", 20)
        return _show(request, drafts.load(session, code))
    except RateLimitedError:
        error = "Too many attempts from here. Please wait a minute, then try again."
        return page(request, "report_start.html", 429, error=error)
    except CasesError as exc:
        return page(request, "report_start.html", 404, error=exc.message)


@router.post("/report/finish", response_class=HTMLResponse)
def finish(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Form(max_length=40)] = "",
    pin: Annotated[str, Form(max_length=40)] = "",
    pin_again: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    if not same_origin(request):
        return page(request, "report_start.html", 400, error="Please use the form on this page.")
    try:
        draft = drafts.load(session, code)
    except CasesError as exc:
        return page(request, "report_start.html", 404, error=exc.message)
    last = drafts.Draft(draft.code, intake_form.LAST, draft.values)
    try:
        request.app.state.rate_limiter.check(f"report:{_client(request)}", 10)
        if pin != pin_again:
            raise SignInError("The two PINs are not the same. Please type them again.")
        survivor_auth.check_pin_format(pin)
        answers, contact = intake_form.answers(draft.values)
        filed = cases.file_report(session, request.app.state.keyring, answers,
                                  consent_linking=contact.consent_linking,
                                  contact_choices=contact)  # fmt: skip
        survivor_auth.set_pin(session, filed.case_reference, pin)
        drafts.discard(session, draft.code)
    except RateLimitedError:
        busy = "Too many reports from here just now. Please wait a minute."
        return _show(request, last, status=429, error=busy)
    except (CasesError, SignInError) as exc:
        session.rollback()
        return _show(request, last, status=422, error=exc.message)
    duty = named_contact.current_contact(session, request.app.state.settings,
                                         filed.case_reference)  # fmt: skip
    response = page(request, "report_done.html", reference=filed.case_reference, contact=duty)
    start_session(request, response, filed.case_reference)
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"
