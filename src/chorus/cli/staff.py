"""``chorus staff``: accounts for caseworkers, investigators and administrators."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from chorus.cli._context import database, errors_to_exit
from chorus.evidence.keys import KeyRing
from chorus.security import staff_auth
from chorus.store.session import transaction

app = typer.Typer(help="Staff accounts (password + TOTP sign-in).", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("The same password again", hide_input=True) != first:
        typer.echo("chorus: the two passwords differ; nothing was changed.", err=True)
        raise typer.Exit(2)
    return str(first)


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Sign-in name: lowercase, e.g. a.khan.")],
    role: Annotated[str, typer.Option(help="caseworker, investigator or admin.")],
    name: Annotated[str, typer.Option(help="The person's name as colleagues know it.")],
    unit: Annotated[str, typer.Option(help="Their unit or team.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a staff member. Prints the TOTP enrolment address once: add it to their
    authenticator app (or show it as a QR code) now; it cannot be shown again."""
    settings, sessions = database()
    password = _password(password_stdin)
    with errors_to_exit(2), transaction(sessions) as session:
        enrolled = staff_auth.add_staff(
            session,
            KeyRing(settings),
            username,
            role=role,
            display_name=name,
            unit=unit,
            password=password,
        )
    typer.echo(enrolled.provisioning_uri)
    typer.echo(
        f"{enrolled.staff.username} ({enrolled.staff.role.value}) added. The address above "
        "holds their sign-in code secret; this is the only time it is shown.",
        err=True,
    )


@app.command("list")
def list_() -> None:
    """List staff accounts (never passwords or code secrets)."""
    _settings, sessions = database()
    with transaction(sessions) as session:
        for s in staff_auth.list_staff(session):
            state = "active" if s.active else "disabled"
            last = s.last_sign_in_at.isoformat(timespec="seconds") if s.last_sign_in_at else "-"
            typer.echo(f"{s.username}\t{s.role.value}\t{state}\t{s.unit}\t{last}\t{s.display_name}")


@app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="The account to disable.")]) -> None:
    """Disable an account at once: it cannot sign in and its open sessions end."""
    _settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        staff_auth.disable_staff(session, username)
    typer.echo(f"{username} disabled")
