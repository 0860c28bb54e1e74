"""Monitor fixtures: settings that let the monitor fetch from 127.0.0.1, without waiting."""

from __future__ import annotations

from pathlib import Path

import pytest

from chorus.config import Settings

from ..evidence.conftest import new_key


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test", secret_key="t" * 40, database_url=database_url, data_dir=tmp_path,
        evidence_signing_key=new_key(), evidence_master_key=new_key(),  # type: ignore[arg-type]
        monitor_allowed_networks=["127.0.0.1"], monitor_request_interval_s=0,
        monitor_interval_s=1, monitor_recheck_interval_s=1,
    )  # fmt: skip
