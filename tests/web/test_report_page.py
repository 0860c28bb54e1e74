"""The report form as a new user meets it: a step at a time, without JavaScript, saved and
resumed with a code, finished with a PIN; and in Chromium, then signing in to the portal."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import BrowserContext

CODE = re.compile(r'name="code" value="([A-Z0-9-]+)"')


def _code(html: str) -> str:
    found = CODE.search(html)
    assert found, html
    return found.group(1)


def test_report_form_works_without_javascript(page_server: str) -> None:
    http = httpx.Client(base_url=page_server)
    start = http.get("/report")
    assert start.headers["cache-control"].startswith("no-store")
    assert "Leave this page quickly" in start.text and "<script" in start.text
    first = http.post("/report", data={"step": "0"})
    assert "Part 1 of 7" in first.text
    code = _code(first.text)
    empty = http.post("/report", data={"step": "1", "code": code, "what_was_shared": ""})
    assert empty.status_code == 422 and "what was shared" in empty.text
    second = http.post("/report", data={"step": "1", "code": code, "action": "next",
                                        "what_was_shared": "Photos from a private album",
                                        "threatened_to_share": "on"})  # fmt: skip
    assert "Part 2 of 7" in second.text
    saved = http.post("/report", data={"step": "2", "code": code, "action": "save",
                                       "urls": "https://board.example/b/thread/123\n"})  # fmt: skip
    assert "Your answers are saved" in saved.text and code in saved.text
    assert code not in str(saved.url) and "code=" not in str(saved.url)

    later = httpx.Client(base_url=page_server)  # another day, another browser
    wrong = later.post("/report/resume", data={"code": "AAAA-BBBB-CCCC-DDDD"})
    assert wrong.status_code == 404 and "could not find" in wrong.text
    resumed = later.post("/report/resume", data={"code": code.lower()})
    assert "Part 2 of 7" in resumed.text and "board.example/b/thread/123" in resumed.text
    back = later.post("/report", data={"step": "2", "code": code, "action": "back",
                                       "urls": "https://board.example/b/thread/123"})  # fmt: skip
    assert "Photos from a private album" in back.text
    for step, fields in [
        ("2", {"urls": "https://board.example/b/thread/123"}),
        ("3", {"how_obtained": "sent_to_someone"}),
        ("4", {"people_with_access": "Sam Pryce\n@sam_p"}),
        ("5", {"own_town": "Hebden Bridge"}),
        ("6", {"channel": "email", "detail": "", "consent_linking": "on"}),
    ]:
        page = later.post("/report", data={"step": step, "code": code, "action": "next", **fields})
    assert page.status_code == 200 and "Part 7 of 7" in page.text  # step 6 -> 7 accepted...
    assert "email address" in page.text  # ...but the review names what is missing
    later.post("/report", data={"step": "6", "code": code, "action": "save", "channel": "email",
                                "detail": "me@example.org", "consent_linking": "on"})  # fmt: skip
    mismatch = later.post("/report/finish", data={"code": code, "pin": "620418",
                                                  "pin_again": "620419"})  # fmt: skip
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    foreign = later.post("/report/finish", data={"code": code, "pin": "620418",
                                                 "pin_again": "620418"},
                         headers={"Origin": "https://evil.example"})  # fmt: skip
    assert foreign.status_code == 400
    done = later.post("/report/finish", data={"code": code, "pin": "620418",
                                              "pin_again": "620418"})  # fmt: skip
    assert done.status_code == 200
    reference = re.search(r'id="reference">([A-Z0-9-]+)<', done.text)
    assert reference and "cannot recover" in done.text
    assert "Until then, your contact is <strong>The duty caseworker</strong>" in done.text
    # filed once: the draft is gone, and the new case can be seen in the portal
    assert later.post("/report/resume", data={"code": code}).status_code == 404
    home = later.get("/portal")
    assert f"Your case {reference.group(1)}" in home.text


@pytest.mark.browser
def test_a_new_user_files_a_report_and_sees_the_timeline(
    context: BrowserContext, page_server: str
) -> None:
    page = context.new_page()
    page.goto(f"{page_server}/report")
    page.get_by_role("button", name="Start").click()
    page.get_by_label("In your own words").fill("Photos of me were posted on a forum")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Where have you seen them").fill("https://board.example/b/thread/9")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("They were taken from social media").check()
    page.get_by_role("button", name="Continue").click()  # how
    page.get_by_role("button", name="Continue").click()  # who: skipped
    page.get_by_role("button", name="Continue").click()  # details: skipped
    page.get_by_role("button", name="Continue").click()  # contact: the portal, by default
    assert page.get_by_role("heading", level=1).inner_text() == "Check and finish"
    page.get_by_label("PIN", exact=True).fill("583920")
    page.get_by_label("The same PIN again").fill("583920")
    page.get_by_role("button", name="Send my report").click()
    reference = page.locator("#reference").inner_text()
    assert re.fullmatch(r"CH-[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    fresh = context.browser
    assert fresh is not None
    other = fresh.new_context()
    try:
        portal = other.new_page()
        portal.goto(f"{page_server}/portal/sign-in")
        portal.get_by_label("Case reference").fill(reference)
        portal.get_by_label("PIN").fill("583920")
        portal.get_by_role("button", name="Sign in").click()
        portal.wait_for_url(f"{page_server}/portal")
        assert "We received your report." in portal.content()
        # leaving quickly replaces the page in the history: "back" does not return to it
        before = portal.evaluate("history.length")
        portal.get_by_role("link", name="Leave this page quickly").click()
        portal.wait_for_function(f"() => !location.href.startsWith('{page_server}')")
        assert portal.evaluate("history.length") == before
    finally:
        other.close()
