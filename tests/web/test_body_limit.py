"""Request bodies are capped before they are read into memory: an oversized sign-in form or
report is answered 413, whether its size is declared or it arrives in chunks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chorus.web.body_limit import MAX_REQUEST_BYTES
from tests.web.server import running_server


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with running_server(database_url, tmp_path) as base:
        yield base


def _chunks(total: int) -> Iterator[bytes]:
    yield b'{"answers": {"what_was_shared": "'
    for _ in range(total // 65536):
        yield b"x" * 65536
    yield b'"}, "pin": "620418"}'


def test_oversized_bodies_are_refused(server: str) -> None:
    http = httpx.Client(base_url=server, timeout=30)
    # Each field under the framework's own 1 MB part limit; together over the cap.
    big = {f"f{n}": "x" * 900_000 for n in range(MAX_REQUEST_BYTES // 900_000 + 1)}
    declared = http.post("/staff/sign-in", data=big)
    assert declared.status_code == 413 and "too large" in declared.json()["title"]
    streamed = http.post("/api/v1/reports", content=_chunks(MAX_REQUEST_BYTES + 65536),
                         headers={"content-type": "application/json"})  # fmt: skip
    assert streamed.status_code == 413, streamed.text
    # Ordinary requests are untouched.
    assert http.post("/staff/sign-in", data={"username": "a", "password": "b"}).status_code == 401
    small = http.post("/api/v1/reports", json={"answers": {"what_was_shared": "photos"},
                                               "pin": "620418"})  # fmt: skip
    assert small.status_code == 201
