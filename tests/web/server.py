"""A real Chorus server on 127.0.0.1 in a background thread, for API tests."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from chorus.config import Settings
from chorus.web.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(database_url: str, data_dir: Path, **settings: object) -> Iterator[str]:
    config = Settings(
        env="test",
        secret_key="t" * 40,
        evidence_signing_key=base64.b64encode(b"s" * 32).decode(),
        evidence_master_key=base64.b64encode(b"m" * 32).decode(),
        database_url=database_url,
        data_dir=data_dir,
        **settings,  # type: ignore[arg-type]
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        httpx.get(f"{base}/healthz").raise_for_status()
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
