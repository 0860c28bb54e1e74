"""``chorus keys``: partner API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from chorus.cli._context import database, errors_to_exit
from chorus.security import api_keys
from chorus.store.session import transaction

app = typer.Typer(help="Partner API keys.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who holds the key (a partner's name).")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="lookup, exchange, feedback (repeatable).")
    ],
    rate_limit: Annotated[int, typer.Option(help="Requests a minute.")] = 600,
) -> None:
    """Create a key. It is shown once: store it safely, it cannot be shown again."""
    _settings, sessions = database()
    with errors_to_exit(2), transaction(sessions) as session:
        key = api_keys.create_key(session, name, scope, rate_limit)
    typer.echo(key.token)
    typer.echo(f"Key {key.key_id} created; this is the only time it is shown.", err=True)


@app.command("list")
def list_() -> None:
    """List keys (ids, names, scopes, state): never the secrets."""
    _settings, sessions = database()
    with transaction(sessions) as session:
        for key in api_keys.list_keys(session):
            state = "revoked" if key.revoked_at else "active"
            typer.echo(f"{key.key_id}\t{state}\t{key.scopes}\t{key.name}")


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id to revoke.")]) -> None:
    """Revoke a key at once."""
    _settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        api_keys.revoke_key(session, key_id)
    typer.echo(f"{key_id} revoked")
