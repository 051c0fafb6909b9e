"""Bulk JSONL ingestion speed: the arXiv listings of ../shared/data/arxiv into a fresh store,
then the full-text index brought up to date, as ``paperstand ingest jsonl`` does.

Runs the same code path as `paperstand ingest jsonl` (source + ingest service + store with
its author and category tables kept in step, then the tantivy full-text index of
``ingest_and_index``) and, as a baseline in the same process, reading and parsing alone, so
the ratio shows what storing costs on top of parsing. The machines are shared, so besides
wall-clock rates it prints what each step costs in CPU seconds: the writer (this process),
the parsing helper (its child) and the index build.

Usage: python benchmarks/ingest.py [--data DIR] [--limit-files N] [--postgres] [--no-index]
(DIR defaults to ../shared/data/arxiv; elsewhere pass any folder of paperstand listing
.jsonl.gz files; --postgres ingests into a fresh PostgreSQL database of a private
``pgserver`` instead of SQLite)
Last line: {"papers": N, "seconds": S, "papers_per_s": R, ...}
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from paperstand.index.build import sync_fulltext
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.sources import jsonl
from paperstand.sources.base import Item
from paperstand.store import open_store

from _shared_data import SHARED_DATA, require

DEFAULT_DATA = SHARED_DATA / "arxiv"


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process (the writer) and by its finished children
    (the parsing helper)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def items(files: list[Path]) -> Iterator[Item]:
    for path in files:
        with path.open("rb") as stream:
            yield from jsonl.records(stream, str(path))


def store_url(home: Path, postgres: bool) -> tuple[str, object]:
    """The URL of a fresh store in ``home`` and the server to stop afterwards (or None)."""
    if not postgres:
        return f"sqlite:///{home}/paperstand.sqlite3", None
    from backends import start_postgres

    server, url = start_postgres(home)
    return url, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit-files", type=int, default=None)
    parser.add_argument("--postgres", action="store_true", help="ingest into PostgreSQL")
    parser.add_argument("--no-index", action="store_true", help="skip the full-text index")
    args = parser.parse_args()
    require(args.data, "--data DIR", "a folder of arXiv listings-*.jsonl.gz (shared/data/arxiv)")
    files = sorted(args.data.glob("*.jsonl*"))[: args.limit_files]
    if not files:
        raise SystemExit(f"no JSONL files in {args.data}")

    start = time.perf_counter()
    parsed = sum(1 for item in items(files) if isinstance(item, Paper))
    parse_seconds = time.perf_counter() - start
    print(
        f"baseline, read + parse only: {parsed} papers in {parse_seconds:.1f} s "
        f"({parsed / parse_seconds:,.0f} papers/s)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        url, server = store_url(home, args.postgres)
        store = open_store(url)
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        report = ingest(store, items(files))
        seconds = time.perf_counter() - start
        writer_cpu, parser_cpu = (
            now - then for now, then in zip(cpu_seconds(), cpu_start, strict=True)
        )
        index_seconds = index_cpu = 0.0
        if not args.no_index:
            cpu_start = cpu_seconds()
            start = time.perf_counter()
            sync_fulltext(store, Settings(home=home / "home"))
            index_seconds = time.perf_counter() - start
            index_cpu = cpu_seconds()[0] - cpu_start[0]
        stats = store.stats()
        store.close()
        size_mb = (
            sum(f.stat().st_size for f in home.iterdir() if f.is_file()) / 1e6
            if server is None
            else 0
        )
        if server is not None:
            server.cleanup()
    papers = report.written.added
    rate = papers / seconds
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"paperstand ingest into {backend} (store + author and category tables): {papers} "
        f"papers in {seconds:.1f} s ({rate:,.0f} papers/s), {report.summary()}"
        + (f"; store {size_mb:.0f} MB" if size_mb else "")
    )
    print(f"ratio ingest/parse-only time: {seconds / parse_seconds:.2f}")
    # The machines are shared: CPU time says what the work costs whatever else ran.
    print(
        f"CPU: writer {writer_cpu:.1f} s ({papers / writer_cpu:,.0f} papers per writer "
        f"CPU-second), parsing helper {parser_cpu:.1f} s ({papers / parser_cpu:,.0f} papers "
        f"per helper CPU-second); load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores"
    )
    if index_seconds:
        print(
            f"full-text index of {papers} papers: {index_seconds:.1f} s "
            f"({papers / index_seconds:,.0f} papers/s), {index_cpu:.1f} CPU s "
            f"({papers / index_cpu:,.0f} papers per CPU-second); ingest + index "
            f"{seconds + index_seconds:.1f} s"
        )
    full_arxiv = 2_700_000
    print(f"projected full arXiv ({full_arxiv:,} papers): {full_arxiv / rate / 60:.1f} min")
    figures = {
        "backend": backend.lower(),
        "papers": papers,
        "seconds": round(seconds, 2),
        "papers_per_s": round(rate),
        "parse_only_papers_per_s": round(parsed / parse_seconds),
        "store_papers": stats["papers"],
        "store_mb": round(size_mb),
        "papers_per_writer_cpu_s": round(papers / writer_cpu),
        "parser_cpu_s": round(parser_cpu, 1),
        "papers_per_parser_cpu_s": round(papers / parser_cpu),
    }
    if index_seconds:
        figures |= {
            "index_seconds": round(index_seconds, 2),
            "index_papers_per_cpu_s": round(papers / index_cpu),
            "ingest_and_index_seconds": round(seconds + index_seconds, 2),
        }
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
