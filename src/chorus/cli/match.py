"""``chorus match``: fingerprint local files and look them up in this Chorus's bank."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from chorus.cli._context import database
from chorus.errors import ChorusError
from chorus.fingerprint.workers import HashingPool
from chorus.matching.lookup import BankIndex, lookup
from chorus.store.session import transaction


def match(
    paths: Annotated[list[Path], typer.Argument(help="Image files to check.")],
) -> None:
    """Check photos against the bank: one record per file with the matching entry ids,
    each with the signal that matched most strongly (sha256/md5 exactly, pdq or robust
    within its radius) and its distance.

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
            queries = [("sha256", outcome.sha256), ("md5", outcome.md5)]
            if outcome.usable:
                queries += [("pdq", value) for value in dict.fromkeys(outcome.pdq.dihedral)]
            if outcome.usable and outcome.robust is not None:
                queries += [("robust", code) for _name, code in outcome.robust.query]
            with transaction(sessions) as session:
                index.sync(session, force=True)
                results = lookup(session, index, queries, actor="cli", endpoint="cli_match")
            best: dict[str, tuple[float, int, str, int]] = {}
            for result in results:
                for m in result.matches:
                    # strongest first: exact digests, then the smallest share of the radius
                    strength = m.distance / m.radius if m.radius else 0.0
                    if m.entry_id not in best or strength < best[m.entry_id][0]:
                        best[m.entry_id] = (strength, m.distance, m.signal_type, m.radius)
            typer.echo(
                json.dumps(
                    {
                        "path": path,
                        "matches": [
                            {"id": k, "distance": d, "signal_type": t, "radius": r}
                            for k, (_s, d, t, r) in sorted(best.items(), key=lambda kv: kv[1])
                        ],
                    }
                )
            )
    raise typer.Exit(1 if failed else 0)
