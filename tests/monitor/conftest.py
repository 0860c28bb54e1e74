"""Monitor fixtures: settings that let the monitor fetch from 127.0.0.1, without waiting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chorus.config import Settings

from ..evidence.conftest import new_key
from ..matching.keys import MASTER_KEY
from .djangochan_server import Site, build_venv, running


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test", secret_key="t" * 40, database_url=database_url, data_dir=tmp_path,
        evidence_signing_key=new_key(), evidence_master_key=MASTER_KEY,  # type: ignore[arg-type]
        monitor_allowed_networks=["127.0.0.1"], monitor_request_interval_s=0,
        monitor_interval_s=1, monitor_recheck_interval_s=1,
    )  # fmt: skip


@pytest.fixture(scope="session")
def djangochan_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """djangochan from PyPI in a throwaway venv, built once per test session."""
    return build_venv(tmp_path_factory.mktemp("djangochan-venv"))


@pytest.fixture(scope="session")
def djangochan_site(
    djangochan_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """A real djangochan on 127.0.0.1 for the session; each test makes its own board."""
    with running(djangochan_python, tmp_path_factory.mktemp("djangochan-site")) as site:
        yield site
