"""``paperstand serve``: the web site and the JSON API under uvicorn."""

from __future__ import annotations

import os
import threading
from typing import Annotated, Any

import typer

from paperstand.cli.app import app, err, progress, progress_callback, settings
from paperstand.errors import PaperstandError
from paperstand.settings import Settings
from paperstand.store import open_store


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8000,
    embed: Annotated[
        bool,
        typer.Option(
            "--embed",
            help="Embed papers that lack an embedding in the background while serving "
            "(search uses full text alone for them until then).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, max=64, help="Server processes (each with its own caches)."
        ),
    ] = 1,
) -> None:
    """Serve the web site, the JSON API and the feeds until interrupted."""
    import uvicorn

    from paperstand.web.app import create_app

    conf = settings(ctx)
    # Built once here even with several workers: a missing store is reported in one line
    # before any process starts.
    web_app = create_app(conf, warm=True)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"paperstand serving at http://{shown}:{port}/  (Ctrl+C to stop)", highlight=False)
    if embed:
        threading.Thread(target=_embed_in_background, args=(conf,), daemon=True).start()
    # proxy_headers off: the app reads X-Forwarded-* itself, from PAPERSTAND_TRUSTED_PROXIES.
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "proxy_headers": False,
    }
    if workers == 1:
        uvicorn.run(web_app, access_log=False, **options)
        return
    # Worker processes rebuild the app from the environment, so hand them these settings.
    os.environ["PAPERSTAND_HOME"] = str(conf.home)
    if conf.database_url:
        os.environ["DATABASE_URL"] = conf.database_url
    uvicorn.run(
        "paperstand.web.app:app_from_environment",
        factory=True,
        workers=workers,
        access_log=False,
        # A worker answers the supervisor's health pings only once it has imported this
        # program (spawned workers import the console script first). uvicorn's 5 s is less
        # than that takes on a busy machine, where it then kills and restarts every worker,
        # forever, and nothing is ever served.
        timeout_worker_healthcheck=60,
        **options,
    )


def _embed_in_background(conf: Settings) -> None:
    """Embed what is missing, with a progress bar, while the server answers. A transformer
    embeds a few dozen abstracts a second on two cores, so a fresh store would otherwise
    keep its users waiting minutes before the first page."""
    from paperstand.index.build import embed_missing
    from paperstand.index.embeddings import get_embedder

    try:
        with open_store(conf.store_url()) as store, progress() as bar:
            report = embed_missing(
                store, get_embedder(conf.embedding_model), progress=progress_callback(bar)
            )
        err.print(report.summary(), highlight=False)
    except PaperstandError as exc:
        err.print(f"[red]error:[/red] background embedding stopped: {exc}", highlight=False)
