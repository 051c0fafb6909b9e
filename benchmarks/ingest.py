"""Bulk JSONL ingestion speed: the arXiv listings of ../shared/data/arxiv into a fresh store.

Runs the same code path as `paperstand ingest jsonl` (source + ingest service + SQLite store
with its author and category tables kept in step) and, as a baseline in the same process,
reading and parsing alone, so the ratio shows what storing and indexing cost on top of
parsing.

Usage: python benchmarks/ingest.py [--data DIR] [--limit-files N] (DIR defaults to
../shared/data/arxiv; elsewhere pass any folder of paperstand listing .jsonl.gz files)
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

from paperstand.ingest import ingest
from paperstand.models import Paper
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit-files", type=int, default=None)
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

    with tempfile.TemporaryDirectory() as home:
        store = open_store(f"sqlite:///{home}/paperstand.sqlite3")
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        report = ingest(store, items(files))
        seconds = time.perf_counter() - start
        writer_cpu, parser_cpu = (
            now - then for now, then in zip(cpu_seconds(), cpu_start, strict=True)
        )
        stats = store.stats()
        store.close()
        size_mb = sum(f.stat().st_size for f in Path(home).iterdir()) / 1e6
    papers = report.written.added
    rate = papers / seconds
    print(
        f"paperstand ingest (store + author and category tables): {papers} papers "
        f"in {seconds:.1f} s "
        f"({rate:,.0f} papers/s), {report.summary()}; store {size_mb:.0f} MB"
    )
    print(f"ratio ingest/parse-only time: {seconds / parse_seconds:.2f}")
    # The machines are shared: CPU time says what the work costs whatever else ran.
    print(
        f"CPU: writer {writer_cpu:.1f} s ({papers / writer_cpu:,.0f} papers per writer "
        f"CPU-second), parsing helper {parser_cpu:.1f} s; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    full_arxiv = 2_700_000
    print(f"projected full arXiv ({full_arxiv:,} papers): {full_arxiv / rate / 60:.1f} min")
    print(
        json.dumps(
            {
                "papers": papers,
                "seconds": round(seconds, 2),
                "papers_per_s": round(rate),
                "parse_only_papers_per_s": round(parsed / parse_seconds),
                "store_papers": stats["papers"],
                "store_mb": round(size_mb),
                "papers_per_writer_cpu_s": round(papers / writer_cpu),
                "parser_cpu_s": round(parser_cpu, 1),
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
