"""`chorus serve` as `make run` starts it: a real server on 127.0.0.1 with embedded SQLite."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(env_extra: dict[str, str], data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env.update({"CHORUS_DATA_DIR": str(data_dir), **env_extra})
    process = subprocess.Popen(
        [sys.executable, "-m", "chorus.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not start within 30 s")


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    process, base = start({"CHORUS_ENV": "development"}, tmp_path / "var")
    try:
        wait_ready(process, base)
        yield base, tmp_path / "var"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_healthz_reports_sqlite_under_data_dir(dev_server: tuple[str, Path]) -> None:
    base, data_dir = dev_server
    response = httpx.get(f"{base}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "sqlite"
    assert (data_dir / "chorus.db").exists()


def test_openapi_page_works_offline(dev_server: tuple[str, Path]) -> None:
    base, _ = dev_server
    page = httpx.get(f"{base}/docs")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()
    external = [
        u
        for u in re.findall(r"(?:src|href)=['\"]([^'\"]+)", page.text)
        if u.startswith(("http:", "https:", "//"))
    ]
    assert external == []
    for asset in re.findall(r"(?:src|href)=['\"](/[^'\"]+)", page.text):
        assert httpx.get(f"{base}{asset}").status_code == 200, asset
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/healthz" in spec["paths"]


def test_security_headers(dev_server: tuple[str, Path]) -> None:
    base, _ = dev_server
    headers = httpx.get(f"{base}/healthz").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    process, _ = start({"CHORUS_ENV": "production"}, tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "CHORUS_SECRET_KEY" in output


def test_production_refuses_a_weak_secret(tmp_path: Path) -> None:
    process, _ = start({"CHORUS_ENV": "production", "CHORUS_SECRET_KEY": "changeme"}, tmp_path)
    process.communicate(timeout=30)
    assert process.returncode == 2


STRONG = "k" * 20 + "Zq9_x-4Lm2Vt8Rb3Nc7W"
EVIDENCE_KEYS = {
    "CHORUS_EVIDENCE_SIGNING_KEY": base64.b64encode(b"s" * 32).decode(),
    "CHORUS_EVIDENCE_MASTER_KEY": base64.b64encode(b"m" * 32).decode(),
}
DUTY_CONTACT = {
    "CHORUS_DUTY_CONTACT_NAME": "The duty caseworker",
    "CHORUS_DUTY_CONTACT_UNIT": "Example Helpline",
    "CHORUS_DUTY_CONTACT_REACH": "0300 123 4567, weekdays 9am to 5pm",
}


def test_production_refuses_to_start_without_evidence_keys(tmp_path: Path) -> None:
    process, _ = start({"CHORUS_ENV": "production", "CHORUS_SECRET_KEY": STRONG}, tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "CHORUS_EVIDENCE_SIGNING_KEY" in output


def test_production_refuses_a_malformed_master_key(tmp_path: Path) -> None:
    env = {"CHORUS_ENV": "production", "CHORUS_SECRET_KEY": STRONG, **EVIDENCE_KEYS}
    env["CHORUS_EVIDENCE_MASTER_KEY"] = "not-a-key"
    process, _ = start(env, tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "CHORUS_EVIDENCE_MASTER_KEY" in output


def test_production_refuses_to_start_without_a_duty_contact(tmp_path: Path) -> None:
    env = {"CHORUS_ENV": "production", "CHORUS_SECRET_KEY": STRONG, **EVIDENCE_KEYS}
    process, _ = start(env, tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "CHORUS_DUTY_CONTACT_NAME" in output


def test_production_starts_with_a_strong_secret(tmp_path: Path) -> None:
    process, base = start(
        {"CHORUS_ENV": "production", "CHORUS_SECRET_KEY": STRONG, **EVIDENCE_KEYS, **DUTY_CONTACT},
        tmp_path,
    )
    try:
        wait_ready(process, base)
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
    finally:
        process.terminate()
        process.wait(timeout=10)
