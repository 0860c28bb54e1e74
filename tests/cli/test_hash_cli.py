"""`chorus hash` as a person runs it: a real process, real files, exit codes, both formats."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REFERENCE

CHORUS = [sys.executable, "-m", "chorus.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    return subprocess.run(
        [*CHORUS, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def records(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_help_lists_command_groups() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("hash", "serve"):
        assert command in result.stdout


def test_exact_reproduces_reference_vectors() -> None:
    """`chorus hash --exact` on the reference images reproduces vectors.csv."""
    images = REFERENCE / "images"
    result = run("hash", "--exact", "--recursive", str(images))
    assert result.returncode == 0, result.stderr
    by_path = {Path(str(r["path"])).resolve(): r for r in records(result.stdout)}
    with (REFERENCE / "vectors.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        record = by_path[(REFERENCE / row["image"]).resolve()]
        distance = (int(str(record["pdq"]), 16) ^ int(row["expected_pdq"], 16)).bit_count()
        assert distance <= int(row["max_distance"]), row["image"]
        if row["expected_quality"]:
            assert record["quality"] == int(row["expected_quality"])


def test_jsonl_record_shape_and_exit_zero(photos: list[Path]) -> None:
    result = run("hash", str(photos[0]), str(photos[1]))
    assert result.returncode == 0, result.stderr
    rows = records(result.stdout)
    assert [r["path"] for r in rows] == [str(photos[0]), str(photos[1])]
    for row in rows:
        assert {"path", "sha256", "md5", "pdq", "quality", "dihedral"} <= set(row)
        assert len(row["dihedral"]) == 8  # type: ignore[arg-type]
        assert row["method"] == "fast"


def test_csv_format(photos: list[Path]) -> None:
    result = run("hash", "--format", "csv", str(photos[0]))
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1
    assert len(rows[0]["dihedral"].split()) == 8
    assert rows[0]["error"] == ""


def test_failures_give_error_records_and_exit_one(tmp_path: Path, photos: list[Path]) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    result = run(
        "hash",
        str(photos[0]),
        str(tmp_path / "empty.jpg"),
        str(tmp_path / "notes.txt"),
        str(tmp_path / "missing.jpg"),
    )
    assert result.returncode == 1
    rows = records(result.stdout)
    assert len(rows) == 4
    assert "pdq" in rows[0]
    assert [r.get("error") for r in rows[1:]] == ["unreadable_media"] * 3
    assert all(r["message"] for r in rows[1:])


def test_folder_needs_recursive(tmp_path: Path, photos: list[Path]) -> None:
    (tmp_path / "a.jpg").write_bytes(photos[0].read_bytes())
    without = run("hash", str(tmp_path))
    assert without.returncode == 1
    assert "--recursive" in records(without.stdout)[0]["message"]  # type: ignore[operator]
    nested = tmp_path / "sub"
    nested.mkdir()
    (nested / "b.jpg").write_bytes(photos[1].read_bytes())
    with_r = run("hash", "--recursive", str(tmp_path))
    assert with_r.returncode == 0
    assert [Path(str(r["path"])).name for r in records(with_r.stdout)] == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    "args",
    [
        ["hash"],
        ["hash", "--format", "xml", "x.jpg"],
        ["hash", "--workers", "0", "x.jpg"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_two(args: list[str]) -> None:
    assert run(*args).returncode == 2


def test_workers_give_the_same_records(photos: list[Path], tmp_path: Path) -> None:
    for photo in photos[:12]:
        (tmp_path / photo.name).write_bytes(photo.read_bytes())
    one = run("hash", "-r", str(tmp_path))
    two = run("hash", "-r", "--workers", "2", str(tmp_path))
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout


def test_hash_writes_nothing_anywhere(photos: list[Path], tmp_path: Path) -> None:
    """No copies, caches or side files: the working folder and the photo folder stay as
    they were, and nothing but the records is printed."""
    work = tmp_path / "work"
    work.mkdir()
    before = sorted(p.name for p in photos[0].parent.iterdir())
    result = run("hash", str(photos[0]), cwd=work)
    assert result.returncode == 0
    assert list(work.iterdir()) == []
    assert sorted(p.name for p in photos[0].parent.iterdir()) == before
    assert result.stderr == ""


def test_progress_bar_only_on_a_terminal(photos: list[Path], tmp_path: Path) -> None:
    """With stderr on a terminal a progress bar is drawn there; stdout stays clean records."""
    import pty

    for photo in photos[:5]:
        (tmp_path / photo.name).write_bytes(photo.read_bytes())
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env.update({"COLUMNS": "100", "TERM": "xterm"})
    process = subprocess.run(
        [*CHORUS, "hash", "-r", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
        timeout=120,
        check=False,
    )
    os.close(follower)
    drawn = b""
    try:
        while chunk := os.read(leader, 65536):
            drawn += chunk
    except OSError:
        pass
    os.close(leader)
    assert process.returncode == 0
    assert b"Hashing" in drawn
    assert len(records(process.stdout.decode())) == 5
