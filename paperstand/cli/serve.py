"""``paperstand serve``: the web site and the JSON API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from paperstand.cli.app import app, err, settings


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8000,
) -> None:
    """Serve the web site, the JSON API and the feeds until interrupted."""
    import uvicorn

    from paperstand.web import create_app

    web_app = create_app(settings(ctx))
    shown = f"[{host}]" if ":" in host else host
    err.print(f"paperstand serving at http://{shown}:{port}/  (Ctrl+C to stop)", highlight=False)
    uvicorn.run(web_app, host=host, port=port, log_level="warning", access_log=False)
