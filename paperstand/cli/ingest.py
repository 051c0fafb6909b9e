"""``paperstand ingest ...``: one command per source, each ending with a one-line summary."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from paperstand.cli.app import app, err, progress, progress_callback, settings, store_for
from paperstand.errors import SourceError
from paperstand.ingest import IngestReport, arxiv_pacer, ingest_and_index
from paperstand.sources import arxiv_api, arxiv_oai, hf_daily, jsonl
from paperstand.sources.base import Item
from paperstand.sources.http import Fetcher
from paperstand.store import Store

ingest_app = typer.Typer(help="Load papers from a source into the store.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

Strict = Annotated[bool, typer.Option("--strict", help="Fail on the first malformed record.")]
Files = Annotated[list[Path], typer.Argument(metavar="FILE...", help="Files to read.")]


def _finish(report: IngestReport) -> None:
    """Print the summary line (stdout), then the error if the run stopped early."""
    typer.echo(report.summary())
    for example in report.examples[:3]:
        err.print(f"  skipped {example.where}: {example.reason}", highlight=False, soft_wrap=True)
    if report.error:
        err.print(f"[red]error:[/red] {report.error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def _run(
    ctx: typer.Context, items_for: Callable[[Store], Iterable[Item]], strict: bool, label: str
) -> None:
    """Ingest items from a remote source, with a progress counter of records seen.
    ``items_for`` gets the store, so resumable sources can read their checkpoint."""
    with store_for(ctx) as store, progress() as bar:
        task = bar.add_task(label, total=None)
        report = ingest_and_index(
            store,
            items_for(store),
            settings(ctx),
            strict=strict,
            on_batch=lambda r: bar.update(task, completed=r.seen),
            progress=progress_callback(bar),
        )
    _finish(report)


def _fetcher(ctx: typer.Context, arxiv: Store | None = None) -> Fetcher:
    """HTTP client with the configured retries; with ``arxiv``, the store whose pacing
    slots space out the requests of every process of this installation."""
    conf = settings(ctx)
    if arxiv is None:
        return Fetcher.from_settings(conf)
    return Fetcher.from_settings(conf, pace=arxiv_pacer(arxiv, conf.arxiv_delay))


def _file_items(files: list[Path], bar, reader) -> Iterator[Item]:
    """Items of each file in turn, with a byte progress bar per file."""
    for path in files:
        if not path.is_file():
            raise SourceError(f"{path}: no such file")
        with bar.open(path, "rb", description=path.name) as stream:
            yield from reader(stream, str(path))


def _run_files(ctx: typer.Context, files: list[Path], strict: bool, reader) -> None:
    with store_for(ctx) as store, progress(bytes_total=True) as bar:
        report = ingest_and_index(
            store,
            _file_items(files, bar, reader),
            settings(ctx),
            strict=strict,
            progress=progress_callback(bar),
        )
    _finish(report)


@ingest_app.command("jsonl")
def ingest_jsonl(ctx: typer.Context, files: Files, strict: Strict = False) -> None:
    """arXiv metadata as JSON lines (Kaggle snapshot or paperstand listings), plain or .gz."""
    _run_files(ctx, files, strict, jsonl.records)


@ingest_app.command("hf-daily")
def ingest_hf_daily(
    ctx: typer.Context,
    files: Annotated[list[Path] | None, typer.Argument(metavar="[FILE...]")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Base URL of a daily-papers API.")
    ] = None,
    date: Annotated[str | None, typer.Option("--date", help="Day to fetch, YYYY-MM-DD.")] = None,
    strict: Strict = False,
) -> None:
    """Hugging Face daily papers: saved /api/daily_papers responses, or fetched by day."""
    if url:
        if not date:
            raise typer.BadParameter("--url needs --date YYYY-MM-DD", param_hint="--date")
        _run(
            ctx,
            lambda _: hf_daily.records_from_url(url, date, fetcher=_fetcher(ctx)),
            strict,
            f"daily papers {date}",
        )
    elif files:
        _run_files(ctx, files, strict, hf_daily.records)
    else:
        raise typer.BadParameter("give FILE... or --url BASE --date YYYY-MM-DD")


@ingest_app.command("arxiv-oai")
def ingest_arxiv_oai(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url")] = arxiv_oai.DEFAULT_URL,
    set_spec: Annotated[str | None, typer.Option("--set", help="OAI set, e.g. cs.")] = None,
    from_date: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option("--until", help="YYYY-MM-DD")] = None,
    metadata_prefix: Annotated[str, typer.Option("--format", help="arXiv or arXivRaw.")] = "arXiv",
    strict: Strict = False,
) -> None:
    """Incremental OAI-PMH harvest; an interrupted harvest resumes where it stopped."""
    _run(
        ctx,
        lambda store: arxiv_oai.records(
            url,
            metadata_prefix=metadata_prefix,
            set_spec=set_spec,
            from_date=from_date,
            until=until,
            checkpoints=store,
            fetcher=_fetcher(ctx, arxiv=store),
        ),
        strict,
        "OAI-PMH harvest",
    )


@ingest_app.command("arxiv-api")
def ingest_arxiv_api(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url")] = arxiv_api.DEFAULT_URL,
    paper_ids: Annotated[
        list[str] | None, typer.Option("--id", help="arXiv id (repeatable).")
    ] = None,
    query: Annotated[str | None, typer.Option("--query", help="arXiv API search query.")] = None,
    max_results: Annotated[int, typer.Option("--max", min=1)] = 100,
    strict: Strict = False,
) -> None:
    """Papers from the arXiv Atom API, by id list or by search query."""
    if bool(paper_ids) == bool(query):
        raise typer.BadParameter("give either --id ID... or --query Q")
    _run(
        ctx,
        lambda store: arxiv_api.records(
            url,
            ids=paper_ids,
            query=query,
            max_results=max_results,
            fetcher=_fetcher(ctx, arxiv=store),
        ),
        strict,
        "arXiv API",
    )
