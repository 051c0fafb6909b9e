"""``paperstand db migrate``, ``db compact``, ``db copy``: the database itself, either backend."""

from __future__ import annotations

from typing import Annotated

import typer

from paperstand.cli.app import app, progress, settings
from paperstand.dbcopy import copy_store
from paperstand.errors import InvalidInput
from paperstand.store import open_store

db_app = typer.Typer(help="Schema migrations and copies between databases.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("migrate")
def migrate(ctx: typer.Context) -> None:
    """Bring the schema of the store (--database-url or --home) up to date."""
    with open_store(settings(ctx).store_url(), migrate=False) as store:
        version = store.migrate()
    typer.echo(f"schema version {version}")


@db_app.command("compact")
def compact(ctx: typer.Context) -> None:
    """Give the space a migration or deleted papers freed back to the disk (SQLite:
    rewrites the file, which needs as much free disk as the result; PostgreSQL: nothing to
    do)."""
    with open_store(settings(ctx).store_url()) as store:
        freed = store.compact()
    typer.echo(f"freed {freed:,} bytes")


@db_app.command("copy")
def copy(
    source: Annotated[
        str, typer.Argument(metavar="SOURCE_URL", help="sqlite:///PATH or postgresql://...")
    ],
    target: Annotated[
        str, typer.Argument(metavar="TARGET_URL", help="sqlite:///PATH or postgresql://...")
    ],
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 2000,
) -> None:
    """Copy every paper (and embedding) from SOURCE_URL into TARGET_URL, merging with what the
    target holds. Interrupted copies resume where they stopped; counts are checked at the end."""
    if source == target:
        raise InvalidInput("SOURCE_URL and TARGET_URL are the same database")
    with open_store(source) as src, open_store(target) as dst, progress() as bar:
        tasks: dict[str, int] = {}

        def advance(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"copying {phase}", total=total)
            bar.update(tasks[phase], completed=done)

        report = copy_store(src, dst, batch_size=batch_size, on_progress=advance)
    typer.echo(report.summary())
