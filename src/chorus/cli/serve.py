"""``chorus serve``: run the web app."""

from __future__ import annotations

import typer

from chorus.config import load_settings
from chorus.errors import ConfigError


def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default CHORUS_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (default CHORUS_PORT)."),
) -> None:
    """Start the Chorus server (API at /api/v1, OpenAPI page at /docs, health at /healthz)."""
    import uvicorn

    from chorus.web.app import create_app

    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(f"chorus: {exc}", err=True)
        raise typer.Exit(2) from exc
    app = create_app(settings)
    typer.echo(
        f"Chorus {settings.env} server on http://{host or settings.host}:{port or settings.port} "
        f"(database: {settings.effective_database_url.split('://')[0]})",
        err=True,
    )
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
