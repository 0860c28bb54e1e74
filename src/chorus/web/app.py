"""FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from chorus import __version__, errors
from chorus.cases import notifier, survivor_choices
from chorus.config import Settings
from chorus.errors import ChorusError
from chorus.evidence import tree_heads
from chorus.evidence.keys import KeyRing
from chorus.matching.lookup import BankIndex
from chorus.matching.quarantine import QuarantinePolicy
from chorus.monitor.runner import BackgroundMonitor
from chorus.security.api_keys import RateLimiter
from chorus.security.staff_auth import StaffSessionSigner
from chorus.security.survivor_auth import SessionSigner
from chorus.store import migrate
from chorus.store.engine import make_engine, ping
from chorus.store.session import session_factory, transaction
from chorus.takedowns import tracking as takedown_tracking
from chorus.web.api import admin as admin_api
from chorus.web.api import matching as matching_api
from chorus.web.api import survivor as survivor_api
from chorus.web.body_limit import BodyLimit
from chorus.web.pages import intake as intake_page
from chorus.web.pages import portal as portal_page
from chorus.web.pages import portal_choices as portal_choices_page
from chorus.web.pages import portal_messages as portal_messages_page
from chorus.web.pages import register as register_page
from chorus.web.pages import staff as staff_page
from chorus.web.pages import staff_accounts as staff_accounts_page
from chorus.web.pages import staff_cases as staff_cases_page
from chorus.web.pages import staff_notices as staff_notices_page
from chorus.web.pages import staff_reports as staff_reports_page
from chorus.web.pages import staff_review as staff_review_page
from chorus.web.pages import staff_series as staff_series_page
from chorus.web.pages import staff_takedown_metrics as staff_takedown_metrics_page
from chorus.web.pages import staff_takedowns as staff_takedowns_page

HOUSEKEEPING_INTERVAL_S = 600
#: Page assets (the browser fingerprinting scripts among them), served by Chorus itself.
STATIC_DIR = Path(__file__).resolve().parent / "static"

log = logging.getLogger(__name__)
UNSTORABLE = (
    "Some of what was sent cannot be stored, such as an invisible control character. "
    "Please check what you typed or pasted, and try again."
)

#: Sent with every response: no third-party content, no referrer leaks, no framing.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}
#: The OpenAPI page (Swagger UI, served locally) starts itself with one inline script.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


#: HTTP status for each error family; anything else is a 400.
STATUS = {
    errors.InvalidApiKeyError: 401,
    errors.ScopeError: 403,
    errors.BankEntryNotFoundError: 404,
    errors.RateLimitedError: 429,
    errors.InvalidSignalError: 422,
    errors.LowQualitySignalError: 422,
    errors.AccessDeniedError: 403,
    errors.SignInError: 401,
    errors.SessionError: 401,
    errors.StaffAccountError: 422,
    errors.CasesError: 422,
    errors.CaseStateError: 409,
    errors.CaptureNotFoundError: 404,
    errors.EvidenceShreddedError: 410,
    errors.CaptureTooLargeError: 413,
    errors.TimestampError: 502,
    errors.NoticeIncompleteError: 422,
    errors.SendError: 502,
    errors.TakedownError: 422,
    errors.SightingReviewError: 409,
    errors.SightingHeldError: 409,
}


def _status_for(exc: ChorusError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _every(interval_s: float, work: Callable[[], object], what: str) -> None:
    """Run ``work`` in a thread now and then; a failure is logged and tried again later."""
    while True:
        try:
            await asyncio.to_thread(work)
        except (ChorusError, SQLAlchemyError) as exc:
            log.warning("could not %s: %s", what, exc)
        await asyncio.sleep(interval_s)


def _jobs(sessions: sessionmaker[Session], settings: Settings, keyring: KeyRing) -> list[
    tuple[float, Callable[[], object], str]
]:  # fmt: skip
    """Chorus's own periodic work inside ``chorus serve``."""

    def sign_tree_head() -> None:  # so published heads stay recent
        with transaction(sessions) as session:
            tree_heads.sign_if_grown(session, settings)

    def carry_out_deletions() -> None:  # survivors' deletions whose week has passed
        with transaction(sessions) as session:
            survivor_choices.carry_out_due(session, keyring)

    def advance_takedowns() -> None:  # removals, re-notices, escalations, re-openings
        takedown_tracking.run_due(sessions, keyring, settings)

    def send_survivor_notes() -> None:  # neutral "please sign in" emails
        notifier.send_due(sessions, keyring, settings)

    jobs: list[tuple[float, Callable[[], object], str]] = [
        (HOUSEKEEPING_INTERVAL_S, carry_out_deletions, "carry out requested deletions")
    ]
    if settings.evidence_sign_interval_s:
        jobs.append((settings.evidence_sign_interval_s, sign_tree_head, "sign the tree head"))
    if settings.takedown_advance_interval_s:
        jobs.append((settings.takedown_advance_interval_s, advance_takedowns, "advance takedowns"))
    if settings.survivor_notes_interval_s and notifier.email_configured(settings):
        jobs.append(
            (settings.survivor_notes_interval_s, send_survivor_notes, "send survivors' notes")
        )
    return jobs


def create_app(settings: Settings) -> FastAPI:
    """Build the app for ``settings``; the OpenAPI page is served without any CDN."""
    settings.require_secrets()
    engine = make_engine(settings.effective_database_url)
    if settings.auto_migrate:
        migrate.upgrade(engine)
    sessions = session_factory(engine)
    index_dir = settings.data_dir / "index"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        index = BankIndex.load(index_dir, keys=keyring) or BankIndex(
            radius=settings.match_radius, keys=keyring
        )
        with transaction(sessions) as session:
            index.sync(session, force=True)
        app.state.bank_index = index
        tasks = [asyncio.create_task(_every(*job)) for job in _jobs(sessions, settings, keyring)]
        monitor = BackgroundMonitor(sessions, settings) if settings.monitor_in_serve else None
        if monitor is not None:
            monitor.start()
        yield
        if monitor is not None:
            await asyncio.to_thread(monitor.stop)
        for task in tasks:
            task.cancel()
        index_dir.mkdir(parents=True, exist_ok=True)
        index.save(index_dir)

    app = FastAPIOffline(
        lifespan=lifespan,
        title="Chorus",
        version=__version__,
        description=(
            "Chorus helps survivors of intimate image abuse, the helplines that support "
            "them, the police who investigate and the platforms that block re-uploads."
        ),
        redoc_url=None,
    )
    app.add_middleware(BodyLimit)  # before any form or JSON is read into memory
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.rate_limiter = RateLimiter()
    app.state.keyring = keyring = KeyRing(settings)
    secret = settings.effective_secret_key  # read once: in development it is made per process
    app.state.session_signer = SessionSigner(secret)
    app.state.staff_signer = StaffSessionSigner(secret, settings.staff_session_max_age_s)
    app.state.quarantine_policy = QuarantinePolicy(
        max_distinct_items=settings.quarantine_threshold,
        window=timedelta(seconds=settings.quarantine_window_s),
    )
    app.include_router(matching_api.router)
    app.include_router(admin_api.router)
    app.include_router(survivor_api.router)
    app.include_router(register_page.router)
    app.include_router(portal_page.router)
    app.include_router(intake_page.router)
    app.include_router(portal_choices_page.router)
    app.include_router(portal_messages_page.router)
    app.include_router(staff_page.router)
    app.include_router(staff_accounts_page.router)
    app.include_router(staff_reports_page.router)
    app.include_router(staff_cases_page.router)
    app.include_router(staff_review_page.router)
    app.include_router(staff_series_page.router)
    app.include_router(staff_takedowns_page.router)
    app.include_router(staff_notices_page.router)
    app.include_router(staff_takedown_metrics_page.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path == "/docs":
            response.headers["Content-Security-Policy"] = DOCS_CSP
        # Pages that need their own policy (chorus.web.pages) set it on their response;
        # setdefault below keeps it. Everything else, /api included, gets the default.
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(ChorusError)
    async def chorus_error(_request: Request, exc: ChorusError) -> JSONResponse:
        status = _status_for(exc)
        bearer = isinstance(exc, errors.InvalidApiKeyError)
        headers = {"WWW-Authenticate": "Bearer"} if bearer else None
        return JSONResponse(
            status_code=status,
            media_type="application/problem+json",
            content={"type": exc.code, "title": exc.message, "status": status},
            headers=headers,
        )

    @app.exception_handler(DataError)
    async def unstorable(_request: Request, exc: DataError) -> JSONResponse:
        # Bad input the database refuses (PostgreSQL: a NUL character in text, a number out
        # of range): the request's transaction is rolled back. Never log the values.
        log.info("refused input the database cannot store (%s)", type(exc.orig).__name__)
        return JSONResponse(
            status_code=400,
            media_type="application/problem+json",
            content={"type": "unstorable_input", "title": UNSTORABLE, "status": 400},
        )

    @app.get("/healthz", tags=["operations"], summary="Liveness and database check")
    def healthz() -> JSONResponse:
        try:
            ping(engine)
        except SQLAlchemyError:
            return JSONResponse(
                status_code=503,
                content={"status": "unavailable", "database": "unreachable"},
            )
        return JSONResponse(
            {"status": "ok", "database": engine.dialect.name, "version": __version__}
        )

    return app
