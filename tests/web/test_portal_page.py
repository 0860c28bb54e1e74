"""The survivor portal as a new user meets it: sign in with reference + PIN, see where
things stand, protect photos from the portal without any image leaving the page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext

from tests.web.browser import wait_until_done


def file_report(base: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/reports",
        json={"answers": {"what_was_shared": "Photos from an old album",
                          "how_obtained": "social_media"}, "pin": "620418"},
    )  # fmt: skip
    assert answer.status_code == 201
    return str(answer.json()["reference"])


def test_portal_works_without_javascript(page_server: str) -> None:
    reference = file_report(page_server)
    http = httpx.Client(base_url=page_server)
    page = http.get("/portal/sign-in")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"].startswith("no-store")
    wrong = http.post("/portal/sign-in", data={"reference": reference, "pin": "111111"})
    assert wrong.status_code == 401 and "do not match" in wrong.text
    foreign = http.post("/portal/sign-in", data={"reference": reference, "pin": "620418"},
                        headers={"Origin": "https://evil.example"})  # fmt: skip
    assert foreign.status_code == 400
    signed = http.post("/portal/sign-in", data={"reference": reference, "pin": "620418"})
    assert signed.status_code == 303 and signed.headers["location"] == "/portal"
    home = http.get("/portal")
    assert f"Your case {reference}" in home.text
    assert "We received your report." in home.text
    assert "<img" not in home.text
    assert httpx.get(f"{page_server}/portal", follow_redirects=False).status_code == 303


@pytest.mark.browser
def test_a_new_user_signs_in_and_protects_photos_from_the_portal(
    context: BrowserContext, page_server: str, photos: list[Path]
) -> None:
    reference = file_report(page_server)
    page = context.new_page()
    page.goto(f"{page_server}/portal")
    assert page.url.endswith("/portal/sign-in")
    page.get_by_label("Case reference").fill(reference.lower())
    page.get_by_label("PIN").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("PIN").fill("620418")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{page_server}/portal")
    assert page.get_by_role("heading", level=1).inner_text() == f"Your case {reference}"
    assert "Photos protected by their fingerprints: 0" in page.content()
    page.get_by_role("link", name="Protect more photos").click()
    page.wait_for_url(f"{page_server}/register")
    page.set_input_files("#pick-photos", [str(photos[40]), str(photos[41]), str(photos[42])])
    wait_until_done(page, 3)
    page.get_by_role("button", name="Send fingerprints to my case").click()
    page.wait_for_function(
        "() => document.getElementById('send-status').textContent.startsWith('Sent')"
    )
    page.goto(f"{page_server}/portal")
    assert "Photos protected by their fingerprints: 3" in page.content()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{page_server}/portal/sign-in")
    page.goto(f"{page_server}/portal")
    assert page.url.endswith("/portal/sign-in")
