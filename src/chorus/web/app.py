"""FastAPI application factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import SQLAlchemyError

from chorus import __version__
from chorus.config import Settings
from chorus.errors import ChorusError
from chorus.store.engine import make_engine, ping

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


def create_app(settings: Settings) -> FastAPI:
    """Build the app for ``settings``; the OpenAPI page is served without any CDN."""
    settings.require_secrets()
    engine = make_engine(settings.effective_database_url)
    app = FastAPIOffline(
        title="Chorus",
        version=__version__,
        description=(
            "Chorus helps survivors of intimate image abuse, the helplines that support "
            "them, the police who investigate and the platforms that block re-uploads."
        ),
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path == "/docs":
            response.headers["Content-Security-Policy"] = DOCS_CSP
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(ChorusError)
    async def chorus_error(_request: Request, exc: ChorusError) -> JSONResponse:
        return JSONResponse(
            status_code=400,
            media_type="application/problem+json",
            content={"type": exc.code, "title": exc.message, "status": 400},
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
