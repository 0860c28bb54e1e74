"""chorus.fingerprint runs on survivors' devices: it imports no other part of Chorus."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import chorus.fingerprint

PACKAGE = Path(chorus.fingerprint.__file__).parent
ALLOWED = ("chorus.fingerprint", "chorus.errors")


def _chorus_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if node.module == "chorus":
                names = [f"chorus.{a.name}" for a in node.names]
            found.update(n for n in names if n.startswith("chorus"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("chorus"))
    return found


def test_fingerprint_imports_only_itself_and_errors() -> None:
    for path in PACKAGE.rglob("*.py"):
        for name in _chorus_imports(path):
            assert name.startswith(ALLOWED), f"{path.name} imports {name}"


def test_importing_fingerprint_loads_no_other_chorus_module() -> None:
    code = (
        "import sys, chorus.fingerprint, chorus.fingerprint.workers; "
        "print(sorted(m for m in sys.modules if m.startswith('chorus')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = eval(out)  # a list literal printed by the child
    assert all(m == "chorus" or m.startswith(ALLOWED) for m in loaded), loaded


def test_no_network_or_storage_modules_in_fingerprint() -> None:
    forbidden = {
        "socket",
        "http",
        "urllib",
        "httpx",
        "requests",
        "sqlite3",
        "sqlalchemy",
        "tempfile",
        "shutil",
        "pickle",
    }
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module.split(".")[0]}
            else:
                continue
            assert not names & forbidden, f"{path.name} imports {names & forbidden}"
