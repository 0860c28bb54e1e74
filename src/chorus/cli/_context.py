"""Shared plumbing for commands that use the database: settings, engine, error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings, load_settings
from chorus.errors import ChorusError
from chorus.store import migrate
from chorus.store.engine import make_engine
from chorus.store.session import session_factory


def operator() -> str:
    """How the ledger names whoever runs a command on the server: ``operator:<login>``."""
    import getpass

    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):
        return "operator:unknown"


def database() -> tuple[Settings, sessionmaker[Session]]:
    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    if settings.auto_migrate:
        migrate.upgrade(engine)
    return settings, session_factory(engine)


@contextmanager
def errors_to_exit(code: int = 1) -> Iterator[None]:
    """Print a ChorusError as one plain line on stderr and exit with ``code``."""
    try:
        yield
    except ChorusError as exc:
        typer.echo(f"chorus: {exc.message}", err=True)
        raise typer.Exit(code) from exc
