"""`chorus takedown discover` and `refresh-bootstrap` as a caseworker would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chorus.cli import takedown

from .discovery_lab import Lab, write_bootstrap
from .servers import Reply, http_server

CHORUS = [sys.executable, "-m", "chorus.cli"]


def env(lab: Lab) -> dict[str, str]:
    s = lab.settings
    return {
        "CHORUS_ENV": "test", "CHORUS_DATA_DIR": str(s.data_dir),
        "CHORUS_TAKEDOWN_DNS_SERVERS": json.dumps(s.takedown_dns_servers),
        "CHORUS_TAKEDOWN_RDAP_BOOTSTRAP_DIR": str(s.takedown_rdap_bootstrap_dir),
        "CHORUS_TAKEDOWN_TIMEOUT_S": str(s.takedown_timeout_s),
        "CHORUS_MONITOR_ALLOWED_NETWORKS": json.dumps(s.monitor_allowed_networks),
        "CHORUS_MONITOR_REQUEST_INTERVAL_S": "0",
    }  # fmt: skip


def run(lab: Lab, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    clean.update({**env(lab), **extra})
    return subprocess.run(
        [*CHORUS, "takedown", *args], capture_output=True, text=True, env=clean, timeout=120
    )


def test_discover_json_and_table(lab: Lab) -> None:
    got = run(lab, "discover", "--json", lab.url("valid.test"))
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    roles = [r["role"] for r in doc["recipients"]]
    assert roles[:3] == ["site", "site", "site"] and "host" in roles and "registrar" in roles
    host = next(r for r in doc["recipients"] if r["role"] == "host")
    assert host["email"] == "abuse@hosting.test" and host["confidence"] == "high"
    assert host["source"].startswith("RDAP http://127.0.0.1:") and host["reachable"] is True
    assert doc["failures"] == [] and doc["domain"] == "valid.test"

    table = run(lab, "discover", lab.url("gone.test"))
    assert table.returncode == 0, table.stderr
    assert "abuse@gone.test" in table.stdout and "RFC 2142" in table.stdout
    assert "Sources that gave nothing" in table.stdout and "HTTP 404" in table.stdout


def test_discover_refuses_bad_input_with_exit_1(lab: Lab) -> None:
    got = run(lab, "discover", "ftp://valid.test/x")
    assert got.returncode == 1
    assert got.stderr.startswith("chorus: ") and "not a web address" in got.stderr
    assert "Traceback" not in got.stderr
    assert run(lab, "discover").returncode == 2  # usage error


def test_refresh_bootstrap_from_a_local_server(lab: Lab, tmp_path: Path) -> None:
    source = write_bootstrap(tmp_path / "published", "https://rdap.example.test")
    files = {f"/rdap/{p.name}": p.read_bytes() for p in source.glob("*.json")}
    target = tmp_path / "refreshed"

    def route(_host: str, path: str) -> Reply:
        body = files.get(path)
        return Reply(body=body, content_type="application/json") if body else Reply(404)

    with http_server(route) as iana:
        got = run(lab, "refresh-bootstrap", "--from", f"{iana.base}/rdap/",
                  CHORUS_TAKEDOWN_RDAP_BOOTSTRAP_DIR=str(target))  # fmt: skip
        assert got.returncode == 0, got.stderr
        assert "1 top-level domains" in got.stdout
        assert sorted(p.name for p in target.glob("*.json")) == [
            "asn.json", "dns.json", "ipv4.json", "ipv6.json",
        ]  # fmt: skip
        assert (target / "dns.json").read_bytes() == files["/rdap/dns.json"]

        del files["/rdap/asn.json"]  # a partial publication changes nothing
        (target / "dns.json").write_text("kept")
        failed = run(lab, "refresh-bootstrap", "--from", f"{iana.base}/rdap/",
                     CHORUS_TAKEDOWN_RDAP_BOOTSTRAP_DIR=str(target))  # fmt: skip
        assert failed.returncode == 1 and "HTTP 404" in failed.stderr
        assert (target / "dns.json").read_text() == "kept"


def test_remote_text_is_shown_literally(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hostile RDAP name can neither style the table (Rich markup) nor clear the screen."""
    for name, value in env(lab).items():
        monkeypatch.setenv(name, value)
    got = CliRunner().invoke(takedown.app, ["discover", lab.url("hostile.test")])
    assert got.exit_code == 0, got.output
    assert "[bold red]Evil[/]" in got.output and "\x1b[2J" not in got.output
