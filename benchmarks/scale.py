"""The whole arXiv (2.73 million papers) on one box: load time, store size, and every page's
latency through the real server, one request at a time.

Steps, each skippable:

1. The corpus: ``--corpus DIR`` holding ``scale-NN.jsonl.gz`` (made by
   ``../shared/tools/make_arxiv_scale.py``: replica 0 is the 118,620 real papers, replicas
   1..22 copies with new ids and days). When DIR has none, the tool writes them there
   (about 3 minutes); the default DIR is under the system temp directory.
2. The store: ``--home DIR`` that already holds papers is reused as it is (nothing is
   written to it); otherwise ``paperstand ingest jsonl`` loads replicas 0..``--replicas``
   into it (a temporary directory without ``--home``), timed in wall and CPU seconds, and
   its size on disk is measured. The load's CPU is also given by kind of thread (the writer,
   tantivy's indexing and merge threads, the rest), with how many cores it kept busy in each
   tenth of its wall time. ``--load-only`` stops here.
3. ``paperstand serve`` in its own process; every row of the table is requested one at a
   time over keep-alive HTTP, each request a URL no earlier request asked (the pages are
   cached per URL): search queries are 2-4 word runs of random titles, papers, authors and
   days are drawn from random papers, and category pages follow their "older" links from
   the first page down. The server loads its search indexes in the background from its
   start; the first search waits for what is left of that (printed: with vectors, a cold
   start against a restart from ``--vector-cache``). Each row prints p50/p95 wall
   milliseconds and the server's CPU milliseconds per request (from ``/proc``: the
   machine may be shared, CPU time says what a request costs whatever else ran), then
   the server's memory.

``--postgres`` does the same on PostgreSQL (``pgserver``, a cluster in ``--pg-dir``, kept
beside the home so a loaded one can be reused), and adds the database's CPU milliseconds
per request (from ``/proc``: the backends answering the server's queries, not the
cluster's background processes nor connections older than the server) beside the
server's, and its memory (proportional set size) after the server's. The cluster runs with
``shared_buffers`` at ``--shared-buffers`` (1 GB, as the README recommends for the whole
arXiv; ``128MB`` is PostgreSQL's own default) and ``max_wal_size`` at ``--max-wal-size``
(256 MB, as the README recommends; PostgreSQL's own is 1 GB), kept in its
``postgresql.auto.conf``; the store's size is printed by part (database, WAL, the rest of
the cluster, full text).

Usage: ``python benchmarks/scale.py --corpus DIR [--home DIR] [--replicas 22] [--postgres]``.
To re-run on a loaded store: ``python benchmarks/scale.py --home DIR`` (no corpus needed).
Running this script with another checkout's interpreter measures that checkout's code: it
starts the ``paperstand`` beside ``sys.executable``. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import quote, quote_plus, urljoin

import httpx

from _shared_data import SHARED_DATA, require
from http_load import free_port, wait_until_up

TOOL = Path(__file__).resolve().parents[1].parent / "shared" / "tools" / "make_arxiv_scale.py"
DEFAULT_CORPUS = Path(tempfile.gettempdir()) / "paperstand-scale-corpus"
PAPERSTAND = Path(sys.executable).parent / "paperstand"
NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')


# --- corpus and store ---------------------------------------------------------------------


def corpus_files(corpus: Path, source: Path, replicas: int) -> list[Path]:
    """Replicas 0..``replicas`` of the corpus, written by the shared tool when missing."""
    files = [corpus / f"scale-{k:02d}.jsonl.gz" for k in range(replicas + 1)]
    if not all(f.exists() for f in files):
        require(TOOL, "--corpus DIR", "a folder of scale-NN.jsonl.gz (make_arxiv_scale.py)")
        require(source, "--source DIR", "the shared arXiv listings (listings-*.jsonl.gz)")
        print(f"writing the corpus into {corpus} ...", flush=True)
        subprocess.run(
            [sys.executable, str(TOOL), str(source), str(corpus), "--replicas", str(replicas)],
            check=True,
        )
    return files


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of ``pid`` so far, by thread id and name (``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # a thread that ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[f"{task.name} {name}"] = (int(fields[11]) + int(fields[12])) / tick
    return found


def thread_kind(pid: int, key: str) -> str:
    """Which part of a load a thread of the ingest process is: the writer (Python's main
    thread: parsing, the store, tantivy's documents), tantivy's indexing thread, its merge
    threads, or the rest (the commit thread, tantivy's segment and store threads)."""
    tid, name = key.split(" ", 1)
    if int(tid) == pid:
        return "writer"
    if name.startswith("thrd-tantivy-in"):
        return "tantivy indexing"
    if name.startswith("merge_thread"):
        return "tantivy merges"
    return "other threads"


def load(home: Path, files: list[Path], env: dict[str, str]) -> dict[str, object]:
    """``paperstand ingest jsonl`` of ``files`` into ``home``: wall and CPU seconds, the CPU
    of each kind of thread (:func:`thread_kind`), and how many cores the load kept busy in
    each tenth of its wall time (2.0 is both cores of this machine; a serial end shows as
    1.0 or less at the end)."""
    print(f"loading {len(files)} files into {home} ...", flush=True)
    wall, cpu = time.perf_counter(), children_cpu()
    child = subprocess.Popen(
        [str(PAPERSTAND), "--home", str(home), "ingest", "jsonl", *map(str, files)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    samples: list[tuple[float, dict[str, float]]] = []
    while child.poll() is None:
        try:
            samples.append((time.perf_counter() - wall, thread_cpu(child.pid)))
        except OSError:
            pass  # the process ended between poll and the read
        time.sleep(0.5)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, child.args)
    elapsed = time.perf_counter() - wall
    tenths = [0.0] * 10
    seen: dict[str, float] = {}  # each thread's CPU when last seen (threads end early)
    for at, threads in samples:
        used = sum(s - seen.get(key, 0.0) for key, s in threads.items())
        tenths[min(9, int(10 * at / elapsed))] += used
        seen.update(threads)
    by_kind: dict[str, float] = {}
    for key, seconds in seen.items():
        kind = thread_kind(child.pid, key)
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    print(f"  load: {elapsed:.1f} s wall; CPU s by thread: {by_kind}", flush=True)
    return {
        "ingest_wall_s": round(elapsed, 1),
        "ingest_cpu_s": round(children_cpu() - cpu, 1),
        "ingest_cpu_s_by_thread": {k: round(v, 1) for k, v in sorted(by_kind.items())},
        "ingest_busy_cores_by_tenth": [round(t / (elapsed / 10), 2) for t in tenths],
    }


# The PostgreSQL buffer cache the README recommends for the whole arXiv ("Running a
# server"): pgvector's HNSW index (258 MB at 2.73M static-64 vectors) and the hot pages of
# the papers must stay in it. At PostgreSQL's default of 128 MB a search's HNSW walk read
# 920 of its 3,232 pages from outside (the OS cache): twice as slow on a loaded machine,
# within noise on an idle one (docs/benchmarks.md).
SHARED_BUFFERS = "1GB"

# The WAL the README recommends for the whole arXiv: the WAL directory keeps up to about
# max_wal_size of recycled segments for good, so PostgreSQL's default (1 GB) was a sixth of
# the 2.73M store on disk; a quarter of it cost the load little (docs/benchmarks.md).
MAX_WAL_SIZE = "256MB"


def start_postgres(
    directory: Path,
    keep: bool,
    shared_buffers: str = SHARED_BUFFERS,
    max_wal_size: str = MAX_WAL_SIZE,
) -> tuple[object, str]:
    """A pgserver cluster in ``directory`` with a ``scale`` database, ``shared_buffers``
    and ``max_wal_size`` set (pgserver cannot pass settings, so they go to
    ``postgresql.auto.conf`` and the server starts again when one needs it); stopped at
    the end, and its files kept when ``keep`` (a loaded cluster is reused by the next
    run)."""
    import pgserver
    import psycopg

    server = pgserver.get_server(directory, cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'scale'").fetchone():
            conn.execute("CREATE DATABASE scale")
        for name, value in (("shared_buffers", shared_buffers), ("max_wal_size", max_wal_size)):
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
        restart = conn.execute(
            "SELECT setting::bigint * 8192 <> pg_size_bytes(%s) FROM pg_settings "
            "WHERE name = 'shared_buffers'",
            (shared_buffers,),
        ).fetchone()[0]
    if restart:
        server.cleanup()  # type: ignore[attr-defined]
        server = pgserver.get_server(directory, cleanup_mode="stop")
    server.cleanup_mode = "stop" if keep else "delete"  # type: ignore[attr-defined]
    return server, server.get_uri("scale")


def postgres_parts(cluster: Path, url: str) -> dict[str, int]:
    """Bytes on disk of the cluster's parts: the ``scale`` database, the WAL directory,
    and the rest (the cluster's own catalogs and files)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        database = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    wal = disk_bytes(cluster / "pg_wal")
    return {"database": database, "wal": wal, "rest": disk_bytes(cluster) - database - wal}


# --- what to ask for ----------------------------------------------------------------------


def sample(url: str, rng: random.Random, count: int) -> dict[str, object]:
    """Random papers of the store (visible ones), read with the store's own tables."""
    from sqlalchemy import func, select

    from paperstand.store import open_store
    from paperstand.store.schema import papers, visible

    store = open_store(url)
    try:
        with store.read() as conn:
            top = conn.execute(select(func.max(papers.c.pk))).scalar_one()
            picked: list = []
            while len(picked) < count * 4:
                pks = rng.sample(range(1, top + 1), min(count * 4, top))
                query = select(
                    papers.c.id, papers.c.title, papers.c.authors, papers.c.categories
                ).where(papers.c.pk.in_(pks[:900]), visible())
                picked += conn.execute(query).all()
        stats = store.stats()
        vectors = store.embedding_counts()
        days = sorted({p.day for p in store.get_papers([r[0] for r in picked[:900]]) if p.day})
    finally:
        store.close()
    rng.shuffle(picked)
    return {
        "papers": stats["papers"],
        "embeddings": vectors,
        "ids": [r[0] for r in picked],
        "titles": [r[1] for r in picked if r[1]],
        "authors": [a for r in picked for a in (r[2] or [])[:3]],
        "categories": [c for r in picked for c in r[3] or []],
        "days": days,
    }


def queries(titles: list[str], rng: random.Random, count: int) -> list[str]:
    """Distinct 2-4 word runs of titles, as people type them."""
    found: dict[str, None] = {}
    for title in titles:
        words = re.findall(r"[A-Za-z][A-Za-z\-]+", title)
        if len(words) >= 2:
            size = rng.randint(2, min(4, len(words)))
            start = rng.randint(0, len(words) - size)
            found[" ".join(words[start : start + size]).lower()] = None
        if len(found) >= count:
            break
    return list(found)


def distinct(values: list[str], count: int) -> list[str]:
    return list(dict.fromkeys(values))[:count]


# --- measuring ----------------------------------------------------------------------------


def server_cpu_ns(pid: int) -> int:
    """CPU time of every thread of the server so far, in nanoseconds (``schedstat``)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total


def postmaster_pid(directory: Path) -> int:
    """The postmaster of the PostgreSQL cluster in ``directory``."""
    return int((directory / "postmaster.pid").read_text().split()[0])


def backends(postmaster: int) -> dict[int, str]:
    """The client backends of the cluster (``[local]`` connections) and parallel workers,
    by process id, with their process titles; its background processes (autovacuum, the
    checkpointer) left out."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            title = (proc / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile
        if parent == postmaster and ("[local]" in title or "parallel worker for" in title):
            found[int(proc.name)] = title
    return found


def cluster_cpu_ns(postmaster: int, foreign: set[int]) -> int:
    """CPU time so far of the backends answering the server (and their parallel workers),
    in nanoseconds (``schedstat``): the cluster's client backends but those in ``foreign``
    (connections that were there before the server started, e.g. an index being built)."""
    total = 0
    for pid, title in backends(postmaster).items():
        helping = re.search(r"parallel worker for PID (\d+)", title)
        if pid in foreign or (helping and int(helping.group(1)) in foreign):
            continue
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a process that ended meanwhile
    return total


def memory_mb(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
    return {"rss_mb": int(found["VmRSS"]) // 1024, "peak_rss_mb": int(found["VmHWM"]) // 1024}


def cluster_memory_mb(directory: Path) -> dict[str, float]:
    """Memory of a PostgreSQL cluster: the postmaster (first line of its ``postmaster.pid``)
    and its children, as proportional set size (shared buffers split among the processes
    that touch them, so the sum counts them once)."""
    postmaster = postmaster_pid(directory)
    total_kb = 0
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit():
                continue
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if int(proc.name) != postmaster and parent != postmaster:
                continue
            rollup = (proc / "smaps_rollup").read_text()
            total_kb += int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1))
        except (OSError, ValueError, AttributeError):
            pass  # a process that ended meanwhile
    return {"pss_mb": total_kb // 1024}


def percentile(values: list[float], share: float) -> float:
    return round(sorted(values)[int(share * (len(values) - 1))], 2)


def measure(
    client: httpx.Client,
    pid: int,
    urls: Iterator[str],
    count: int,
    postmaster: int | None,
    foreign: set[int],
) -> dict:
    """Wall and server CPU per request over ``count`` URLs, one request at a time; with
    ``postmaster`` (PostgreSQL) the database's CPU per request too (``cluster_cpu_ns``)."""
    walls, cpus, database, errors, done = [], [], [], 0, 0
    for url in urls:
        before = cluster_cpu_ns(postmaster, foreign) if postmaster else 0
        cpu, wall = server_cpu_ns(pid), time.perf_counter()
        response = client.get(url)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((server_cpu_ns(pid) - cpu) / 1e6)
        if postmaster:
            database.append((cluster_cpu_ns(postmaster, foreign) - before) / 1e6)
        if response.status_code != 200:
            errors += 1
            if errors <= 3:
                print(f"  {response.status_code} for {url}", flush=True)
        done += 1
        if done >= count:
            break
    return {
        "requests": done,
        "errors": errors,
        "p50_ms": percentile(walls, 0.5),
        "p95_ms": percentile(walls, 0.95),
        "cpu_p50_ms": percentile(cpus, 0.5),
        "cpu_p95_ms": percentile(cpus, 0.95),
        **(
            {
                "db_cpu_p50_ms": percentile(database, 0.5),
                "db_cpu_p95_ms": percentile(database, 0.95),
            }
            if database
            else {}
        ),
    }


def following(client: httpx.Client, firsts: list[str], depth: int) -> Iterator[str]:
    """Each first page, then up to ``depth`` pages down its "next" links (whatever the
    links look like: page numbers or cursors)."""
    for first in firsts:
        url: str | None = first
        for _ in range(depth + 1):
            if url is None:
                break
            yield url
            # The last "next" link: a page's pager comes after its other links (a day's).
            found = NEXT_LINK.findall(client.get(url).text)  # cached now: cheap
            url = urljoin(first, unescape(found[-1])) if found else None


def serve_and_measure(
    home: Path,
    env: dict[str, str],
    picks: dict,
    count: int,
    rng,
    only: set[str] | None = None,
    cluster: Path | None = None,
) -> dict:
    """Every row through a served ``home``; with ``cluster`` (PostgreSQL's data directory)
    the database's CPU per request and its memory too, as the server's alone leaves them
    out."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(PAPERSTAND), "--home", str(home), "serve", "--port", str(port)], env=env
    )
    rows: dict[str, dict] = {}
    postmaster = postmaster_pid(cluster) if cluster is not None else None
    foreign = set(backends(postmaster)) if postmaster else set()
    try:
        wait_until_up(base, server, timeout=300)  # opening 2.7M papers takes a while
        texts = queries(picks["titles"], rng, 2 * count + 1)
        authors = distinct(picks["authors"], count)
        days = picks["days"]
        with httpx.Client(base_url=base, timeout=120) as client:
            # Waits for the indexes, which the server loads in the background from its
            # start: with vectors, reading and clustering 2.7M of them takes minutes on a
            # busy machine, a few seconds from the vector cache file.
            started = time.perf_counter()
            client.get("/api/papers/search", params={"q": texts[-1]}, timeout=1800)
            rows["first search"] = {"wall_s": round(time.perf_counter() - started, 1)}
            print(f"first search after start: {rows['first search']['wall_s']} s", flush=True)
            plan = {
                "search page": (f"/search?q={quote_plus(q)}" for q in texts[:count]),
                "api papers search": (
                    f"/api/papers/search?q={quote_plus(q)}" for q in texts[count : 2 * count]
                ),
                "paper page": (f"/papers/{pid}" for pid in distinct(picks["ids"], count)),
                "author page": (f"/authors/{quote(a, safe='')}" for a in authors),
                # Categories as often as papers list them: the big ones come first and
                # most often, and each is followed down its pages.
                "category page": following(
                    client,
                    [f"/categories/{c}" for c in distinct(picks["categories"], count)],
                    depth=4,
                ),
                "daily page": (f"/papers/date/{d}" for d in rng.sample(days, len(days))),
                "api daily papers": (
                    f"/api/daily_papers?date={d}" for d in rng.sample(days, len(days))
                ),
                # A day's whole arXiv listing, followed down its pages like a category.
                "new on arxiv page": following(
                    client, [f"/papers/new/{d}" for d in days[:: max(1, len(days) // count)]], 3
                ),
            }
            for name, urls in plan.items():
                if only and name not in only:
                    continue
                row = rows[name] = measure(client, server.pid, urls, count, postmaster, foreign)
                database = (
                    f"  database CPU p50 {row['db_cpu_p50_ms']:6.2f} p95 "
                    f"{row['db_cpu_p95_ms']:6.2f} ms"
                    if "db_cpu_p50_ms" in row
                    else ""
                )
                print(
                    f"{name:18} p50 {row['p50_ms']:8.2f} ms  p95 {row['p95_ms']:8.2f} ms  "
                    f"server CPU p50 {row['cpu_p50_ms']:7.2f} ms  p95 {row['cpu_p95_ms']:7.2f} "
                    f"ms{database}  ({row['requests']} requests, {row['errors']} errors)",
                    flush=True,
                )
        rows["server memory"] = memory_mb(server.pid)
        print(f"server memory      {rows['server memory']}", flush=True)
        if cluster is not None:
            rows["database memory"] = cluster_memory_mb(cluster)
            print(f"database memory    {rows['database memory']}", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # still busy with a request: do not leave it
            server.kill()
            server.wait()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="folder of scale-NN.jsonl.gz, written there when missing "
        "(pass the shared one, e.g. /work/scale/corpus, to skip writing it)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=SHARED_DATA / "arxiv",
        help="the arXiv listings the corpus is made from",
    )
    parser.add_argument("--home", type=Path, help="a loaded home to reuse, or where to load")
    parser.add_argument("--replicas", type=int, default=22, help="load replicas 0..N")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (pgserver)")
    parser.add_argument("--pg-dir", type=Path, help="the pgserver cluster (default HOME/pg)")
    parser.add_argument(
        "--shared-buffers",
        default=SHARED_BUFFERS,
        help="PostgreSQL's shared_buffers for the cluster (PostgreSQL's own default: 128MB)",
    )
    parser.add_argument(
        "--max-wal-size",
        default=MAX_WAL_SIZE,
        help="PostgreSQL's max_wal_size for the cluster (PostgreSQL's own default: 1GB)",
    )
    parser.add_argument("--requests", type=int, default=300, help="per row")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--vector-cache",
        type=Path,
        help="where the server keeps its vector cache file (default: none for a reused "
        "home, which is never written to; HOME/vectors for a home this run loads)",
    )
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="stop after the load and the store's size (no server, no rows)",
    )
    parser.add_argument(
        "--rows", help="measure only these rows, comma-separated (e.g. 'search page,paper page')"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    scratch = None
    if args.home is None:
        scratch = tempfile.mkdtemp(prefix="paperstand-scale-")
        args.home = Path(scratch)
    args.home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("PAPERSTAND_DATABASE_URL", None)
    pg = None
    cluster = (args.pg_dir or args.home / "pg") if args.postgres else None
    try:
        if cluster is not None:
            pg, url = start_postgres(
                cluster,
                scratch is None,
                args.shared_buffers,
                args.max_wal_size,
            )
            env["PAPERSTAND_DATABASE_URL"] = url
        else:
            url = f"sqlite:///{args.home / 'paperstand.sqlite3'}"
        summary: dict[str, object] = {
            "benchmark": "scale",
            "backend": "postgresql" if args.postgres else "sqlite",
            "cpus": os.cpu_count(),
            "load_average_1min_before": round(os.getloadavg()[0], 2),
        }
        if args.postgres:
            summary["shared_buffers"] = args.shared_buffers
            summary["max_wal_size"] = args.max_wal_size
        loaded = (args.home / "paperstand.sqlite3").exists() or (
            args.postgres and (args.home / "fulltext").exists()
        )
        if args.vector_cache is not None:
            env["PAPERSTAND_VECTOR_CACHE"] = str(args.vector_cache)
        elif loaded:
            env["PAPERSTAND_VECTOR_CACHE"] = "off"
        if not loaded:
            files = corpus_files(args.corpus, args.source, args.replicas)
            summary.update(load(args.home, files, env))
            summary["loaded_files"] = len(files)
        summary["store_bytes"] = disk_bytes(args.home)
        if cluster is not None:
            summary["store_parts"] = {
                **postgres_parts(cluster, url),
                "fulltext": disk_bytes(args.home / "fulltext"),
            }
        if args.load_only:
            print(json.dumps(summary))
            return
        picks = sample(url, rng, args.requests)
        summary["papers"] = picks["papers"]
        summary["embeddings"] = picks["embeddings"]
        print(
            f"store: {picks['papers']:,} papers, {summary['store_bytes'] / 1e9:.2f} GB on disk "
            f"in {args.home}, embeddings {picks['embeddings'] or 'none'}"
            + (
                f"; loaded in {summary['ingest_wall_s']} s wall, {summary['ingest_cpu_s']} s CPU"
                if "ingest_wall_s" in summary
                else " (reused)"
            ),
            flush=True,
        )
        only = {name.strip() for name in args.rows.split(",")} if args.rows else None
        summary["rows"] = serve_and_measure(
            args.home, env, picks, args.requests, rng, only, cluster
        )
        summary["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    finally:
        if pg is not None:
            pg.cleanup()  # type: ignore[attr-defined]
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
