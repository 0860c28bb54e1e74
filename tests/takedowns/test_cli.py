"""`chorus takedown draft|send|status|answer|metrics` as a caseworker runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chorus.cli.app import app
from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.store.session import transaction

from .conftest import Inbox
from .fixtures import sighting


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, list):
            import json

            value = json.dumps(value)
        monkeypatch.setenv(f"CHORUS_{name.upper()}", str(value))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_takedown_from_the_command_line(
    env: None,
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    inbox, _port = smtp
    with transaction(sessions) as session:
        sid = sighting(session, keyring)
    code, out = run(
        "takedown",
        "draft",
        sid,
        "--regime",
        "us-take-it-down",
        "--recipient-name",
        "Board Example",
        "--recipient-email",
        "abuse@board.example",
        "--by",
        "cw-3",
    )
    assert code == 0, out
    notice, takedown = re.findall(r"^(N-\w+)\t(TD-\w+)", out, re.M)[0]
    assert "Not ready to send. Still needed:" in out and "signature" in out
    assert "[missing: signature]" in out
    code, out = run("takedown", "send", notice, "--by", "cw-3")
    assert code == 1 and "cannot be sent yet" in out and "did not consent" in out
    assert inbox.messages == []

    code, out = run(
        "takedown",
        "draft",
        sid,
        "--regime",
        "england-wales",
        "--recipient-name",
        "Board Example",
        "--recipient-email",
        "abuse@board.example",
        "--by",
        "cw-3",
        "--non-consent",
        "--accurate",
    )
    assert code == 0, out
    assert "Not ready" not in out
    ready = re.findall(r"^(N-\w+)\t", out, re.M)[0]
    code, out = run("takedown", "send", ready, "--by", "cw-3")
    assert code == 0 and f"{ready}\tsent\tSent by email." in out
    code, out = run("takedown", "send", ready, "--by", "cw-3")
    assert code == 0 and "already sent" in out
    assert len(inbox.messages) == 1

    code, out = run("takedown", "send", notice, "--pack", "--by", "cw-3")
    assert code == 0 and "Web form pack" in out and "[ ] Submit the form" in out

    code, out = run("takedown", "answer", ready, "acknowledged", "--by", "cw-3", "--note", "ok")
    assert code == 0 and "acknowledged" in out
    code, out = run("takedown", "answer", ready, "removed", "--by", "cw-3", "--note", "gone")
    assert code == 1 and "not by the recipient's word" in out

    code, out = run("takedown", "status", "CH-AAAA-BBBB")
    assert code == 0 and takedown in out and "acknowledged" in out and "draft" in out
    code, out = run("takedown", "status", takedown)
    assert code == 0 and "draft -> sending" in out and "sending -> sent" in out
    code, out = run("takedown", "status", "TD-NOPE")
    assert code == 1 and "No takedown has the id TD-NOPE" in out

    csv_file, svg_file = tmp_path / "m.csv", tmp_path / "m.svg"
    code, out = run("takedown", "metrics", "--csv", str(csv_file), "--svg", str(svg_file))
    assert code == 0 and "copies notified: 1, removed: 0" in out
    assert csv_file.read_text().startswith("group,name,")
    assert svg_file.read_text().startswith("<svg")
