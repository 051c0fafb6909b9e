"""SQLite (embedded) and PostgreSQL + pgvector (server mode) side by side, same workload.

    python benchmarks/backends.py [--data DIR] [--limit-files N] [--queries 200]
                                  [--embed-papers 768] [--workers 1,2,4]

1. Ingest every paper of ``--data DIR`` (default ``../shared/data/arxiv``: 118,620) into a
   fresh store of each backend through the ingest service (batches of 2,000, one
   transaction each): papers/s.
2. Embed every paper once with the fast ``static-64`` model (real vectors of real papers;
   the default MiniLM would take over an hour for 118k abstracts on 2 cores) and save the
   vectors into both stores; PostgreSQL keeps its HNSW index up to date while they arrive.
3. Bring each store's tantivy full-text index up to date, then run the same 2-4 word queries
   (cut from titles) through the search service: hybrid full text + vectors, fused, papers
   read back from the store; p50/p95 per query, one query at a time, after a warm-up.
4. Vector search alone: recall@10 of each backend's index against exact search (numpy over
   the same vectors) and its p50/p95; the PostgreSQL figure is pgvector's HNSW.
5. Embedding throughput of the job queue: ``--embed-papers`` papers split into ``embed`` jobs
   of 64 on the PostgreSQL queue, run by 1, 2 and 4 ``paperstand worker`` processes with the
   default MiniLM model: abstracts/s from the first job's start to the last one's end.

The PostgreSQL server is ``pgserver``'s (16 + pgvector 0.6, unix socket, default durability:
fsync on), on the same machine. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import psutil

from paperstand.index.build import content_hash, sync_fulltext
from paperstand.index.embeddings import DEFAULT_MODEL, document_text, get_embedder
from paperstand.index.vectors import vector_index
from paperstand.ingest import ingest
from paperstand.search import Searcher
from paperstand.settings import Settings
from paperstand.sources import jsonl
from paperstand.store import Store, open_store

from _shared_data import SHARED_DATA, require

DATA = SHARED_DATA / "arxiv"
FAST_MODEL = "static-64"


def items(files: list[Path]):
    for path in files:
        with path.open("rb") as stream:
            yield from jsonl.records(stream, str(path))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in samples)
    return round(statistics.median(ms), 2), round(ms[int(0.95 * (len(ms) - 1))], 2)


def make_queries(files: list[Path], count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    titles = []
    for path in files:
        with gzip.open(path, "rt") as lines:
            titles += [json.loads(line)["title"] for line in lines]
    queries: list[str] = []
    for title in rng.sample(titles, count * 2):
        words = [w for w in title.replace(":", " ").split() if w.isalpha()]
        if len(words) >= 2:
            size = rng.randint(2, min(4, len(words)))
            start = rng.randint(0, len(words) - size)
            queries.append(" ".join(words[start : start + size]))
    return queries[:count]


def start_postgres(root: Path):
    import pgserver
    import psycopg

    server = pgserver.get_server(root / "pg", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench")
    return server, server.get_uri("bench")


def server_cpu(postmaster_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the PostgreSQL of the postmaster ``postmaster_pid``
    (``pgserver``'s ``get_pid()``), by role: ``backend`` (the
    sessions' processes), each auxiliary process by its name (``checkpointer``, ``walwriter``,
    ``background writer``, ``autovacuum launcher``...), ``postmaster`` itself, and ``exited``:
    processes that have ended since the server started (the postmaster reaps them, so the
    kernel adds their time to its children's). Take it before and after: the difference of
    the sums is exact; a process that ended between the two moves its time from its role
    to ``exited``."""
    postmaster = psutil.Process(postmaster_pid)
    own = postmaster.cpu_times()
    used = {
        "postmaster": own.user + own.system,
        "exited": own.children_user + own.children_system,
    }
    for child in postmaster.children():
        try:
            title, times = " ".join(child.cmdline()), child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        role = title.removeprefix("postgres: ").strip()
        if "[local]" in role or "(" in role:  # a session: "user db [local] idle"
            role = "backend"
        used[role] = used.get(role, 0.0) + times.user + times.system
    return used


def cpu_since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What :func:`server_cpu` counted between two readings, by role (roles that used
    nothing left out)."""
    spent = {role: after[role] - before.get(role, 0.0) for role in after}
    return {role: round(s, 2) for role, s in sorted(spent.items()) if s >= 0.005}


def embed_everything(store: Store) -> tuple[list[str], np.ndarray, float]:
    embedder = get_embedder(FAST_MODEL)
    ids, texts, hashes = [], [], []
    for batch in store.iter_embedding_sources(batch_size=5000):
        for source in batch:
            ids.append(source.id)
            texts.append(document_text(source.title, source.abstract))
            hashes.append(content_hash(source.title, source.abstract))
    began = time.perf_counter()
    vectors = np.vstack(
        [embedder.embed_documents(texts[i : i + 2048]) for i in range(0, len(texts), 2048)]
    )
    return ids, vectors, time.perf_counter() - began


def save_vectors(store: Store, ids: list[str], vectors: np.ndarray) -> float:
    rows = [(pid, "bench", vector) for pid, vector in zip(ids, vectors, strict=True)]
    index = vector_index(store, FAST_MODEL)
    began = time.perf_counter()
    for start in range(0, len(rows), 2000):
        index.upsert(rows[start : start + 2000])
    return time.perf_counter() - began


def bench_backend(name: str, url: str, home: Path, files, queries, ids, vectors, exact):
    result: dict[str, object] = {}
    store = open_store(url)
    began = time.perf_counter()
    report = ingest(store, items(files))
    seconds = time.perf_counter() - began
    papers = report.written.added
    result["papers"] = papers
    result["ingest_papers_per_s"] = round(papers / seconds)
    print(f"[{name}] ingest: {papers} papers in {seconds:.1f} s ({papers / seconds:,.0f}/s)")

    if ids is None:
        ids, vectors, embed_seconds = embed_everything(store)
        print(f"  {FAST_MODEL} vectors for {len(ids)} papers in {embed_seconds:.1f} s")
        exact = None
    save_seconds = save_vectors(store, ids, vectors)
    result["save_vectors_per_s"] = round(len(ids) / save_seconds)
    print(
        f"[{name}] saving {len(ids)} vectors{' + HNSW' if name == 'postgres' else ''}: "
        f"{save_seconds:.1f} s ({len(ids) / save_seconds:,.0f}/s)"
    )

    settings = Settings(home=home, embedding_model=FAST_MODEL, search_fetch_missing=False)
    home.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    sync_fulltext(store, settings)
    print(f"[{name}] full-text index from the store: {time.perf_counter() - began:.1f} s")

    searcher = Searcher(store, settings)
    for query in queries[:20]:
        searcher.search(query)
    times = []
    for query in queries:
        began = time.perf_counter()
        searcher.search(query, limit=20)
        times.append(time.perf_counter() - began)
    result["search_p50_ms"], result["search_p95_ms"] = percentiles(times)
    print(
        f"[{name}] hybrid search, {len(queries)} queries: p50 {result['search_p50_ms']} ms, "
        f"p95 {result['search_p95_ms']} ms"
    )

    embedder = get_embedder(FAST_MODEL)
    query_vectors = [embedder.embed_query(q) for q in queries]
    if exact is None:
        exact = [set(np.argsort(-(vectors @ q))[:10]) for q in query_vectors]
    index = vector_index(store, FAST_MODEL)
    position = {pid: i for i, pid in enumerate(ids)}
    hits, times = 0, []
    for q, truth in zip(query_vectors, exact, strict=True):
        began = time.perf_counter()
        found = index.knn(q, 10)
        times.append(time.perf_counter() - began)
        hits += len({position[pid] for pid, _ in found} & truth)
    result["knn_recall_at_10"] = round(hits / (10 * len(queries)), 4)
    result["knn_p50_ms"], result["knn_p95_ms"] = percentiles(times)
    print(
        f"[{name}] vector search: recall@10 {result['knn_recall_at_10']} vs exact, "
        f"p50 {result['knn_p50_ms']} ms, p95 {result['knn_p95_ms']} ms"
    )
    store.close()
    return result, ids, vectors, exact


def bench_workers(url: str, root: Path, counts: list[int], per_run: int) -> dict[str, float]:
    """abstracts/s of ``embed`` jobs run by N worker processes on the PostgreSQL queue."""
    store = open_store(url)
    all_ids = [p.id for batch in store.iter_papers(batch_size=5000) for p in batch]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PAPERSTAND_HOME": str(root / "workers"),
        "PAPERSTAND_EMBEDDING_MODEL": DEFAULT_MODEL,
    }
    paperstand = str(Path(sys.executable).parent / "paperstand")
    rates = {}
    for run, count in enumerate(counts):
        chunk = all_ids[run * per_run : (run + 1) * per_run]
        job_ids = [
            store.enqueue_job("embed", {"ids": chunk[i : i + 64]}) for i in range(0, len(chunk), 64)
        ]
        workers = [
            subprocess.Popen(
                [paperstand, "worker", "--poll", "0.2"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        wanted = set(job_ids)
        while True:
            done = [j for j in store.list_jobs(status="done", limit=10_000) if j.id in wanted]
            if len(done) == len(wanted):
                break
            if store.list_jobs(status="failed"):
                raise SystemExit(f"embed job failed: {store.list_jobs(status='failed')[0].error}")
            time.sleep(0.5)
        cpu = sum(sum(psutil.Process(w.pid).cpu_times()[:2]) for w in workers)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait()
        first = min(datetime.fromisoformat(j.started_at) for j in done)
        last = max(datetime.fromisoformat(j.finished_at) for j in done)
        rate = len(chunk) / (last - first).total_seconds()
        rates[str(count)] = round(rate, 1)
        rates[f"{count}_per_cpu_second"] = round(len(chunk) / cpu, 1)
        print(
            f"[postgres queue] {count} worker process(es), {DEFAULT_MODEL}: "
            f"{len(chunk)} abstracts in {(last - first).total_seconds():.1f} s ({rate:.1f}/s); "
            f"workers' CPU {cpu:.0f} s ({len(chunk) / cpu:.1f} abstracts per CPU second, "
            "model loading included)"
        )
    store.close()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit-files", type=int, default=None)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed-papers", type=int, default=768)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--only-workers",
        action="store_true",
        help="Only step 5, on a store of the first listing file (for a quick re-measure).",
    )
    args = parser.parse_args()
    require(args.data, "--data DIR", "a folder of arXiv listings-*.jsonl.gz (shared/data/arxiv)")
    files = sorted(args.data.glob("listings-*.jsonl.gz"))[: args.limit_files]
    root = Path(tempfile.mkdtemp(prefix="paperstand-backends-"))
    server, pg_url = start_postgres(root)
    figures: dict[str, object] = {}
    try:
        if args.only_workers:
            with open_store(pg_url) as store:
                ingest(store, items(files[:1]))
        else:
            queries = make_queries(files, args.queries)
            figures["sqlite"], ids, vectors, exact = bench_backend(
                "sqlite",
                f"sqlite:///{root / 'paperstand.sqlite3'}",
                root / "sqlite-home",
                files,
                queries,
                None,
                None,
                None,
            )
            figures["postgres"], *_ = bench_backend(
                "postgres", pg_url, root / "pg-home", files, queries, ids, vectors, exact
            )
        counts = [int(n) for n in args.workers.split(",")]
        figures["embed_abstracts_per_s_by_workers"] = bench_workers(
            pg_url, root, counts, args.embed_papers
        )
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
