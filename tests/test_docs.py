"""Documentation stays true: every setting and every command is documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from chorus.cli.app import app
from chorus.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs/settings.md").read_text()
    documented = set(re.findall(r"`(CHORUS_[A-Z0-9_]+)`", doc))
    fields = {f"CHORUS_{name.upper()}" for name in Settings.model_fields}
    assert fields == documented
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    names = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert names
    for name in names:
        assert f"`chorus {name}`" in readme, name


def test_readme_quick_start_has_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quick, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make run", "make test"]


def test_ci_runs_make_test_only() -> None:
    script = (ROOT / ".ci/run").read_text()
    lines = [
        ln for ln in script.splitlines() if ln.strip() and not ln.startswith(("#", "set", "cd"))
    ]
    assert lines == ["make test"]


def test_cli_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "chorus.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("chorus ")
