"""Every route of the app, with every role, against one table of who may reach it.

The roles: nobody signed in, a survivor (portal session), a caseworker, an investigator and
an administrator (staff sessions), and a partner (an API key with the partner scopes
lookup, exchange and feedback). A route added without a row here fails the test, and so
does a route that lets in a role the table does not name (or keeps out one it does).

"Reached" means the route did its work for that role: it did not answer 403, did not
answer 401 for a missing or wrong session or key, and did not send the person to a
sign-in page without acting. Sign-in routes answer 401 to wrong credentials: that is the
route working, so there it counts as reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chorus.cases.models import Link
from chorus.evidence import captures
from chorus.evidence.keys import KeyRing
from chorus.security import api_keys
from chorus.security.policy import Actor, Role
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction
from chorus.web.app import create_app
from tests.web.server import running_server
from tests.web.staff_helpers import (
    add_staff,
    case_reference,
    csrf,
    file_reports,
    server_settings,
    signed_in,
)

ANON, SURVIVOR, PARTNER = "anonymous", "survivor", "partner"
CASEWORKER, INVESTIGATOR, ADMIN = "caseworker", "investigator", "admin"
ROLES = (ANON, SURVIVOR, CASEWORKER, INVESTIGATOR, ADMIN, PARTNER)
ALL = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()  # operators only, with an API key of scope admin/bank
STAFF = frozenset({CASEWORKER, INVESTIGATOR, ADMIN})
CASEWORK = frozenset({CASEWORKER, INVESTIGATOR})

#: (method, path) -> the roles that may reach it. MOUNT is a folder of static files.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): ALL,
    ("GET", "/openapi.json"): ALL,
    ("GET", "/docs"): ALL,
    ("GET", "/docs/oauth2-redirect"): ALL,
    ("MOUNT", "/static-offline-docs"): ALL,
    ("MOUNT", "/static"): ALL,
    # partner API (API keys by scope)
    ("POST", "/api/v1/lookup"): frozenset({PARTNER}),
    ("GET", "/api/v1/lookup"): frozenset({PARTNER}),
    ("GET", "/api/v1/exchange/signals"): frozenset({PARTNER}),
    ("POST", "/api/v1/feedback"): frozenset({PARTNER}),
    ("POST", "/api/v1/keys"): NOBODY,
    ("GET", "/api/v1/keys"): NOBODY,
    ("DELETE", "/api/v1/keys/{key_id}"): NOBODY,
    ("POST", "/api/v1/bank/entries"): NOBODY,
    ("POST", "/api/v1/bank/entries/{entry_id}/withdraw"): NOBODY,
    # survivors
    ("POST", "/api/v1/reports"): ALL,
    ("POST", "/api/v1/survivor/session"): ALL,
    ("DELETE", "/api/v1/survivor/session"): ALL,
    ("POST", "/api/v1/survivor/fingerprints"): frozenset({SURVIVOR}),
    ("GET", "/register"): ALL,
    ("GET", "/report"): ALL,
    ("POST", "/report"): ALL,
    ("POST", "/report/resume"): ALL,
    ("POST", "/report/finish"): ALL,
    ("GET", "/portal/sign-in"): ALL,
    ("POST", "/portal/sign-in"): ALL,
    ("GET", "/portal"): frozenset({SURVIVOR}),
    ("POST", "/portal/sign-out"): frozenset({SURVIVOR}),
    ("GET", "/portal/choices"): frozenset({SURVIVOR}),
    ("POST", "/portal/choices"): frozenset({SURVIVOR}),
    ("GET", "/portal/data"): frozenset({SURVIVOR}),
    ("POST", "/portal/data/export"): frozenset({SURVIVOR}),
    ("POST", "/portal/data/withdraw-fingerprints"): frozenset({SURVIVOR}),
    ("POST", "/portal/data/delete"): frozenset({SURVIVOR}),
    ("GET", "/portal/messages"): frozenset({SURVIVOR}),
    ("POST", "/portal/messages"): frozenset({SURVIVOR}),
    ("POST", "/portal/reopen"): frozenset({SURVIVOR}),
    # staff
    ("GET", "/staff/sign-in"): ALL,
    ("POST", "/staff/sign-in"): ALL,
    ("POST", "/staff/sign-out"): STAFF,
    ("GET", "/staff"): STAFF,
    ("GET", "/staff/accounts"): frozenset({ADMIN}),
    ("POST", "/staff/accounts/{username}/disable"): frozenset({ADMIN}),
    ("GET", "/staff/reports/{report_id}"): CASEWORK,
    ("POST", "/staff/reports/{report_id}/classify"): frozenset({CASEWORKER}),
    ("POST", "/staff/links/{link_id}/decide"): frozenset({CASEWORKER}),
    ("POST", "/staff/reports/{report_id}/series"): frozenset({CASEWORKER}),
    ("GET", "/staff/series/{series_id}"): CASEWORK,
    ("POST", "/staff/series/{series_id}/assign"): frozenset({CASEWORKER}),
    ("GET", "/staff/series/{series_id}/captures"): frozenset({INVESTIGATOR}),
    ("GET", "/staff/captures/{capture_id}"): frozenset({INVESTIGATOR}),
    ("POST", "/staff/captures/{capture_id}/open"): frozenset({INVESTIGATOR}),
    ("POST", "/staff/series/{series_id}/export"): frozenset({INVESTIGATOR}),
    ("GET", "/staff/cases"): frozenset({CASEWORKER}),
    ("GET", "/staff/cases/{case_ref}"): frozenset({CASEWORKER}),
    ("POST", "/staff/cases/{case_ref}/contact"): frozenset({CASEWORKER}),
    ("POST", "/staff/cases/{case_ref}/close"): frozenset({CASEWORKER}),
    ("POST", "/staff/cases/{case_ref}/transfer"): frozenset({CASEWORKER}),
    ("POST", "/staff/cases/{case_ref}/reopen"): frozenset({CASEWORKER}),
    ("POST", "/staff/cases/{case_ref}/messages"): frozenset({CASEWORKER}),
    ("POST", "/staff/cases/{case_ref}/notes/{note_id}/called"): frozenset({CASEWORKER}),
    ("GET", "/staff/review"): CASEWORK,
    ("POST", "/staff/review/{sighting_id}"): CASEWORK,
    # takedowns (caseworkers)
    ("GET", "/staff/cases/{case_ref}/takedowns"): frozenset({CASEWORKER}),
    ("POST", "/staff/sightings/{sighting_id}/takedown"): frozenset({CASEWORKER}),
    ("GET", "/staff/takedowns/{takedown_id}"): frozenset({CASEWORKER}),
    ("POST", "/staff/takedowns/{takedown_id}/discover"): frozenset({CASEWORKER}),
    ("POST", "/staff/takedowns/{takedown_id}/notices"): frozenset({CASEWORKER}),
    ("GET", "/staff/takedowns/{takedown_id}/delisting"): frozenset({CASEWORKER}),
    ("POST", "/staff/takedowns/{takedown_id}/delisting"): frozenset({CASEWORKER}),
    ("GET", "/staff/notices/{notice_id}"): frozenset({CASEWORKER}),
    ("POST", "/staff/notices/{notice_id}/revise"): frozenset({CASEWORKER}),
    ("POST", "/staff/notices/{notice_id}/send"): frozenset({CASEWORKER}),
    ("GET", "/staff/notices/{notice_id}/pack"): frozenset({CASEWORKER}),
    ("POST", "/staff/notices/{notice_id}/sent"): frozenset({CASEWORKER}),
    ("POST", "/staff/notices/{notice_id}/answer"): frozenset({CASEWORKER}),
    ("POST", "/staff/notices/{notice_id}/resend"): frozenset({CASEWORKER}),
    ("POST", "/staff/notices/{notice_id}/withdraw"): frozenset({CASEWORKER}),
    ("POST", "/staff/escalations/{proposal_id}/decide"): frozenset({CASEWORKER}),
    ("GET", "/staff/metrics/takedowns"): frozenset({CASEWORKER}),
    ("GET", "/staff/metrics/takedowns.csv"): frozenset({CASEWORKER}),
}
SIGN_IN_ROUTES = {("POST", "/api/v1/survivor/session"), ("POST", "/portal/sign-in"),
                  ("POST", "/staff/sign-in")}  # fmt: skip
DENIED_TYPES = {"session_required", "invalid_api_key", "insufficient_scope", "access_denied"}
#: What each route is sent: a real id for each path parameter is filled in by the test.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/reports"): {"answers": {"what_was_shared": "Photos"}, "pin": "620418"},
    ("POST", "/api/v1/survivor/session"): {"reference": "CH-XXXX-XXXX", "pin": "000000"},
    ("POST", "/api/v1/survivor/fingerprints"): {"fingerprints": []},
    ("POST", "/api/v1/lookup"): {"signals": [{"signal_type": "sha256", "signal": "0" * 64}]},
    ("POST", "/portal/sign-in"): {"reference": "CH-XXXX-XXXX", "pin": "000000"},
    ("POST", "/staff/sign-in"): {"username": "no.one", "password": "x" * 12, "code": "000000"},
}


def app_routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every (method, path) of the app, included routers and mounts too."""
    for route in routes:
        if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x)
            inner = prefix + route.include_context.prefix
            yield from app_routes(route.original_router.routes, inner)
        elif getattr(route, "methods", None):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, prefix + route.path
        else:
            yield "MOUNT", prefix + route.path


def reached(key: tuple[str, str], response: httpx.Response) -> bool:
    status = response.status_code
    if status == 403:
        return False
    if status == 401:
        if key in SIGN_IN_ROUTES:
            return True
        problem = response.headers.get("content-type", "").startswith("application/problem")
        return problem and response.json().get("type") not in DENIED_TYPES
    location = response.headers.get("location", "")
    if status in (302, 303, 307) and location.rstrip("/").endswith("sign-in"):
        ended = "max-age=0" in response.headers.get("set-cookie", "").lower()
        return ended  # a sign-out that ended a session did its work
    return True


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with running_server(database_url, tmp_path) as base:
        secrets = {r: add_staff(database_url, tmp_path, f"{r}.one", r)
                   for r in (CASEWORKER, INVESTIGATOR, ADMIN)}  # fmt: skip
        reports = file_reports(base, 2)
        settings = server_settings(database_url, tmp_path)
        engine = make_engine(database_url)
        with transaction(session_factory(engine)) as session:
            link_id = session.scalar(select(Link.id))
            key = api_keys.create_key(session, "Partner", ["lookup", "exchange", "feedback"], 600)
        engine.dispose()
        survivor = httpx.Client(base_url=base)
        filed = survivor.post("/api/v1/reports", json=BODIES[("POST", "/api/v1/reports")])
        ref = filed.json()["reference"]
        token = survivor.post(
            "/api/v1/survivor/session", json={"reference": ref, "pin": "620418"}
        ).json()["csrf_token"]
        staff = {r: signed_in(base, f"{r}.one", s) for r, s in secrets.items()}
        tokens = {r: csrf(c.get("/staff").text) for r, c in staff.items()}
        # a confirmed link and a series, made by the caseworker, for the series routes
        cw = staff[CASEWORKER]
        cw.post(f"/staff/links/{link_id}/decide", data={"csrf_token": tokens[CASEWORKER],
                                                         "decision": "confirm"})  # fmt: skip
        series = cw.post(f"/staff/reports/{reports[0]}/series",
                         data={"csrf_token": tokens[CASEWORKER]}).headers["location"]  # fmt: skip
        engine = make_engine(database_url)
        case_ref = case_reference(cw.get(f"/staff/reports/{reports[0]}").text)
        with transaction(session_factory(engine)) as session:
            capture = captures.store(
                session,
                KeyRing(settings),
                Actor(Role.SYSTEM, "monitor"),
                case_ref=case_ref,
                kind="screenshot",
                data=b"\x89PNG\r\n\x1a\n" + b"0" * 32,
                filename="s.png",
            )
        engine.dispose()  # fmt: skip
        yield {
            "base": base, "settings": settings, "partner": key.token,
            "survivor": (survivor.cookies["chorus_survivor"], token),
            "staff": {r: (c.cookies["chorus_staff"], tokens[r]) for r, c in staff.items()},
            "params": {"report_id": reports[1], "link_id": str(link_id), "key_id": key.key_id,
                       "series_id": series.rsplit("/", 1)[1], "capture_id": capture.public_id,
                       "entry_id": "be_0000000000000000", "username": "nobody",
                       # takedown routes: unknown ids (a caseworker gets a plain 404/422)
                       "case_ref": case_ref, "sighting_id": "SG-000000000000",
                       "takedown_id": "TD-000000000000", "notice_id": "N-000000000000",
                       "proposal_id": "E-000000000000", "note_id": "999999"},
        }  # fmt: skip
        for client in (survivor, *staff.values()):
            client.close()


def request_as(world: dict[str, Any], role: str, method: str, path: str) -> httpx.Response:
    key = (method, path)
    url = path.format(**world["params"])
    if method == "MOUNT":
        method, url = "GET", f"{path}/favicon.svg" if path == "/static" else f"{path}/"
    cookies, headers, form = {}, {}, {}
    if role == SURVIVOR:
        cookies["chorus_survivor"], token = world["survivor"]
        headers["X-CSRF-Token"] = form["csrf_token"] = token
    elif role in STAFF:
        cookies["chorus_staff"], form["csrf_token"] = world["staff"][role]
    elif role == PARTNER:
        headers["Authorization"] = f"Bearer {world['partner']}"
    body = BODIES.get(key, {})
    with httpx.Client(base_url=world["base"], cookies=cookies, timeout=60) as client:
        if method in ("GET", "DELETE"):
            return client.request(method, url, headers=headers)
        if path.startswith("/api/"):
            return client.request(method, url, headers=headers, json=body)
        return client.request(method, url, headers=headers, data={**form, **body})


def test_every_route_lets_in_exactly_the_roles_in_the_table(world: dict[str, Any]) -> None:
    routes = set(app_routes(create_app(world["settings"]).routes))
    assert routes - set(EXPECTED) == set(), "routes not in EXPECTED: add them with their roles"
    assert set(EXPECTED) - routes == set(), "EXPECTED names routes the app no longer has"
    # Signing out ends the staff member's sessions on the server: those routes go last.
    ordered = sorted(routes, key=lambda route: (route[1].endswith("/sign-out"), route))
    cases = [(method, path, role) for method, path in ordered for role in ROLES]

    def check(case: tuple[str, str, str]) -> str | None:
        method, path, role = case
        response = request_as(world, role, method, path)
        if reached((method, path), response) != (role in EXPECTED[(method, path)]):
            return f"{method} {path} as {role}: {response.status_code}"
        return None

    # In order, one at a time (~300 requests; the sign-in routes hash with argon2 on purpose).
    wrong = [w for w in map(check, cases) if w]
    assert wrong == []
