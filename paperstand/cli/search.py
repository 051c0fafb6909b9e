"""``index build``, ``search`` and ``similar``: finding papers from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from paperstand.cli.app import (
    app,
    err,
    print_json,
    progress,
    progress_callback,
    settings,
    store_for,
)

if TYPE_CHECKING:  # the search modules load numpy and the index: only when a command runs
    from paperstand.search import Hit

index_app = typer.Typer(help="Search indexes: full text and embeddings.", no_args_is_help=True)
app.add_typer(index_app, name="index")

Limit = Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="How many results.")]
Day = Annotated[str | None, typer.Option(help="Listing day bound, YYYY-MM-DD (inclusive).")]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print one JSON array of {id, title, score, ...}.")
]


@index_app.command("build")
def index_build(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    full_text_only: Annotated[
        bool,
        typer.Option(
            "--full-text-only",
            help="Only the full-text index (seconds); embed later, e.g. with 'serve --embed'.",
        ),
    ] = False,
) -> None:
    """Bring the full-text index up to date and embed the papers that need it."""
    from paperstand.index.build import build_index, sync_fulltext

    conf = settings(ctx)
    with store_for(ctx) as store, progress() as bar:
        show = progress_callback(bar)
        if full_text_only:
            indexed = sync_fulltext(store, conf, show)
            if as_json:
                print_json({"indexed": indexed})
            else:
                typer.echo(f"full text: {indexed} papers indexed")
            return
        report = build_index(store, conf, progress=show)
    if as_json:
        print_json(report.to_dict())
    else:
        typer.echo(report.summary())


def _print_hits(hits: list[Hit], as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "id": h.paper.id,
                    "title": h.paper.title,
                    "score": round(h.score, 6),
                    "authors": h.paper.authors,
                    "categories": h.paper.categories,
                    "listed": h.paper.listed,
                    "url": h.paper.abs_url,
                }
                for h in hits
            ]
        )
        return
    for h in hits:
        typer.echo(f"{h.paper.id:<18} {h.score:8.4f}  {h.paper.title}")


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='Words, "a phrase", author:NAME, cat:CAT, an id.')],
    limit: Limit = 20,
    since: Day = None,
    until: Day = None,
    category: Annotated[str | None, typer.Option("--category", help="e.g. cs.LG")] = None,
    has_code: Annotated[bool, typer.Option("--has-code", help="Only papers with code.")] = False,
    as_json: AsJson = False,
) -> None:
    """Hybrid search: full text and embeddings, fused by reciprocal rank."""
    with store_for(ctx) as store:
        from paperstand.search import Searcher

        result = Searcher(store, settings(ctx)).search(
            query, limit=limit, since=since, until=until, category=category, has_code=has_code
        )
    if result.notice:
        err.print(result.notice, highlight=False, soft_wrap=True)
    _print_hits(result.hits, as_json)


@app.command()
def similar(
    ctx: typer.Context,
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="arXiv id, URL or DOI.")],
    limit: Limit = 10,
    as_json: AsJson = False,
) -> None:
    """The papers nearest to one paper (never the paper itself)."""
    with store_for(ctx) as store:
        from paperstand.search import Searcher

        hits = Searcher(store, settings(ctx)).similar(paper_id, limit=limit)
    _print_hits(hits, as_json)
