"""``chorus match``: look up local files, or `chorus hash` records, in this Chorus's bank."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from chorus.cli._context import database, errors_to_exit
from chorus.errors import ChorusError
from chorus.evidence.keys import KeyRing
from chorus.fingerprint import Fingerprint
from chorus.fingerprint.workers import HashingPool
from chorus.matching.identify import EntryMatch, best_matches, queries_from_record
from chorus.matching.lookup import BankIndex
from chorus.store.session import transaction


def match(
    paths: Annotated[
        list[Path], typer.Argument(help="Image files to check, or JSONL files of records.")
    ],
) -> None:
    """Check photos against the bank: one record per file with the matching entry ids,
    each with the signal that matched most strongly (sha256/md5 exactly, pdq, robust or
    robust_half within its radius, local when enough corners agree: `inliers` says how
    many) and its distance. A file of `chorus hash` records (JSON lines) is checked record
    by record, without the photos.

    Exit status 0 when every file was checked (matched or not), 1 when any could not be."""
    settings, sessions = database()
    with errors_to_exit():
        keys = KeyRing(settings)  # opens the bank's sealed local features
    index = BankIndex(radius=settings.match_radius, keys=keys)
    failed = 0
    with HashingPool(1, limits=settings.fingerprint_limits()) as pool:
        for given in paths:
            if _is_records(given):
                failed += _match_records(sessions, index, given)
                continue
            [(path, outcome)] = list(pool.map([str(given)]))
            if isinstance(outcome, ChorusError):
                failed += 1
                typer.echo(
                    json.dumps({"path": path, "error": outcome.code, "message": outcome.message})
                )
                continue
            typer.echo(json.dumps({"path": path, "matches": _lookup(sessions, index, outcome)}))
    raise typer.Exit(1 if failed else 0)


def _is_records(path: Path) -> bool:
    """A file of JSON records (it starts with ``{``) rather than an image."""
    try:
        with path.open("rb") as handle:
            return handle.read(64).lstrip().startswith(b"{")
    except OSError:
        return False  # the hashing worker reports why it cannot be read


def _match_records(sessions: sessionmaker[Session], index: BankIndex, path: Path) -> int:
    """Look up each record of a JSONL file; returns how many could not be checked."""
    failed = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            out: dict[str, object] = {"path": str(path), "line": number}
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or "error" in record:
                    raise ValueError("this line is not a fingerprint record")
                out["matches"] = _lookup(sessions, index, queries_from_record(record))
            except (ChorusError, ValueError) as exc:
                failed += 1
                out["error"] = exc.message if isinstance(exc, ChorusError) else str(exc)
            typer.echo(json.dumps(out))
    return failed


def _lookup(
    sessions: sessionmaker[Session],
    index: BankIndex,
    item: Fingerprint | list[tuple[str, str]],
) -> list[dict[str, object]]:
    with transaction(sessions) as session:
        index.sync(session, force=True)
        matches = best_matches(session, index, item, actor="cli", endpoint="cli_match")
    return [_shown(m) for m in matches]


def _shown(m: EntryMatch) -> dict[str, object]:
    shown: dict[str, object] = {
        "id": m.entry_id,
        "distance": m.distance,
        "signal_type": m.signal_type,
        "radius": m.radius,
    }
    if m.inliers is not None:
        shown["inliers"] = m.inliers
    return shown
