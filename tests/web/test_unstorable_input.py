"""Input the database refuses (PostgreSQL takes no NUL character in text) gets a plain 400
and changes nothing, instead of a 500; SQLite stores it, so there it is simply filed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases.models import Case
from chorus.store.session import transaction
from tests.web.server import running_server


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with running_server(database_url, tmp_path) as base:
        yield base


def test_a_nul_character_is_refused_plainly(
    server: str, sessions: sessionmaker[Session], database_url: str
) -> None:
    report = {"answers": {"what_was_shared": "photos\x00", "urls": ["https://x.example/\x00"]},
              "pin": "620418"}  # fmt: skip
    answer = httpx.post(f"{server}/api/v1/reports", json=report)
    with transaction(sessions) as session:
        cases = session.scalar(select(func.count()).select_from(Case))
    if database_url.startswith("postgresql"):
        assert answer.status_code == 400, answer.text
        assert answer.json()["type"] == "unstorable_input"
        assert "control character" in answer.json()["title"] and "\x00" not in answer.text
        assert cases == 0
    else:
        assert answer.status_code == 201 and cases == 1
