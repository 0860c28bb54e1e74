"""``chorus evidence``: keys, tree heads, captures, export and verification."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chorus.cli._context import database, errors_to_exit
from chorus.evidence import audit, captures, export, tree_heads
from chorus.evidence.keys import KeyRing, new_key_b64
from chorus.evidence.offline.bundle import public_key_from_pem, verify_bundle
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction

app = typer.Typer(help="Evidence: the tamper-evident ledger and court-ready bundles.")


@app.command("keygen")
def keygen() -> None:
    """Print a new signing key and master key as settings lines (keep them secret)."""
    typer.echo(f"CHORUS_EVIDENCE_SIGNING_KEY={new_key_b64()}")
    typer.echo(f"CHORUS_EVIDENCE_MASTER_KEY={new_key_b64()}")
    typer.echo(
        "Store these in your secret store. Losing the master key makes every capture "
        "unreadable; losing the signing key only means new tree heads use a new key.",
        err=True,
    )


@app.command("sign")
def sign() -> None:
    """Sign the ledger's current tree head (publish it to let others hold Chorus to it)."""
    settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        head = tree_heads.sign(session, settings)
    typer.echo(head.body)


@app.command("add-capture")
def add_capture(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="WARC or image.")],
    case: Annotated[str, typer.Option("--case", help="The case reference.")],
    by: Annotated[str, typer.Option("--by", help="Who adds it (staff id), for the log.")],
    kind: Annotated[str, typer.Option(help="warc or screenshot.")] = "screenshot",
    url: Annotated[str | None, typer.Option(help="Where it was seen.")] = None,
) -> None:
    """Store a capture for a case, encrypted; it is recorded in the ledger."""
    settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        info = captures.store(
            session,
            KeyRing(settings),
            Actor(Role.CASEWORKER, by),
            case_ref=case,
            kind=kind,
            data=file.read_bytes(),
            filename=file.name,
            source_url=url,
            max_bytes=settings.evidence_max_capture_bytes,
        )
    typer.echo(f"{info.public_id}\t{info.sha256}")


@app.command("export")
def export_(
    out: Annotated[Path, typer.Option("--out", help="Where to write the bundle (.zip).")],
    by: Annotated[str, typer.Option("--by", help="The investigator exporting (staff id).")],
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the custody log.")],
    case: Annotated[list[str] | None, typer.Option("--case", help="Case reference.")] = None,
    series: Annotated[str | None, typer.Option("--series", help="Series id.")] = None,
    exhibit_prefix: Annotated[str, typer.Option(help="Exhibit label prefix.")] = "CHR",
) -> None:
    """Export a case or series as a signed bundle that verifies offline."""
    settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        result = export.export_bundle(
            session,
            settings,
            Actor(Role.INVESTIGATOR, by),
            out,
            reason=reason,
            case_refs=case,
            series_id=series,
            exhibit_prefix=exhibit_prefix,
        )
    typer.echo(
        f"{result.bundle_id}: {result.entries} entries, {result.captures} captures, "
        f"signed tree of {result.tree_size}; manifest SHA-256 {result.manifest_sha256}"
    )
    typer.echo(f"Written to {result.path}. It may contain intimate images: keep it safe.")


@app.command("verify")
def verify(
    bundle: Annotated[Path, typer.Argument(exists=True, help="Bundle .zip or unpacked folder.")],
    public_key: Annotated[
        Path | None, typer.Option(help="PEM public key the bundle must be signed with.")
    ] = None,
) -> None:
    """Check a bundle offline (no database, no settings). Exit 1 on any problem."""
    try:
        pinned = public_key_from_pem(public_key.read_text()) if public_key else None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        typer.echo(f"chorus: {public_key} is not an Ed25519 public key in PEM form.", err=True)
        raise typer.Exit(2) from exc
    report = verify_bundle(bundle, pinned)
    typer.echo(f"key {report.key_id or '?'}; tree of {report.tree_size}; "
               f"{report.entries} entries; {report.captures} captures")  # fmt: skip
    if report.ok:
        typer.echo("VERIFIED")
        return
    for problem in report.problems:
        typer.echo(str(problem))
    raise typer.Exit(1)


@app.command("verify-ledger")
def verify_ledger() -> None:
    """Recompute the whole live ledger and check every hash and signature. Exit 1 if not."""
    settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        report = audit.verify_ledger(session, settings)
    typer.echo(f"{report.entries} entries, {report.tree_heads} signed tree heads")
    if report.ok:
        typer.echo("VERIFIED")
        return
    for problem in report.problems:
        typer.echo(problem)
    if report.more_problems:
        typer.echo(f"... and {report.more_problems} more")
    raise typer.Exit(1)
