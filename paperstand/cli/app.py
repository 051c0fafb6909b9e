"""The Typer application, its global options and the helpers every command module shares.

Commands live in one module per concern (``ingest.py``, ``search.py``, ...); each is a thin
face: parse arguments, call the library, print the result.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from paperstand.settings import Settings, load_settings
from paperstand.store import Store, open_store

app = typer.Typer(
    name="paperstand",
    help="Self-hostable research-paper discovery: ingest, feeds, search, recommendations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Progress bars and notes go to stderr so that --json output on stdout stays clean.
err = Console(stderr=True)


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="Data directory (default: $PAPERSTAND_HOME or the user data dir)."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="postgresql://... for server mode (default: $DATABASE_URL, else SQLite "
            "in --home).",
        ),
    ] = None,
) -> None:
    overrides: dict[str, Any] = {}
    if home is not None:
        overrides["home"] = home
    if database_url is not None:
        overrides["database_url"] = database_url
    ctx.obj = load_settings(**overrides)


def settings(ctx: typer.Context) -> Settings:
    return ctx.find_root().obj


@contextmanager
def store_for(ctx: typer.Context, *, create: bool = False):
    """The store chosen by the global options; ``create`` makes the home directory first."""
    conf = settings(ctx)
    if create and not conf.database_url:
        conf.home.mkdir(parents=True, exist_ok=True)
    store: Store = open_store(conf.store_url())
    try:
        yield store
    finally:
        store.close()


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def progress(*, bytes_total: bool = False) -> Progress:
    """A rich progress bar on stderr; byte counts for file reads, item counts otherwise."""
    count = DownloadColumn() if bytes_total else MofNCompleteColumn()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        count,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


def progress_callback(bar: Progress) -> Callable[[str, int, int | None], None]:
    """A staged progress callback (``index build``'s ``(stage, done, total)``) that shows
    each stage as its own bar."""
    tasks: dict[str, TaskID] = {}

    def show(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return show
