"""``chorus takedown``: whom to ask to remove a copy (and, from other modules, notices).

This module holds the group's Typer ``app``; other takedown commands register on it from
their own modules.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chorus.cli._context import errors_to_exit
from chorus.config import load_settings
from chorus.takedowns import bootstrap
from chorus.takedowns.discovery import Discoverer, DiscoveryResult, make_fetcher
from chorus.takedowns.recipient import Recipient

app = typer.Typer(help="Takedowns: find whom to ask to remove a copy.", no_args_is_help=True)


def _safe(text: str) -> str:
    """Text from remote servers shown literally: no Rich markup, no terminal escapes."""
    return escape("".join(" " if ord(ch) < 32 and ch != "\n" else ch for ch in text))


def _contact(r: Recipient) -> str:
    parts = [p for p in (r.email, r.web_form_url, r.phone and f"tel {r.phone}") if p]
    return _safe("\n".join(parts)) or "(no contact published)"


def _print(result: DiscoveryResult) -> None:
    console = Console(width=None if Console().is_terminal else 160)
    table = Table(title=f"Who can be asked to remove {_safe(result.url)}", show_lines=True)
    for column in ("role", "who", "how to reach them", "how sure", "found in"):
        table.add_column(column, overflow="fold")
    for r in result.recipients:
        name = r.name + "".join(f"\n- {n}" for n in r.notes)
        table.add_row(r.role.value, _safe(name), _contact(r), r.confidence.value, _safe(r.source))
    console.print(table)
    if result.cdn:
        console.print(
            f"The site is served through {_safe(result.cdn)}: its hosting provider is hidden."
        )
    if result.failures:
        failed = Table(title="Sources that gave nothing (the others were still used)")
        failed.add_column("source")
        failed.add_column("why", overflow="fold")
        for f in result.failures:
            failed.add_row(_safe(f.source), _safe(f.reason))
        console.print(failed)


@app.command("discover")
def discover(
    url: Annotated[str, typer.Argument(help="The address of the copy (page or image).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List who can be asked to remove a copy: the site, its host, its registrar, a CDN in
    front of it, search engines; each with where it was found and how sure that is.

    Exit status 0 when discovery ran (sources that failed are listed, not fatal), 1 when
    the address or the settings were refused.
    """
    with errors_to_exit():
        settings = load_settings()
        with Discoverer(settings) as discoverer:
            result = discoverer.run(url)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print(result)


@app.command("refresh-bootstrap")
def refresh_bootstrap(
    source: Annotated[
        str, typer.Option("--from", help="Where the four bootstrap files are.")
    ] = bootstrap.IANA_URL,
) -> None:
    """Fetch IANA's RDAP bootstrap files (dns, ipv4, ipv6, asn) for discovery to use.

    They are written to CHORUS_TAKEDOWN_RDAP_BOOTSTRAP_DIR, or <data_dir>/rdap-bootstrap;
    nothing changes unless all four arrive and check out.
    """
    with errors_to_exit():
        settings = load_settings()
        target = settings.takedown_rdap_bootstrap_dir or bootstrap.refreshed_dir(settings.data_dir)
        with make_fetcher(settings) as fetcher:
            loaded = bootstrap.refresh(fetcher, target, source)
    typer.echo(
        f"RDAP bootstrap updated in {target} (published {loaded.publication or 'undated'}, "
        f"{len(loaded.domains)} top-level domains, {len(loaded.networks)} address blocks)."
    )
