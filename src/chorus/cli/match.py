"""``chorus match``: fingerprint local files and look them up in this Chorus's bank."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from chorus.cli._context import database
from chorus.errors import ChorusError
from chorus.fingerprint.workers import HashingPool
from chorus.matching.identify import best_matches
from chorus.matching.lookup import BankIndex
from chorus.store.session import transaction


def match(
    paths: Annotated[list[Path], typer.Argument(help="Image files to check.")],
) -> None:
    """Check photos against the bank: one record per file with the matching entry ids,
    each with the signal that matched most strongly (sha256/md5 exactly, pdq, robust or
    robust_half within its radius) and its distance.

    Exit status 0 when every file was checked (matched or not), 1 when any could not be."""
    settings, sessions = database()
    index = BankIndex(radius=settings.match_radius)
    failed = 0
    with HashingPool(1, limits=settings.fingerprint_limits()) as pool:
        for path, outcome in pool.map([str(p) for p in paths]):
            if isinstance(outcome, ChorusError):
                failed += 1
                typer.echo(
                    json.dumps({"path": path, "error": outcome.code, "message": outcome.message})
                )
                continue
            with transaction(sessions) as session:
                index.sync(session, force=True)
                matches = best_matches(session, index, outcome, actor="cli", endpoint="cli_match")
            typer.echo(
                json.dumps(
                    {
                        "path": path,
                        "matches": [
                            {
                                "id": m.entry_id,
                                "distance": m.distance,
                                "signal_type": m.signal_type,
                                "radius": m.radius,
                            }
                            for m in matches
                        ],
                    }
                )
            )
    raise typer.Exit(1 if failed else 0)
