"""``init``, ``stats`` and ``show``: the store itself."""

from __future__ import annotations

from typing import Annotated

import typer

from paperstand.cli.app import app, err, print_json, settings, store_for
from paperstand.lookup import find_paper


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the data directory and the store (safe to run again)."""
    with store_for(ctx, create=True) as store:
        version = store.migrate()
    err.print(f"store ready at {settings(ctx).store_url()} (schema {version})", highlight=False)


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """How many papers the store holds and the latest listing day."""
    with store_for(ctx) as store:
        numbers = store.stats()
    if as_json:
        print_json(numbers)
    else:
        for key, value in numbers.items():
            typer.echo(f"{key}: {value}")


@app.command()
def show(
    ctx: typer.Context,
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="arXiv id, URL or DOI.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the paper as JSON.")] = False,
) -> None:
    """One paper's record."""
    with store_for(ctx) as store:
        paper = find_paper(store, paper_id)
    if as_json:
        print_json(paper.to_dict())
        return
    typer.echo(f"{paper.id}{f'v{paper.version}' if paper.version else ''}  {paper.title}")
    typer.echo(", ".join(paper.authors))
    typer.echo(f"categories: {' '.join(paper.categories)}   listed: {paper.listed}")
    if paper.upvotes is not None:
        typer.echo(f"upvotes: {paper.upvotes}")
    typer.echo("")
    typer.echo(paper.abstract)
