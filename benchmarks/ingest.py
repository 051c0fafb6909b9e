"""Bulk JSONL ingestion speed: the arXiv listings of ../shared/data/arxiv into a fresh store,
its full-text index included, as ``paperstand ingest jsonl`` does it.

Runs the same code path as `paperstand ingest jsonl` (source + ``ingest_and_index``: the
store with its author and category tables kept in step, and the tantivy full-text index fed
as papers are written) and, as a baseline in the same process, reading and parsing alone.
The machines are shared, so besides wall-clock rates it prints what each stage costs in CPU
seconds: the reader (this process's main thread: reading and parsing the files; with
main's code before the batch writer thread, also what that thread does), the batch writer
(the thread that writes each batch to the store and hands its documents to tantivy) and
tantivy's own indexing and merging threads;
on PostgreSQL also the server's processes (the session's backend, the WAL writer, the
checkpointer...: ``backends.server_cpu``), which share the same cores; and the bytes on disk
of the database and of the full-text index.

Usage: python benchmarks/ingest.py [--data DIR] [--limit-files N] [--postgres] [--no-index]
(DIR defaults to ../shared/data/arxiv; elsewhere pass any folder of paperstand listing
.jsonl.gz files; --postgres ingests into a fresh PostgreSQL database of a private
``pgserver`` instead of SQLite; --no-index measures the store alone)
Last line: {"papers": N, "seconds": S, "papers_per_s": R, ...}; ``cpu_s`` is everything
(client + server), ``client_cpu_s`` this process and ``server_cpu_s`` the server's;
``abstract_bytes`` is a stored abstract's mean size as the database holds it (packed or
not), ``papers_table_mb`` PostgreSQL's papers table without its indexes (0 on SQLite).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from backends import cpu_since, server_cpu, start_postgres

from paperstand.ingest import ingest, ingest_and_index
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.sources import jsonl
from paperstand.sources.base import Item
from paperstand.store import Store, open_store

from _shared_data import SHARED_DATA, require

DEFAULT_DATA = SHARED_DATA / "arxiv"


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process's main thread (the reader) and by the whole
    process (every thread)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return time.thread_time(), own.ru_utime + own.ru_stime


class ThreadClock:
    """CPU seconds of the Python threads of this process other than the main one (the
    ingest's batch writer), sampled every 0.1 s from /proc/self/task while it runs: a
    thread's last tenth of a second before it ends may be missed (it then counts as
    tantivy's, the rest of the process). Tantivy's threads are told apart by their names
    (``thrd-tantivy-...``), Rust's, where a Python thread keeps the process's."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._run, daemon=True)
        self._python = Path("/proc/self/comm").read_text().strip()
        self._skip = {threading.get_native_id()}

    def _run(self) -> None:
        self._skip.add(threading.get_native_id())
        while not self._done.wait(0.1):
            self._sample()

    def _sample(self) -> None:
        for task in os.scandir("/proc/self/task"):
            tid = int(task.name)
            if tid in self._skip:
                continue
            try:
                comm = Path(task.path, "comm").read_text().strip()
                stat = Path(task.path, "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if comm == self._python:
                fields = stat.rsplit(")", 1)[1].split()
                self.seen[tid] = (int(fields[11]) + int(fields[12])) / TICKS

    def __enter__(self) -> ThreadClock:
        self._sample()
        self.start = dict(self.seen)
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join()
        self._sample()

    def seconds(self) -> float:
        return sum(s - self.start.get(tid, 0.0) for tid, s in self.seen.items())


TICKS = os.sysconf("SC_CLK_TCK")


def items(files: list[Path]) -> Iterator[Item]:
    for path in files:
        with path.open("rb") as stream:
            yield from jsonl.records(stream, str(path))


def store_url(home: Path, postgres: bool) -> tuple[str, object]:
    """The URL of a fresh store in ``home`` and the server to stop afterwards (or None)."""
    if not postgres:
        return f"sqlite:///{home}/paperstand.sqlite3", None
    server, url = start_postgres(home)
    return url, server


def disk_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (the database files, the full-text directory)."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def stored_sizes(store: Store) -> tuple[float, int]:
    """The mean bytes of a stored abstract as the database holds it (packed or not), and on
    PostgreSQL the bytes of the papers table (heap and TOAST, no index; 0 on SQLite)."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            query = "SELECT avg(length(CAST(abstract AS BLOB))), 0 FROM papers"
        else:
            query = "SELECT avg(octet_length(abstract)), pg_table_size('papers') FROM papers"
        abstract, table = conn.exec_driver_sql(query).one()
    return float(abstract or 0), int(table)


def per(papers: int, seconds: float) -> int:
    return round(papers / seconds) if seconds > 0 else 0


def relation_bytes(store: Store) -> dict[str, int]:
    """The bytes of the papers, author and category tables and of each of their indexes
    (the heap alone for a PostgreSQL table; SQLite's ``dbstat``, its clustered tables being
    their keys), largest first: what a change of their rows' shape is measured by."""
    tables = ("papers", "paper_authors", "paper_categories")
    with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            query = (
                "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
                "LEFT JOIN pg_index i ON i.indexrelid = c.oid "
                "WHERE c.relname = ANY(%(t)s) OR i.indrelid::regclass::text = ANY(%(t)s)"
            )
            rows = conn.exec_driver_sql(query, {"t": list(tables)}).all()
        else:
            names = ", ".join(f"'{t}'" for t in tables)
            query = (
                "SELECT d.name, sum(d.pgsize) FROM dbstat d JOIN sqlite_master m "
                f"ON m.name = d.name WHERE m.tbl_name IN ({names}) GROUP BY d.name"
            )
            rows = conn.exec_driver_sql(query).all()
    return dict(sorted(((n, int(b)) for n, b in rows), key=lambda r: -r[1]))


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
        settings = Settings(home=home / "home")
        url, server = store_url(home, args.postgres)
        store = open_store(url)
        server_start = server_cpu(server.get_pid()) if server is not None else {}
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        with ThreadClock() as threads:
            if args.no_index:
                report = ingest(store, items(files))
            else:
                report = ingest_and_index(store, items(files), settings)
        seconds = time.perf_counter() - start
        writer_cpu, process_cpu = (
            now - then for now, then in zip(cpu_seconds(), cpu_start, strict=True)
        )
        server_roles = (
            cpu_since(server_start, server_cpu(server.get_pid())) if server is not None else {}
        )
        stats = store.stats()
        relations = relation_bytes(store)
        abstract, papers_table = stored_sizes(store)
        if server is None:
            db_bytes = disk_bytes(home / "paperstand.sqlite3")
        else:
            with store.engine.connect() as conn:
                size = "SELECT pg_database_size(current_database())"
                db_bytes = conn.exec_driver_sql(size).scalar_one()
        store.close()
        index_bytes = disk_bytes(settings.fulltext_path) if not args.no_index else 0
        if server is not None:
            server.cleanup()
    papers = report.written.added
    batch_cpu = threads.seconds()
    tantivy_cpu = process_cpu - writer_cpu - batch_cpu
    server_total = sum(server_roles.values())
    total_cpu = process_cpu + server_total
    rate = papers / seconds
    backend = "PostgreSQL" if args.postgres else "SQLite"
    what = "store + author and category tables" + ("" if args.no_index else " + full text")
    print(
        f"paperstand ingest into {backend} ({what}): {papers} papers in {seconds:.1f} s "
        f"({rate:,.0f} papers/s), {report.summary()}"
    )
    print(f"ratio ingest/parse-only time: {seconds / parse_seconds:.2f}")
    # The machines are shared: CPU time says what the work costs whatever else ran.
    print(
        f"CPU: reader {writer_cpu:.1f} s ({per(papers, writer_cpu):,} papers per CPU-second), "
        f"batch writer {batch_cpu:.1f} s ({per(papers, batch_cpu):,}), "
        f"tantivy threads {tantivy_cpu:.1f} s ({per(papers, tantivy_cpu):,}); "
        + (
            f"PostgreSQL server {server_total:.1f} s ({per(papers, server_total):,}: "
            + ", ".join(f"{role} {s:.1f}" for role, s in server_roles.items())
            + "); "
            if server is not None
            else ""
        )
        + f"all {total_cpu:.1f} s "
        f"({per(papers, total_cpu):,} papers per CPU-second); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if db_bytes or index_bytes:
        print(
            f"on disk: database {db_bytes / 1e6:,.0f} MB ({per(db_bytes, papers)} bytes per "
            f"paper), full-text index {index_bytes / 1e6:,.0f} MB ({per(index_bytes, papers)} "
            "bytes per paper)"
        )
    print(
        "largest tables and indexes: "
        + ", ".join(f"{name} {size / 1e6:,.1f} MB" for name, size in relations.items())
    )
    print(f"stored abstract: {abstract:.1f} bytes on average")
    full_arxiv = 2_700_000
    print(f"projected full arXiv ({full_arxiv:,} papers): {full_arxiv / rate / 60:.1f} min")
    figures = {
        "backend": backend.lower(),
        "full_text": not args.no_index,
        "papers": papers,
        "seconds": round(seconds, 2),
        "papers_per_s": round(rate),
        "parse_only_papers_per_s": round(parsed / parse_seconds),
        "store_papers": stats["papers"],
        "cpu_s": round(total_cpu, 1),
        "papers_per_cpu_s": per(papers, total_cpu),
        "writer_cpu_s": round(writer_cpu, 1),
        "papers_per_writer_cpu_s": per(papers, writer_cpu),
        "batch_writer_cpu_s": round(batch_cpu, 1),
        "tantivy_cpu_s": round(tantivy_cpu, 1),
        "papers_per_tantivy_cpu_s": per(papers, tantivy_cpu),
        "client_cpu_s": round(process_cpu, 1),
        "server_cpu_s": round(server_total, 1),
        "server_cpu_by_role": server_roles,
        "database_mb": round(db_bytes / 1e6),
        "relations_mb": {name: round(size / 1e6, 1) for name, size in relations.items()},
        "abstract_bytes": round(abstract, 1),
        "papers_table_mb": round(papers_table / 1e6),
        "fulltext_mb": round(index_bytes / 1e6),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
