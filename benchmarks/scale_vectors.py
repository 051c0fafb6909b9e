"""Vectors for the whole arXiv (2.73 million papers): writing them, the vector index's
recall and speed, its memory and loading time, and similar papers.

    python benchmarks/scale_vectors.py [--corpus DIR] [--cache DIR] [--model static-64]
                                       [--replicas 22] [--queries 200]
                                       [--write-vectors HOME] [--home HOME]
                                       [--distinct-replicas] [--recall-queries 50]
                                       [--ef-search 200,400]

1. Vectors of the 118,620 real papers (replica 0 of ``--corpus``, made by
   ``../shared/tools/make_arxiv_scale.py``), embedded once with ``--model`` (the fast
   static-64 model by default: the default MiniLM takes days for 2.7M papers on 2 cores)
   and cached in ``--cache``; abstracts/s and abstracts per CPU-second are printed.
   A replica's title and abstract equal its original's, so each replica gets its
   original's vector: the 2.73M vectors are the 118,620 repeated ``1 + --replicas`` times.
   ``--distinct-replicas`` gives each replica a vector of its own instead (see
   :func:`replica_vectors`), for an index whose points are all distinct, as the real
   archive's would be.
2. The index at that size, in this process: the clusters of ``index/vectors.py`` built
   (the work a server does when it loads the vectors), then ``--queries`` dense queries
   (2-5 word runs of random titles, embedded by the model; plus as many whole papers'
   vectors, as similar papers ask) timed, and recall@10 against the exact scan of every
   vector. Replicas make ties (23 papers share each vector), so a hit counts when its
   exact similarity reaches the 10th best one. Peak resident memory is printed.
3. ``--write-vectors HOME``: a benchmark helper, not a feature: writes every paper's vector
   into the store of ``HOME`` (a private copy of a loaded store) through the store's own
   API (``Store.save_embeddings`` inside ``Store.bulk_embeddings``), replicas getting their
   original's vector. On PostgreSQL the HNSW index is built once after the rows: its build
   is timed apart, with the database's CPU seconds.
4. ``--home HOME``: a store with vectors is opened in a fresh process and timed: loading
   the vector index (as a server's first search does), ``Searcher.search`` with embeddings
   and ``Searcher.similar`` on random papers, and the process's peak memory. On PostgreSQL
   also recall@10 of the HNSW search against the exact scan, at each ``--ef-search``
   (candidates visited, ``PAPERSTAND_HNSW_EF_SEARCH``; default the store's 200), on
   ``--recall-queries`` text queries and as many papers' vectors.

A HOME holding ``pg/`` is a PostgreSQL home of ``scale.py --postgres``: its pgserver cluster
is started and the store is its ``scale`` database.

Timings are wall milliseconds with the process's CPU milliseconds beside them (the
machine may be shared). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from backends import server_cpu
from scale import postmaster_pid, start_postgres

from _shared_data import SHARED_DATA

TOOL = SHARED_DATA.parent / "tools" / "make_arxiv_scale.py"


def replica_id(original: str, replica: int) -> str:
    """The id ``make_arxiv_scale.py`` gives replica ``replica`` of paper ``original``."""
    yymm, num = original.split(".")
    n = int(num) + 33000 * max(0, int(yymm[:2]) - 24)
    return f"{replica:02d}{yymm[2:]}.{n:05d}"


def replica_vectors(base: np.ndarray, replica: int, distinct: bool) -> np.ndarray:
    """The vectors of replica ``replica`` of every paper: ``base`` itself, or with
    ``distinct`` a synthetic stand-in for 118,620 other papers: each paper's vector mixed
    with a random other paper's, weight t uniform in [0.3, 0.6], and normalised (seeded by
    ``replica``, so the index's recall and the store's rows see the same vectors). Why this
    mix: pgvector folds identical vectors into one graph element and links twins at distance
    0, so exact copies say little about HNSW on 2.73 million distinct points. At this t the
    mean cosine to a vector's nearest and tenth neighbours is 0.982 / 0.974 (the 118,620
    real ones: 0.947 / 0.937), and a paper's own replicas are two-fifths of its top 10."""
    if replica == 0 or not distinct:
        return base
    rng = np.random.default_rng(1000 + replica)
    partner = base[rng.permutation(len(base))]
    t = rng.uniform(0.3, 0.6, size=(len(base), 1)).astype(np.float32)
    mixed = (1 - t) * base + t * partner
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def timed(call):  # type: ignore[no-untyped-def]
    """(result, wall ms, process CPU ms) of ``call()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def summary(walls: list[float], cpus: list[float]) -> dict[str, float]:
    walls, cpus = sorted(walls), sorted(cpus)

    def pct(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 2)

    return {
        "p50_ms": pct(walls, 0.5),
        "p95_ms": pct(walls, 0.95),
        "cpu_p50_ms": pct(cpus, 0.5),
        "cpu_p95_ms": pct(cpus, 0.95),
    }


def peak_mb() -> float:
    """Peak resident memory of this process (VmHWM: getrusage's maximum would include
    the parent's, inherited across fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def originals(corpus: Path) -> list[dict]:
    path = corpus / "scale-00.jsonl.gz"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(TOOL), str(SHARED_DATA / "arxiv"), str(corpus)], check=True
        )
    with gzip.open(path, "rt") as lines:
        return [json.loads(line) for line in lines]


def cached_vectors(corpus: Path, cache: Path, model: str) -> tuple[list[dict], np.ndarray, dict]:
    """The real papers and their vectors (embedded once, then read from ``cache``)."""
    from paperstand.index.embeddings import document_text, get_embedder

    papers = originals(corpus)
    path = cache / f"originals-{model}.npy"
    if path.exists():
        return papers, np.load(path), {"cached": str(path)}
    embedder = get_embedder(model)
    texts = [document_text(p["title"], p["abstract"]) for p in papers]
    vectors, wall, cpu = timed(lambda: embedder.embed_documents(texts))
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    rate = {
        "papers": len(texts),
        "wall_s": round(wall / 1000, 1),
        "cpu_s": round(cpu / 1000, 1),
        "abstracts_per_s": round(len(texts) / (wall / 1000), 1),
        "abstracts_per_cpu_s": round(len(texts) / (cpu / 1000), 1),
    }
    print(f"embedded {len(texts)} papers with {model}: {rate}", flush=True)
    return papers, vectors, rate


def query_texts(papers: list[dict], count: int, seed: int = 7) -> list[str]:
    """2-5 word runs of random titles: what people type."""
    rng = random.Random(seed)
    texts = []
    for paper in rng.sample(papers, count):
        words = paper["title"].split()
        size = min(len(words), rng.randint(2, 5))
        start = rng.randint(0, len(words) - size)
        texts.append(" ".join(words[start : start + size]))
    return texts


def index_at_scale(
    papers: list[dict], base: np.ndarray, copies: int, model: str, count: int, distinct: bool
) -> dict:
    """Step 2: the clustered index over ``copies`` replicas of ``base``, in memory."""
    from paperstand.index.embeddings import get_embedder
    from paperstand.index.vectors import Clusters

    vectors = np.concatenate([replica_vectors(base, r, distinct) for r in range(copies)])
    clusters, wall, cpu = timed(lambda: Clusters(vectors))
    ordered = vectors[clusters.order]
    embedder = get_embedder(model)
    rng = np.random.default_rng(11)
    queries = [embedder.embed_query(t) for t in query_texts(papers, count)]
    queries += list(base[rng.choice(len(base), count, replace=False)])  # similar papers
    walls, cpus, exact_walls, recalls = [], [], [], []
    for query in queries:
        (rows, _), w, c = timed(lambda q=query: clusters.nearest(ordered, q, 10))
        walls.append(w)
        cpus.append(c)
        truth, w, _ = timed(lambda q=query: np.einsum("ij,j->i", vectors, q))
        exact_walls.append(w)
        tenth = np.partition(truth, len(truth) - 10)[len(truth) - 10]
        found = truth[clusters.order[rows]]
        recalls.append(float(np.mean(found >= tenth - 1e-6)))
    text_recall = statistics.mean(recalls[:count])
    paper_recall = statistics.mean(recalls[count:])
    return {
        "vectors": len(vectors),
        "dim": int(vectors.shape[1]),
        "clusters": len(clusters.centroids),
        "scan": clusters.scan,
        "build_wall_s": round(wall / 1000, 1),
        "build_cpu_s": round(cpu / 1000, 1),
        "knn": summary(walls, cpus),
        "exact_scan_p50_ms": round(statistics.median(exact_walls), 1),
        "recall_at_10_text_queries": round(text_recall, 3),
        "recall_at_10_paper_queries": round(paper_recall, 3),
        "vectors_mb": round(vectors.nbytes / 2**20, 1),
        "peak_rss_mb": peak_mb(),
    }


def write_vectors(
    home: Path,
    papers: list[dict],
    base: np.ndarray,
    replicas: int,
    model: str,
    indexed_rows: int = 0,
    distinct: bool = False,
) -> dict:
    """Step 3: every paper's vector into ``home``'s store, through the store's API, inside
    ``Store.bulk_embeddings`` (PostgreSQL builds the HNSW index once at the end: its build
    is timed apart, with the database's CPU). The first ``indexed_rows`` (real papers,
    distinct vectors) are written before the block, entry by entry into the index, for
    comparison."""
    from paperstand.index.build import content_hash
    from paperstand.settings import Settings
    from paperstand.store import open_store

    store = open_store(Settings(home=home).store_url())
    hashes = [content_hash(p["title"], p["abstract"]) for p in papers]

    def chunks(size: int = 5000):  # type: ignore[no-untyped-def]
        for replica in range(replicas + 1):
            vectors = replica_vectors(base, replica, distinct)
            for start in range(0, len(papers), size):
                yield [
                    (
                        papers[i]["id"] if replica == 0 else replica_id(papers[i]["id"], replica),
                        hashes[i],
                        vectors[i],
                    )
                    for i in range(start, min(start + size, len(papers)))
                ]

    result: dict[str, object] = {}
    pending = chunks()
    written = 0
    if indexed_rows:
        began, cpu, database_cpu = time.perf_counter(), time.process_time(), cluster_cpu_s(home)
        while written < indexed_rows:
            rows = next(pending)
            store.save_embeddings(model, rows)
            written += len(rows)
        wall = time.perf_counter() - began
        result["entry_by_entry"] = {
            "rows": written,
            "wall_s": round(wall, 1),
            "cpu_s": round(time.process_time() - cpu, 1),
            "database_cpu_s": round(cluster_cpu_s(home) - database_cpu, 1),
            "rows_per_s": round(written / wall),
        }
        print(f"  with the index present: {result['entry_by_entry']}", flush=True)
    began, cpu, database_cpu = time.perf_counter(), time.process_time(), cluster_cpu_s(home)
    bulk = 0
    with store.bulk_embeddings(model):
        for rows in pending:
            store.save_embeddings(model, rows)
            bulk += len(rows)
            if bulk % 118620 < len(rows):
                print(f"  vectors written: {written + bulk}", flush=True)
        rows_wall = time.perf_counter() - began
        rows_database_cpu = cluster_cpu_s(home) - database_cpu
        print(f"  rows in {rows_wall:.1f} s; building the vector index ...", flush=True)
    index_wall = time.perf_counter() - began - rows_wall
    wall = time.perf_counter() - began
    return {
        **result,
        "written": written + bulk,
        "stored": store.embedding_counts().get(model, 0),
        "bulk_rows": bulk,
        "wall_s": round(wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "rows_wall_s": round(rows_wall, 1),
        "rows_per_s": round(bulk / rows_wall),
        "rows_database_cpu_s": round(rows_database_cpu, 1),
        "index_build_wall_s": round(index_wall, 1),
        "index_build_database_cpu_s": round(
            cluster_cpu_s(home) - database_cpu - rows_database_cpu, 1
        ),
        "rows_and_build_per_s": round(bulk / wall),
    }


def rebuild_index(home: Path, model: str) -> dict:
    """The model's HNSW index dropped and built again over the stored rows (PostgreSQL)."""
    from paperstand.settings import Settings
    from paperstand.store import open_store

    store = open_store(Settings(home=home).store_url())
    began, database_cpu = time.perf_counter(), cluster_cpu_s(home)
    with store.bulk_embeddings(model):
        pass
    return {
        "rows": store.embedding_counts().get(model, 0),
        "wall_s": round(time.perf_counter() - began, 1),
        "database_cpu_s": round(cluster_cpu_s(home) - database_cpu, 1),
    }


def cluster_cpu_s(home: Path) -> float:
    """CPU seconds of the PostgreSQL cluster of ``home`` (its processes now, and the
    children they waited for: the backends and parallel workers that ended), 0 for
    SQLite."""
    cluster = home / "pg"
    if not (cluster / "postmaster.pid").exists():
        return 0.0
    return sum(server_cpu(postmaster_pid(cluster)).values())


def hnsw_recall(store, model: str, queries: list[np.ndarray], ef_values: list[int]) -> dict:  # type: ignore[no-untyped-def]
    """recall@10 of the HNSW search at each of ``ef_values`` (candidates visited) against
    the exact scan, on PostgreSQL: a hit counts when its exact distance reaches the 10th
    best one (replicas make ties), and the knn's time beside the exact scan's."""
    tenths, exact_walls = [], []
    for query in queries:
        truth, w, _ = timed(
            lambda q=query: store.vectors.nearest_embeddings(model, q, 10, exact=True)
        )
        exact_walls.append(w)
        tenths.append(truth[-1][1])
    by_ef: dict[str, object] = {}
    for ef in ef_values:
        found, walls, cpus = [], [], []
        for query, tenth in zip(queries, tenths, strict=True):
            hits, w, c = timed(
                lambda q=query, e=ef: store.vectors.nearest_embeddings(model, q, 10, ef_search=e)
            )
            walls.append(w)
            cpus.append(c)
            found.append(sum(d <= tenth + 1e-6 for _, d in hits) / 10)
        by_ef[str(ef)] = {
            "recall_at_10": round(statistics.mean(found), 3),
            "knn": summary(walls, cpus),
        }
    return {
        "queries": len(queries),
        "exact_p50_ms": round(statistics.median(exact_walls), 1),
        "by_ef_search": by_ef,
    }


def serve_figures(
    home: Path,
    papers: list[dict],
    model: str,
    count: int,
    recall_queries: int,
    ef_values: list[int],
) -> dict:
    """Step 4, in this process (run as a fresh one): load, search, similar."""
    from paperstand.search import Searcher
    from paperstand.settings import Settings
    from paperstand.store import open_store
    from paperstand.store.embeddings import HNSW_EF_SEARCH, HnswVectors

    settings = Settings(home=home, embedding_model=model)
    store = open_store(settings.store_url(), migrate=False)
    searcher = Searcher(store, settings)
    _, load_wall, load_cpu = timed(searcher.vectors.has_vectors)
    searcher.search("warm up the model and the full-text index")
    texts = query_texts(papers, count, seed=13)
    search_w, search_c = [], []
    for text in texts:
        _, w, c = timed(lambda t=text: searcher.search(t, limit=20))
        search_w.append(w)
        search_c.append(c)
    rng = random.Random(17)
    similar_w, similar_c = [], []
    for paper in rng.sample(papers, count):
        pid = paper["id"] if rng.random() < 0.1 else replica_id(paper["id"], rng.randint(1, 22))
        if store.get_paper(pid) is None:
            pid = paper["id"]
        _, w, c = timed(lambda p=pid: searcher.similar(p, limit=10))
        similar_w.append(w)
        similar_c.append(c)
    figures: dict[str, object] = {}
    if isinstance(store.vectors, HnswVectors):
        figures["default_ef_search"] = HNSW_EF_SEARCH
        embedder = searcher.embedder
        half = recall_queries
        texts_q = [embedder.embed_query(t) for t in query_texts(papers, half, seed=19)]
        wanted = [p["id"] for p in random.Random(23).sample(papers, half)]
        vectors = store.get_embeddings(model, wanted)
        figures["recall_text_queries"] = hnsw_recall(store, model, texts_q, ef_values)
        figures["recall_paper_queries"] = hnsw_recall(
            store, model, list(vectors.values()), ef_values
        )
    return {
        **figures,
        "vectors": store.embedding_counts().get(model, 0),
        "index_load_wall_s": round(load_wall / 1000, 1),
        "index_load_cpu_s": round(load_cpu / 1000, 1),
        "search": summary(search_w, search_c),
        "similar": summary(similar_w, similar_c),
        "peak_rss_mb": peak_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus", type=Path, default=Path(tempfile.gettempdir()) / "paperstand-scale-corpus"
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "paperstand-scale-vectors"
    )
    parser.add_argument("--model", default="static-64")
    parser.add_argument("--replicas", type=int, default=22)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--write-vectors", type=Path, metavar="HOME")
    parser.add_argument("--home", type=Path, help="time serving from this store")
    parser.add_argument(
        "--recall-queries",
        type=int,
        default=50,
        help="PostgreSQL: text and as many paper queries for HNSW recall against exact",
    )
    parser.add_argument(
        "--ef-search",
        type=lambda text: [int(v) for v in text.split(",")],
        default=[200],
        help="PostgreSQL: the HNSW recall at each of these candidate counts (comma-separated)",
    )
    parser.add_argument(
        "--indexed-rows",
        type=int,
        default=0,
        help="write this many vectors entry by entry into the index first, for comparison",
    )
    parser.add_argument(
        "--rebuild-index",
        type=Path,
        metavar="HOME",
        help="PostgreSQL: time rebuilding the model's HNSW index of HOME (an empty "
        "Store.bulk_embeddings block)",
    )
    parser.add_argument(
        "--distinct-replicas",
        action="store_true",
        help="steps 2 and 3: each replica gets a vector of its own, not its original's",
    )
    parser.add_argument("--skip-index", action="store_true", help="skip step 2")
    parser.add_argument("--serve-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    papers, base, embedding = cached_vectors(args.corpus, args.cache, args.model)
    if args.serve_only:  # the fresh process of step 4
        figures = serve_figures(
            args.home, papers, args.model, args.queries, args.recall_queries, args.ef_search
        )
        print(json.dumps(figures))
        return
    pg = None
    home = args.write_vectors or args.rebuild_index or args.home
    if home is not None and (home / "pg").is_dir():  # a PostgreSQL home of scale.py
        pg, os.environ["PAPERSTAND_DATABASE_URL"] = start_postgres(home / "pg", keep=True)
    try:
        run(args, papers, base, embedding)
    finally:
        if pg is not None:
            pg.cleanup()  # type: ignore[attr-defined]


def run(args: argparse.Namespace, papers: list[dict], base: np.ndarray, embedding: dict) -> None:
    result: dict[str, object] = {
        "model": args.model,
        "embedding": embedding,
        "distinct_replicas": args.distinct_replicas,
    }
    if not args.skip_index:
        result["index"] = index_at_scale(
            papers, base, args.replicas + 1, args.model, args.queries, args.distinct_replicas
        )
        print(f"index: {result['index']}", flush=True)
    if args.write_vectors:
        result["write"] = write_vectors(
            args.write_vectors,
            papers,
            base,
            args.replicas,
            args.model,
            args.indexed_rows,
            args.distinct_replicas,
        )
        print(f"write: {result['write']}", flush=True)
    if args.rebuild_index:
        result["rebuild"] = rebuild_index(args.rebuild_index, args.model)
        print(f"rebuild: {result['rebuild']}", flush=True)
    if args.home:
        argv = [sys.executable, __file__, "--serve-only", "--home", str(args.home)]
        argv += ["--corpus", str(args.corpus), "--cache", str(args.cache)]
        argv += ["--model", args.model, "--queries", str(args.queries)]
        argv += ["--recall-queries", str(args.recall_queries)]
        argv += ["--ef-search", ",".join(map(str, args.ef_search))]
        out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True, env=os.environ)
        result["serve"] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"serve: {result['serve']}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
