"""A caseworker, tried as a new user would, runs a takedown from the pages alone, in real
Chromium: signs in (password + TOTP), finds the copy the monitor sighted on the local test
board from the report, runs discovery against the local DNS/RDAP/site lab, drafts a
notice (a missing element refused and named, then filled), sends it by email to the local
SMTP server, and after the post is deleted on the board and the monitor re-checks, sees
"removed" on the page (``chorus serve``'s own job advances the takedown)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from chorus.monitor import targets
from chorus.monitor.pipeline import Monitor
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction
from tests.monitor.board import Board, running
from tests.monitor.test_board_monitor import due_now, jpeg, register
from tests.web.browser import chromium
from tests.web.conftest import ARTIFACTS
from tests.web.server import running_server
from tests.web.staff_helpers import PASSWORD, add_staff, code_for, server_settings

from .conftest import Inbox
from .discovery_lab import Lab
from .page_helpers import lab_settings

SECURITY_TXT = b"Contact: mailto:abuse@board.test\nExpires: 2099-01-01T00:00:00Z\n"
SIGNATURE = "/s/ M. Rossi, Example Helpline, authorised representative"


@pytest.mark.browser
def test_a_new_caseworker_runs_a_takedown_from_the_pages_alone(
    database_url: str,
    tmp_path: Path,
    lab: Lab,
    smtp: tuple[Inbox, int],
    photos: list[Path],
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    inbox, port = smtp
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    board = Board()
    board.extra["/.well-known/security.txt"] = (200, {"Content-Type": "text/plain"}, SECURITY_TXT)
    serve = {**lab_settings(lab, port), "takedown_advance_interval_s": 0.5}
    monitor_settings = server_settings(database_url, tmp_path).model_copy(update={
        "monitor_allowed_networks": ["127.0.0.0/8"], "monitor_request_interval_s": 0})  # fmt: skip
    with (
        running(board) as board_url,
        running_server(database_url, tmp_path, **serve) as base,
        Monitor(sessions, monitor_settings, worker="w1") as monitor,
        chromium() as browser,
    ):
        # A survivor reported and sent their photo's fingerprint; the monitor finds a copy.
        filed = httpx.post(f"{base}/api/v1/reports", json={
            "answers": {"what_was_shared": "A private photo of me", "urls": []},
            "pin": "620418"}).json()  # fmt: skip
        register(sessions, photos[:1], owner=filed["reference"])
        post = board.post(None, jpeg(Image.open(photos[0]), quality=60), "a post")
        with transaction(sessions) as session:
            targets.add(session, f"{board_url}/b/catalog.json", "4chan")
        monitor.run_once()
        assert len(monitor.run_once().sightings) == 1
        secret = add_staff(database_url, tmp_path, "m.rossi", "caseworker", unit="Victim Care")

        page = browser.new_page()
        page.goto(f"{base}/staff")
        page.get_by_label("Username").fill("m.rossi")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Code from your authenticator app").fill(code_for(secret))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/staff")

        # From the queue to the report, to the copies found for its case.
        page.get_by_role("link", name=filed["report_id"]).click()
        page.get_by_role("link", name="Copies found online and takedowns").click()
        assert "still online" in page.content()
        assert f"{board_url}/b/thread/{post.no}" in page.content()
        page.get_by_role("button", name="Start a takedown for the copy on 127.0.0.1").click()
        assert "Next: find who can remove the copy." in page.get_by_role("status").inner_text()

        # Discovery: the site's security.txt, the host from RDAP; the registrar cannot be
        # asked for a bare address, and the page says so.
        page.get_by_role("button", name="Find who can remove it").click()
        assert "Discovery has run." in page.get_by_role("status").inner_text()
        assert "abuse@hosting.test" in page.content()
        assert "is an address, not a domain name" in page.content()
        page.screenshot(path=str(ARTIFACTS / "staff-takedown-found.png"), full_page=True)
        page.get_by_label("abuse@board.test").check()
        page.get_by_label("The law the notice is made under").select_option("eu-dsa-art16")
        page.get_by_label("Signature").fill(SIGNATURE)
        page.get_by_label("The person shown told us they did not consent").check()
        page.get_by_role("button", name="Draft the notice").click()

        # The good-faith statement is missing: named beside the form, and sending refused.
        missing = page.locator("ul.missing")
        assert "accurate and made in good faith" in missing.inner_text()
        page.get_by_role("button", name="Send by email to abuse@board.test").click()
        assert "cannot be sent yet" in page.get_by_role("alert").inner_text()
        page.screenshot(path=str(ARTIFACTS / "staff-notice-refused.png"), full_page=True)
        assert inbox.messages == []
        assert page.get_by_label("Signature").input_value() == SIGNATURE  # typed, kept
        page.get_by_label("I confirm this notice is accurate and made in good faith").check()
        page.get_by_role("button", name="Save changes").click()
        assert "Everything the law needs is there." in page.content()
        assert f"{board_url}/b/{post.tim}s.jpg" in page.locator("pre.notice-text").inner_text()
        page.get_by_role("button", name="Send by email to abuse@board.test").click()
        assert "sent by email" in page.get_by_role("status").inner_text()
        (message,) = inbox.messages
        assert message["To"] == "abuse@board.test"
        assert f"{board_url}/b/thread/{post.no}" in message.get_payload()
        assert page.locator("img").count() == 0  # no image is ever shown
        page.screenshot(path=str(ARTIFACTS / "staff-notice-sent.png"), full_page=True)

        # The board deletes the post (and its thumbnail); the monitor re-checks.
        board.delete(post.no)
        board.purge_thumbnails()
        due_now(sessions)
        assert len(monitor.run_once().removed) == 1
        page.get_by_role("link", name="Back to the takedown").click()
        deadline = time.monotonic() + 10
        while "<strong>removed</strong>" not in page.content():
            assert time.monotonic() < deadline, "the takedown was not shown as removed"
            time.sleep(0.3)
            page.reload()
        assert "the copy is gone (checked by Chorus on every address)" in page.content()
        page.screenshot(path=str(ARTIFACTS / "staff-takedown-removed.png"), full_page=True)
    engine.dispose()
