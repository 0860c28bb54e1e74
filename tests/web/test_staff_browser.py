"""A caseworker, as a new user would, in real Chromium: signs in with password + TOTP,
opens the queue, confirms a suggested link and sees the series with its link chart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from chorus.store import migrate
from chorus.store.engine import make_engine
from tests.web.server import running_server
from tests.web.staff_helpers import PASSWORD, add_staff, code_for, file_reports


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    data_dir = tmp_path_factory.mktemp("staff-server")
    url = f"sqlite:///{data_dir / 'chorus.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    with running_server(url, data_dir) as base:
        yield base, url, data_dir


@pytest.mark.browser
def test_a_caseworker_signs_in_confirms_a_link_and_sees_the_series_chart(
    context: BrowserContext, staff_server: tuple[str, str, Path], artifacts: Path
) -> None:
    base, url, data_dir = staff_server
    secret = add_staff(url, data_dir, "m.rossi", "caseworker", unit="Victim Care")
    first, second = file_reports(base, 2)
    page = context.new_page()
    page.goto(f"{base}/staff")
    assert page.url.endswith("/staff/sign-in")
    page.get_by_label("Username").fill("m.rossi")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(code_for(secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/staff")
    assert page.get_by_role("heading", level=1).inner_text() == "Work queue"
    page.get_by_role("link", name=second).click()
    page.wait_for_url(f"{base}/staff/reports/{second}")
    assert "the same board thread (b/48213)" in page.content()
    page.get_by_role("button", name=f"Confirm link with {first}").click()
    assert "Your decision on the link is recorded." in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="Make a series of these 2 reports").click()
    page.wait_for_url(f"{base}/staff/series/S-*")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Series S-")
    chart = page.get_by_role("img", name="Links between the reports of S-")
    assert chart.is_visible()
    assert page.locator("svg line.link.confirmed").count() == 1
    assert page.locator("svg circle.report").count() == 2
    assert page.locator("img").count() == 0  # no image is ever shown to caseworkers
    page.screenshot(path=str(artifacts / "staff-series.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/staff/sign-in")
    page.goto(f"{base}/staff")
    assert page.url.endswith("/staff/sign-in")


@pytest.mark.browser
def test_a_caseworker_names_a_contact_writes_and_closes_a_case(
    context: BrowserContext, staff_server: tuple[str, str, Path], artifacts: Path
) -> None:
    base, url, data_dir = staff_server
    secret = add_staff(url, data_dir, "j.park", "caseworker", unit="Victim Care")
    (report,) = file_reports(base, 1)
    page = context.new_page()
    page.goto(f"{base}/staff/sign-in")
    page.get_by_label("Username").fill("j.park")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(code_for(secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/staff")
    page.goto(f"{base}/staff/reports/{report}")
    page.locator('a[href^="/staff/cases/"]').first.click()
    page.wait_for_url(f"{base}/staff/cases/*")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Case ")
    page.locator("#contact-name").fill("Sam Okoro")
    page.locator("#contact-unit").fill("Example Helpline")
    page.locator("#contact-reach").fill("0300 123 4567, weekdays 9am to 5pm")
    page.get_by_role("button", name="Assign this contact").click()
    assert "the survivor has been told" in page.get_by_role("status").inner_text()
    page.get_by_label("Write to the survivor").fill("Hello, I am Sam, your named contact.")
    page.get_by_role("button", name="Send message").click()
    assert "Hello, I am Sam" in page.locator("ol.thread").inner_text()
    assert page.locator("#close-name").input_value() == "Sam Okoro"  # the contact stays
    page.get_by_label("Reason for closing").fill("The copies were removed.")
    page.screenshot(path=str(artifacts / "staff-case.png"), full_page=True)
    page.get_by_role("button", name="Close the case and tell the survivor").click()
    assert "The case is closed" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Reopen the case and tell the survivor").is_visible()
    assert page.locator("img").count() == 0
