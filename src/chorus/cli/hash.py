"""``chorus hash``: fingerprint local files. Nothing is uploaded, copied or cached."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from chorus.config import load_settings
from chorus.errors import ChorusError, ConfigError, FingerprintError, UnreadableMediaError
from chorus.fingerprint import Fingerprint
from chorus.fingerprint.workers import HashingPool

CSV_FIELDS = ("path", "sha256", "md5", "pdq", "quality", "usable", "dihedral", "error", "message")


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


def expand(paths: list[Path], recursive: bool) -> Iterator[tuple[str, FingerprintError | None]]:
    """Files to hash, in a stable order; folders only with ``recursive``.

    Symbolic links to folders are not followed (a link loop cannot trap the walk); a folder
    that cannot be listed gets an error record rather than being skipped silently.
    """
    for path in paths:
        if path.is_dir():
            if not recursive:
                yield (
                    str(path),
                    UnreadableMediaError(
                        f"{path} is a folder; add --recursive to hash the files inside it."
                    ),
                )
                continue
            problems: list[OSError] = []
            for root, dirs, files in os.walk(path, onerror=problems.append):
                dirs.sort()
                for name in sorted(files):
                    yield os.path.join(root, name), None
                for name in dirs:
                    if os.path.islink(os.path.join(root, name)):
                        yield (
                            os.path.join(root, name),
                            UnreadableMediaError(
                                f"{os.path.join(root, name)} is a link to a folder; it was not "
                                "followed. Hash the folder it points to directly."
                            ),
                        )
                while problems:
                    problem = problems.pop(0)
                    yield (
                        str(problem.filename),
                        UnreadableMediaError(
                            f"{problem.filename} could not be listed: {problem.strerror}."
                        ),
                    )
        else:
            yield str(path), None


def record(path: str, outcome: Fingerprint | ChorusError) -> dict[str, Any]:
    if isinstance(outcome, ChorusError):
        return {"path": path, "error": outcome.code, "message": outcome.message}
    full = outcome.as_record()
    return {
        "path": path,
        "sha256": outcome.sha256,
        "md5": outcome.md5,
        "pdq": outcome.pdq.hash,
        "quality": outcome.pdq.quality,
        "usable": outcome.usable,
        "dihedral": list(outcome.pdq.dihedral),
        "method": outcome.method,
        # the signals beyond PDQ, as `chorus bank import` and `chorus match` read them
        "robust": full["robust"],
        "local": full["local"],
    }


def hash_files(
    paths: Annotated[list[Path], typer.Argument(help="Image files, or folders with --recursive.")],
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Hash the files inside folders.")
    ] = False,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="jsonl (one JSON object a line) or csv."),
    ] = OutputFormat.jsonl,
    exact: Annotated[
        bool,
        typer.Option("--exact", help="Full-size decode, as Meta's reference tools (slower)."),
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Hashing processes to use.")
    ] = 1,
) -> None:
    """Fingerprint images on this computer: SHA-256, MD5 and PDQ with its 8 variants.

    One record per file goes to standard output; a file that cannot be read gets an error
    record instead. Exit status: 0 if every file was hashed, 1 if any could not be, 2 for
    a usage error. The images never leave this computer.
    """
    try:
        limits = load_settings().fingerprint_limits()
    except ConfigError as exc:
        typer.echo(f"chorus: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    entries = list(expand(paths, recursive))
    writer = _writer(output_format)
    failed = 0
    with HashingPool(workers, exact=exact, limits=limits) as pool:
        # The progress bar's thread starts after the workers are forked.
        progress = _progress(len(entries))
        try:
            outcomes = pool.map([p for p, err in entries if err is None])
            for path, early in entries:
                outcome: Fingerprint | ChorusError
                if early is not None:
                    outcome = early
                else:
                    got_path, outcome = next(outcomes)
                    assert got_path == path
                failed += isinstance(outcome, ChorusError)
                writer(record(path, outcome))
                if progress is not None:
                    progress.advance(progress.task_ids[0])
        finally:
            if progress is not None:
                progress.stop()
    raise typer.Exit(1 if failed else 0)


def _writer(output_format: OutputFormat) -> Any:
    out = sys.stdout
    if output_format is OutputFormat.jsonl:

        def write_json(row: dict[str, Any]) -> None:
            out.write(json.dumps(row, sort_keys=False) + "\n")
            out.flush()

        return write_json
    table = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    table.writeheader()

    def write_csv(row: dict[str, Any]) -> None:
        flat = dict(row)
        if "dihedral" in flat:
            flat["dihedral"] = " ".join(flat["dihedral"])
        table.writerow(flat)
        out.flush()

    return write_csv


def _progress(total: int) -> Any:
    if not sys.stderr.isatty() or total < 2:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    progress.add_task("Hashing", total=total)
    progress.start()
    return progress
