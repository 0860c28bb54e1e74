"""The photo registration page: fingerprints made in the survivor's browser.

The page and its scripts are served by Chorus itself (``chorus/web/static``); the photos
are read and fingerprinted by a Web Worker inside the browser and are never uploaded. The
Content-Security-Policy below makes that promise enforceable by the browser: scripts and
workers only from this origin, connections only to this origin, no inline script.

Sending fingerprints to a survivor's case needs the case model and survivor sign-in
(issue 4). Until then the page is rendered without a send address and offers "save to a
file"; the contract the send step will use is described in ``static/register.js``
(``sendFingerprintsToCase``) and docs/browser-fingerprints.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from chorus.config import Settings
from chorus.errors import SessionError
from chorus.security.survivor_auth import COOKIE

TEMPLATES: Final = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")

#: Only this origin may supply scripts, workers, styles and be connected to; photos shown
#: on request are blob: URLs made in the page. No inline script or style, no framing.
REGISTER_CSP: Final = (
    "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
    "img-src 'self' blob:; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
#: The page is not kept by the browser's cache or back-forward cache (quick exit).
NO_STORE: Final = "no-store, max-age=0"

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    limits = settings.fingerprint_limits()
    try:  # signed in (reference + PIN): fingerprints can be sent to the case
        survivor = request.app.state.session_signer.read(request.cookies.get(COOKIE))
    except SessionError:
        survivor = None
    response = TEMPLATES.TemplateResponse(
        request,
        "register.html",
        {
            "max_pixels": limits.max_pixels,
            "max_side": limits.max_side,
            "max_bytes": limits.max_bytes,
            "max_jpeg_scans": limits.max_jpeg_scans,
            "send_url": "/api/v1/survivor/fingerprints" if survivor else None,
            "csrf_token": survivor.csrf_token if survivor else None,
        },
    )
    response.headers["Content-Security-Policy"] = REGISTER_CSP
    response.headers["Cache-Control"] = NO_STORE
    return response
