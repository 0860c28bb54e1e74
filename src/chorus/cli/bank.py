"""``chorus bank``: add, import, withdraw and count protected items; seal old local rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from chorus.cli._context import database, errors_to_exit, operator
from chorus.errors import ChorusError
from chorus.evidence.keys import KeyRing
from chorus.fingerprint.workers import HashingPool
from chorus.matching import bank as bank_service
from chorus.matching.bank import SignalInput
from chorus.matching.local_seal import seal_plaintext_rows
from chorus.store.session import transaction

app = typer.Typer(help="The hash bank: survivors' fingerprints.", no_args_is_help=True)

OwnerOpt = Annotated[str, typer.Option("--owner", help="Opaque owner id (the case protected).")]
ProvenanceOpt = Annotated[str, typer.Option(help="survivor_device, caseworker or exchange_import.")]


@app.command("add")
def add(
    paths: Annotated[list[Path], typer.Argument(help="Photos to fingerprint and bank.")],
    owner: OwnerOpt,
    provenance: ProvenanceOpt = "caseworker",
) -> None:
    """Fingerprint photos on this computer and add their fingerprints (never the photos)."""
    settings, sessions = database()
    with errors_to_exit():
        keys = KeyRing(settings)  # local features are banked sealed with its data key
    failed = 0
    with HashingPool(1, limits=settings.fingerprint_limits()) as pool:
        for path, outcome in pool.map([str(p) for p in paths]):
            try:
                if isinstance(outcome, ChorusError):
                    raise outcome
                with transaction(sessions) as session:
                    entry = bank_service.register(
                        session,
                        owner_id=owner,
                        actor=operator(),
                        provenance=provenance,
                        signals=SignalInput.from_record(outcome.as_record()),
                        keys=keys,
                    )
                typer.echo(json.dumps({"path": path, "id": entry.public_id}))
            except ChorusError as exc:
                failed += 1
                typer.echo(json.dumps({"path": path, "error": exc.code, "message": exc.message}))
    raise typer.Exit(1 if failed else 0)


@app.command("import")
def import_records(
    source: Annotated[Path, typer.Argument(help="JSONL from `chorus hash` ('-' for stdin).")],
    owner: OwnerOpt,
    provenance: ProvenanceOpt = "caseworker",
) -> None:
    """Add fingerprints made elsewhere with `chorus hash` (one JSON record a line)."""
    settings, sessions = database()
    with errors_to_exit():
        keys = KeyRing(settings)  # local features are banked sealed with its data key
    handle = sys.stdin if str(source) == "-" else source.open()
    added = failed = 0
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or "error" in record:
                raise ValueError("not a fingerprint record")
            with transaction(sessions) as session:
                entry = bank_service.register(
                    session,
                    owner_id=owner,
                    actor=operator(),
                    provenance=provenance,
                    signals=SignalInput.from_record(record),
                    keys=keys,
                )
            added += 1
            typer.echo(json.dumps({"line": number, "id": entry.public_id}))
        except (ChorusError, ValueError) as exc:
            failed += 1
            message = exc.message if isinstance(exc, ChorusError) else str(exc)
            typer.echo(json.dumps({"line": number, "error": message}))
    typer.echo(f"{added} added, {failed} refused", err=True)
    raise typer.Exit(1 if failed else 0)


@app.command("withdraw")
def withdraw(
    entry_id: Annotated[str, typer.Argument(help="The bank entry id (be_...).")],
    reason: Annotated[str, typer.Option(help="Why (kept in the record).")] = "withdrawn",
) -> None:
    """Take an item out of matching and out of partners' copies."""
    _settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        bank_service.withdraw(session, entry_id, reason, actor=operator())
    typer.echo(f"{entry_id} withdrawn")


@app.command("stats")
def stats() -> None:
    """Count entries by status and active signals by type."""
    _settings, sessions = database()
    with transaction(sessions) as session:
        typer.echo(json.dumps(bank_service.stats(session), indent=2))


@app.command("seal-local")
def seal_local() -> None:
    """Seal the local features banked before they were stored sealed (migration 0019).

    Safe to run again: rows already sealed are left as they are."""
    settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        count = seal_plaintext_rows(session, KeyRing(settings))
    typer.echo(f"{count} local feature rows sealed")
