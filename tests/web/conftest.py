"""Fixtures for the page tests: one server and one headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from chorus.store import migrate
from chorus.store.engine import make_engine
from tests.web.browser import chromium
from tests.web.server import running_server

#: Test artefacts (screenshots) land here; the folder is ignored by git.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def page_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chorus server on 127.0.0.1 (SQLite: the pages under test use no tables)."""
    data_dir = tmp_path_factory.mktemp("page-server")
    url = f"sqlite:///{data_dir / 'chorus.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    with running_server(url, data_dir) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(accept_downloads=True)
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
