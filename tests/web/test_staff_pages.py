"""Staff pages over a real server: sign-in with password + TOTP, the queue, a report with
its classification and links, a series with its chart and assignment, and the
investigators' captures and export. No page shows an image."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from chorus.cases.models import Classification, Series
from chorus.evidence import captures
from chorus.evidence.keys import KeyRing
from chorus.evidence.models import LedgerEntry
from chorus.security.policy import Actor, Role
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction
from tests.web.server import running_server
from tests.web.staff_helpers import (
    PASSWORD,
    add_staff,
    case_reference,
    code_for,
    csrf,
    file_reports,
    server_settings,
    signed_in,
)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    with running_server(database_url, tmp_path) as base:
        yield base, database_url, tmp_path


def actions(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with transaction(session_factory(engine)) as session:
            return [str(a) for a in session.scalars(select(LedgerEntry.action))]
    finally:
        engine.dispose()


def test_sign_in_needs_password_and_code_and_says_the_same_whatever_was_wrong(
    server: tuple[str, str, Path],
) -> None:
    base, url, data = server
    secret = add_staff(url, data, "a.khan", "caseworker")
    http = httpx.Client(base_url=base)
    page = http.get("/staff/sign-in")
    assert page.headers["cache-control"].startswith("no-store")
    assert "script-src" not in page.headers["content-security-policy"]  # no script at all
    assert http.get("/staff").headers["location"] == "/staff/sign-in"
    wrong = [
        http.post("/staff/sign-in", data={"username": "a.khan", "password": "nope nope nope",
                                          "code": code_for(secret)}),
        http.post("/staff/sign-in", data={"username": "a.khan", "password": PASSWORD,
                                          "code": "000000"}),
        http.post("/staff/sign-in", data={"username": "nobody", "password": PASSWORD,
                                          "code": code_for(secret)}),
    ]  # fmt: skip
    assert {r.status_code for r in wrong} == {401}
    assert len({r.text.split('role="alert">')[1].split("<")[0] for r in wrong}) == 1
    foreign = http.post("/staff/sign-in", headers={"Origin": "https://evil.example"},
                        data={"username": "a.khan", "password": PASSWORD,
                              "code": code_for(secret)})  # fmt: skip
    assert foreign.status_code == 400
    ok = http.post("/staff/sign-in", data={"username": "a.khan", "password": PASSWORD,
                                           "code": code_for(secret)})  # fmt: skip
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/staff" in cookie
    queue = http.get("/staff")
    assert queue.status_code == 200 and "Work queue" in queue.text
    assert http.post("/staff/sign-out", data={"csrf_token": "forged"}).status_code == 303
    assert http.get("/staff").status_code == 200  # a forged sign-out changes nothing
    copied = http.cookies["chorus_staff"]  # someone copied the cookie before sign-out
    http.post("/staff/sign-out", data={"csrf_token": csrf(queue.text)})
    assert http.get("/staff").status_code == 303
    with httpx.Client(base_url=base, cookies={"chorus_staff": copied}) as thief:
        assert thief.get("/staff").status_code == 303  # signing out ended it everywhere


def test_a_caseworker_classifies_links_makes_a_series_and_assigns_it(
    server: tuple[str, str, Path],
) -> None:
    base, url, data = server
    secret = add_staff(url, data, "a.khan", "caseworker")
    add_staff(url, data, "d.osei", "investigator", unit="Online Harms Unit")
    reports = file_reports(base, 3)
    http = signed_in(base, "a.khan", secret)
    queue = http.get("/staff").text
    assert all(r in queue for r in reports) and "SOA03-66B1" in queue
    assert queue.index(reports[0]) < queue.index(reports[2])  # oldest first at equal risk
    page = http.get(f"/staff/reports/{reports[2]}").text
    assert "the same board thread (b/48213)" in page and "Photos of me, report 2" in page
    assert "<img" not in page
    token = csrf(page)
    missing = http.post(
        f"/staff/reports/{reports[2]}/classify",
        data={"csrf_token": token, "codes": ["CMA90-1"], "reason": "x"},
    )
    assert missing.status_code == 422 and "primary code" in missing.text  # fmt: skip
    no_reason = http.post(
        f"/staff/reports/{reports[2]}/classify",
        data={"csrf_token": token, "codes": ["SOA03-66B1"], "reason": " "},
    )
    assert no_reason.status_code == 422  # fmt: skip
    no_csrf = http.post(
        f"/staff/reports/{reports[2]}/classify",
        data={"codes": ["SOA03-66B1"], "reason": "Shared without consent"},
    )
    assert no_csrf.status_code == 400  # fmt: skip
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        assert session.scalar(select(Classification.id)) is None  # nothing was recorded
    done = http.post(
        f"/staff/reports/{reports[2]}/classify",
        data={"csrf_token": token, "codes": ["SOA03-66B1"], "reason": "Shared without consent"},
    )
    assert done.status_code == 303
    assert reports[2] not in http.get("/staff").text.split("Series")[0]  # left the queue
    link_id = page.split('action="/staff/links/')[1].split("/")[0]
    confirmed = http.post(
        f"/staff/links/{link_id}/decide",
        data={"csrf_token": token, "decision": "confirm", "back": reports[2]},
    )
    assert confirmed.status_code == 303
    page = http.get(f"/staff/reports/{reports[2]}").text
    assert "Make a series of these 2 reports" in page
    made = http.post(f"/staff/reports/{reports[2]}/series", data={"csrf_token": token})
    assert made.status_code == 303
    series_url = made.headers["location"]
    series = http.get(series_url).text
    assert "<svg" in series and 'class="link confirmed"' in series
    assert 'class="link suggested"' in series  # the third report, suggested only
    assert "<img" not in series and "Captures of this series" not in series
    assert "Export evidence bundle" not in series
    series_id = series_url.rsplit("/", 1)[1]
    assert http.get(f"/staff/series/{series_id}/captures").status_code == 403
    assigned = http.post(
        f"{series_url}/assign",
        data={"csrf_token": token, "officer": "d.osei", "reason": "Online harms lead"},
    )
    assert assigned.status_code == 303
    assert "assigned to <strong>D Osei</strong> (Online Harms Unit)" in http.get(series_url).text
    wrong = http.post(
        f"{series_url}/assign", data={"csrf_token": token, "officer": "a.khan", "reason": "x"}
    )
    assert wrong.status_code == 422 and "not an active investigator" in wrong.text
    with transaction(session_factory(engine)) as session:
        row = session.scalar(select(Series))
        assert row is not None and (row.unit, row.officer) == ("Online Harms Unit", "d.osei")
    engine.dispose()
    recorded = actions(url)
    for tag in ("cases:report:classified", "cases:link:confirmed", "cases:series:member_added",
                "cases:series:assigned"):  # fmt: skip
        assert tag in recorded


def test_investigators_see_capture_records_open_with_a_reason_and_export(
    server: tuple[str, str, Path],
) -> None:
    base, url, data = server
    cw = add_staff(url, data, "a.khan", "caseworker")
    inv = add_staff(url, data, "d.osei", "investigator")
    reports = file_reports(base, 2)
    http = signed_in(base, "a.khan", cw)
    page = http.get(f"/staff/reports/{reports[1]}").text
    token, link_id = csrf(page), page.split('action="/staff/links/')[1].split("/")[0]
    http.post(f"/staff/links/{link_id}/decide", data={"csrf_token": token, "decision": "confirm",
                                                      "back": reports[1]})  # fmt: skip
    series_url = http.post(f"/staff/reports/{reports[1]}/series",
                           data={"csrf_token": token}).headers["location"]  # fmt: skip
    series_id = series_url.rsplit("/", 1)[1]
    case_ref = case_reference(page)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        info = captures.store(
            session,
            KeyRing(server_settings(url, data)),
            Actor(Role.SYSTEM, "monitor"),
            case_ref=case_ref,
            kind="screenshot",
            data=b"\x89PNG\r\n\x1a\n" + b"0" * 64,
            filename="shot.png",
            source_url="https://board.example/b/1",
        )
    engine.dispose()  # fmt: skip
    assert http.get(f"/staff/captures/{info.public_id}").status_code == 403
    officer = signed_in(base, "d.osei", inv)
    listed = officer.get(f"{series_url}/captures").text
    assert info.sha256 in listed and "https://board.example/b/1" in listed and "<img" not in listed
    warning = officer.get(f"/staff/captures/{info.public_id}").text
    assert "may show intimate images" in warning and "<img" not in warning
    token = csrf(warning)
    before = actions(url).count("evidence:capture:viewed")
    refused = officer.post(f"/staff/captures/{info.public_id}/open",
                           data={"csrf_token": token, "reason": ""})  # fmt: skip
    assert refused.status_code == 422 and actions(url).count("evidence:capture:viewed") == before
    opened = officer.post(
        f"/staff/captures/{info.public_id}/open",
        data={"csrf_token": token, "reason": "Charging decision"},
    )
    assert opened.status_code == 200 and opened.content.startswith(b"\x89PNG")  # fmt: skip
    assert opened.headers["content-disposition"].startswith("attachment")
    assert actions(url).count("evidence:capture:viewed") == before + 1
    bundle = officer.post(f"{series_url}/export", data={"csrf_token": token, "reason": "CPS"})
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert any(n.startswith("captures/") for n in names)
    assert "evidence:bundle:exported" in actions(url)
    assert series_id in bundle.headers["content-disposition"]


def test_an_administrator_disables_an_account_and_its_session_ends(
    server: tuple[str, str, Path],
) -> None:
    base, url, data = server
    cw = add_staff(url, data, "a.khan", "caseworker")
    admin = add_staff(url, data, "r.admin", "admin", unit="Operations")
    caseworker = signed_in(base, "a.khan", cw)
    assert caseworker.get("/staff/accounts").status_code == 403
    ops = signed_in(base, "r.admin", admin)
    home = ops.get("/staff").text
    assert "New reports" not in home and "/staff/accounts" in home  # no casework for admins
    listed = ops.get("/staff/accounts").text
    assert "a.khan" in listed and "Disable a.khan" in listed and "Disable r.admin" not in listed
    token = csrf(listed)
    assert (
        ops.post("/staff/accounts/r.admin/disable", data={"csrf_token": token}).status_code == 422
    )
    done = ops.post("/staff/accounts/a.khan/disable", data={"csrf_token": token})
    assert done.status_code == 303
    assert caseworker.get("/staff").headers["location"] == "/staff/sign-in"
    assert "disabled" in ops.get("/staff/accounts").text
