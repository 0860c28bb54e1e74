"""Evidence fixtures: settings with real keys, a key ring, and actors in each role."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor, Role


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        secret_key="t" * 40,
        database_url=database_url,
        data_dir=tmp_path / "var",
        evidence_signing_key=new_key(),  # type: ignore[arg-type]
        evidence_master_key=new_key(),  # type: ignore[arg-type]
    )


@pytest.fixture
def keyring(settings: Settings) -> KeyRing:
    return KeyRing(settings)


INVESTIGATOR = Actor(Role.INVESTIGATOR, "officer-7")
CASEWORKER = Actor(Role.CASEWORKER, "cw-3")
MONITOR = Actor(Role.SYSTEM, "monitor")
PARTNER = Actor(Role.PARTNER, "partner-1")
SURVIVOR = Actor(Role.SURVIVOR, "C-100")
