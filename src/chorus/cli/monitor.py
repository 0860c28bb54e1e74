"""``chorus monitor``: watch pages and boards for copies of banked images."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from chorus.cli._context import database, errors_to_exit
from chorus.monitor import targets
from chorus.monitor.runner import run_forever
from chorus.monitor.sources import KINDS
from chorus.store.session import transaction

app = typer.Typer(help="The site monitor: watch pages and boards for re-uploads.")


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="A page, thread or board catalog URL.")],
    kind: Annotated[str, typer.Option(help=f"Source kind: {', '.join(KINDS)}.")] = "html",
    interval: Annotated[int | None, typer.Option(help="Seconds between checks.")] = None,
) -> None:
    """Watch a URL. It counts as reported by a person: re-checks ignore robots.txt."""
    settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        target = targets.add(session, url, kind, interval_s=interval or settings.monitor_interval_s)
        typer.echo(f"{target.id}\t{target.kind}\t{target.url}")


@app.command("list")
def list_() -> None:
    """Every watched URL with its state and last result."""
    _settings, sessions = database()
    with transaction(sessions) as session:
        for t in targets.list_all(session):
            last = t.last_error or (f"HTTP {t.last_status}" if t.last_status else "not yet checked")
            typer.echo(f"{t.id}\t{t.state}\t{t.kind}\t{t.purpose}\t{last}\t{t.url}")


def _set_state(target_id: int, state: str) -> None:
    _settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        targets.set_state(session, target_id, state)
    typer.echo(f"{target_id} {state}")


@app.command("pause")
def pause(target_id: Annotated[int, typer.Argument(help="The target id (see list).")]) -> None:
    """Stop checking a URL (its sightings are still re-checked)."""
    _set_state(target_id, "paused")


@app.command("resume")
def resume(target_id: Annotated[int, typer.Argument(help="The target id (see list).")]) -> None:
    """Check a paused URL again."""
    _set_state(target_id, "active")


@app.command("run")
def run(
    worker: Annotated[str | None, typer.Option(help="A name for this worker.")] = None,
) -> None:
    """Run the monitor alone (several may share one PostgreSQL). Ctrl-C stops it cleanly."""
    settings, sessions = database()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    typer.echo("Monitor running; Ctrl-C to stop.", err=True)
    with errors_to_exit():
        run_forever(sessions, settings, stop, worker=worker)
