"""Where one search's time goes, stage by stage, on a store that is already loaded.

    python benchmarks/search_stages.py --home HOME [--queries 100] [--limit 21] [--seed 1]

Opens ``HOME`` read-only (for example ``/work/scale/home-vec`` with
``PAPERSTAND_EMBEDDING_MODEL=static-64``), loads the vector index as a server's first
search does, then runs ``--queries`` distinct 2-4 word runs of the store's own titles
through ``Searcher.search`` one at a time and prints, per stage, the CPU milliseconds of
the thread that ran it (p50 / p95 / mean): the store's revision check, the full-text
query, the vectors' version check, the query embedding, the vector search, the read of
the page's papers, the known-title check and the "few good matches" score. Before the
queries it times a full garbage collection after the load, with start-up's objects frozen
as a server freezes them: what the loaded index makes the collector walk.

Dense retrieval runs in its own thread beside the full-text query, so a search's wall time
on an idle machine is about the calling thread's CPU (``critical path``), not the whole
process's (``all threads``); both are printed, with wall time, since the development
machine is shared and wall time there mostly measures the load. The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scale import queries

SAMPLE_FROM = 20_000


def titles(store: Any, count: int, rng: random.Random) -> list[str]:
    """``count`` random titles among the store's first ``SAMPLE_FROM`` papers (the scale
    corpus's replicas repeat those titles; the store's own API, one pass of a few batches)."""
    found: list[str] = []
    for batch in store.iter_papers(batch_size=2000):
        found += [paper.title for paper in batch if paper.title]
        if len(found) >= SAMPLE_FROM:
            break
    return rng.sample(found, min(count, len(found)))


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)

    return {"p50": at(0.5), "p95": at(0.95), "mean": round(statistics.mean(ordered), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--limit", type=int, default=21, help="results asked (the page: 21)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from paperstand.search import Searcher
    from paperstand.settings import Settings
    from paperstand.store import open_store

    settings = Settings(home=args.home)
    store = open_store(settings.store_url(), migrate=False)
    searcher = Searcher(store, settings)
    # A server freezes what start-up made (web/app.py) and then loads the vectors: what the
    # garbage collector's full collections still walk is what the loaded index added.
    gc.collect()
    gc.freeze()
    wall, cpu = time.perf_counter(), time.process_time()
    searcher.vectors.has_vectors()
    searcher.search("warm up the model and the full-text index")
    load = {
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
    }
    print(f"loaded in {load['wall_s']} s wall, {load['cpu_s']} s CPU", flush=True)
    collections = []
    for _ in range(3):
        started = time.perf_counter()
        gc.collect()
        collections.append((time.perf_counter() - started) * 1000)
    load["full_collection_ms"] = round(min(collections), 1)
    print(f"a full garbage collection after loading: {load['full_collection_ms']} ms", flush=True)

    stage: dict[str, float] = defaultdict(float)

    def timed(owner: object, name: str, label: str) -> None:
        call: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(call)
        def wrapper(*a: Any, **k: Any) -> Any:
            started = time.thread_time()
            try:
                return call(*a, **k)
            finally:
                stage[label] += (time.thread_time() - started) * 1000

        setattr(owner, name, wrapper)

    timed(store, "revision", "revision check")
    timed(searcher.fulltext, "search", "full-text query")
    if hasattr(searcher.vectors, "vectors") and hasattr(
        searcher.vectors.vectors, "embeddings_version"
    ):
        timed(searcher.vectors.vectors, "embeddings_version", "vectors' version check")
    timed(searcher.embedder, "embed_query", "query embedding")
    # The SQLite index's search of one snapshot; pgvector's knn is its one query.
    knn = "_knn" if hasattr(searcher.vectors, "_knn") else "knn"
    timed(searcher.vectors, knn, "vector search")
    timed(store, "get_papers", "read the page's papers")
    timed(searcher, "_title_first", "known-title check")
    timed(searcher.fulltext, "full_match_score", "few good matches")

    rng = random.Random(args.seed)
    texts = queries(titles(store, 4 * args.queries, rng), rng, args.queries)
    per: dict[str, list[float]] = defaultdict(list)
    for text in texts:
        stage.clear()
        wall, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
        searcher.search(text, limit=args.limit)
        per["critical path (calling thread CPU)"].append((time.thread_time() - own) * 1000)
        per["all threads (process CPU)"].append((time.process_time() - cpu) * 1000)
        per["wall"].append((time.perf_counter() - wall) * 1000)
        for label, spent in stage.items():
            per[label].append(spent)
    rows = {label: percentiles(values) for label, values in per.items()}
    for label, row in rows.items():
        print(
            f"{label:36} p50 {row['p50']:7.2f}  p95 {row['p95']:7.2f}  mean {row['mean']:7.2f} ms"
        )
    print(
        json.dumps(
            {
                "benchmark": "search_stages",
                "home": str(args.home),
                "queries": len(texts),
                "limit": args.limit,
                "load_average_1min": os.getloadavg()[0],
                "load": load,
                "ms": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
