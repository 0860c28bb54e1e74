"""The ``chorus`` command. One module per command group; this file only assembles them."""

from __future__ import annotations

from typing import Annotated

import typer

from chorus import __version__
from chorus.cli import bank as bank_cmd
from chorus.cli import evidence as evidence_cmd
from chorus.cli import hash as hash_cmd
from chorus.cli import keys as keys_cmd
from chorus.cli import match as match_cmd
from chorus.cli import monitor as monitor_cmd
from chorus.cli import serve as serve_cmd
from chorus.cli import staff as staff_cmd
from chorus.cli import takedown as takedown_cmd
from chorus.cli import takedown_notices as takedown_notices_cmd

app = typer.Typer(
    name="chorus",
    help=(
        "Chorus: fingerprint images without uploading them, match them, and respond to "
        "intimate image abuse."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="hash")(hash_cmd.hash_files)
app.command(name="serve")(serve_cmd.serve)
app.command(name="match")(match_cmd.match)
app.add_typer(bank_cmd.app, name="bank")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(evidence_cmd.app, name="evidence")
app.add_typer(monitor_cmd.app, name="monitor")
takedown_notices_cmd.register(takedown_cmd.app)
app.add_typer(takedown_cmd.app, name="takedown")
app.add_typer(staff_cmd.app, name="staff")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chorus {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Chorus command line."""


def main() -> None:
    app()
