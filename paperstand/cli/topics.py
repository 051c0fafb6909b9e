"""``topics build``, ``topics trends`` and ``map``: the topic map from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paperstand.cli.app import app, print_json, progress, progress_callback, settings, store_for
from paperstand.dates import parse_day

topics_app = typer.Typer(help="Topic clusters, keywords and the topic map.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")


@topics_app.command("build")
def topics_build(
    ctx: typer.Context,
    full: Annotated[
        bool, typer.Option("--full", help="Refit clusters and map from scratch (minutes).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Place newly embedded papers on the topic map (the first run, or --full, fits it)."""
    from paperstand.topics.service import build_topics

    with store_for(ctx) as store, progress() as bar:
        report = build_topics(store, settings(ctx), full=full, progress=progress_callback(bar))
    if as_json:
        print_json(report.to_dict())
    else:
        typer.echo(report.summary())


@topics_app.command("trends")
def topics_trends(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print everything as JSON.")] = False,
) -> None:
    """Rising keywords (last 30 days against the 90 before) and weekly papers per topic."""
    from paperstand.topics.service import trends

    with store_for(ctx) as store:
        found = trends(store)
    if as_json:
        print_json(found)
        return
    for row in found["rising"]:
        typer.echo(f"{row['ratio']:>6.2f}x  {row['recent']:>4}  {row['keyword']}")
    for cluster in found["clusters"]:
        typer.echo(f"{sum(cluster['counts']):>6}  {cluster['label']}")


@app.command("map")
def draw_map(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG file to write.")],
    since: Annotated[
        str | None, typer.Option(help="Only papers of this day or later, YYYY-MM-DD.")
    ] = None,
) -> None:
    """Draw the topic map to a PNG (the latest day's papers ringed)."""
    from paperstand.topics.service import draw_map_png

    if since is not None:
        since = parse_day(since, "--since").isoformat()
    with store_for(ctx) as store:
        count = draw_map_png(store, out, since=since)
    typer.echo(f"{out}: {count} papers")
