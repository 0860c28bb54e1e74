"""``chorus serve``: run the web app."""

from __future__ import annotations

from typing import Annotated

import typer

from chorus.config import load_settings
from chorus.errors import ConfigError


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default CHORUS_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default CHORUS_PORT).")
    ] = None,
) -> None:
    """Start the Chorus server (API at /api/v1, OpenAPI page at /docs, health at /healthz)."""
    import uvicorn

    from chorus.web.app import create_app

    try:
        settings = load_settings()
        app = create_app(settings)
    except ConfigError as exc:
        typer.echo(f"chorus: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"Chorus {settings.env} server on http://{host or settings.host}:{port or settings.port} "
        f"(database: {settings.effective_database_url.split('://')[0]})",
        err=True,
    )
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
