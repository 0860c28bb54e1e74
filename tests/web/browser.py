"""Real headless Chromium (Debian's package) driven by Playwright, for the page tests.

No browser is downloaded: Playwright drives ``/usr/bin/chromium`` (``make test`` installs
it from Debian when missing), with a fresh profile per launch and no background traffic.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path(os.environ.get("CHORUS_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",  # the suite runs as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium with a fresh temporary profile (Playwright's --user-data-dir)."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing; `make test` installs Debian's chromium.")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_until_done(page: Page, expected: int, timeout_ms: float = 120_000) -> None:
    """Wait until the page has an outcome for ``expected`` files and none is pending."""
    page.wait_for_function(
        """(n) => { const c = window.ChorusRegister.counts();
                    return c.waiting === 0 && window.ChorusRegister.outcomes().length >= n; }""",
        arg=expected,
        timeout=timeout_ms,
    )


def outcomes(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate("() => window.ChorusRegister.outcomes()")
    return result
