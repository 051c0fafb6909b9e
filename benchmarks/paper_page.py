"""Where a paper page's CPU goes, part by part, on a loaded home (e.g. the 2.73M one).

    python benchmarks/paper_page.py --home HOME [--papers 100] [--vector-cache DIR]

In this process, on random visible papers of ``HOME``'s store: loading the vector index
(wall and CPU seconds; from ``--vector-cache`` when it holds this store's file, which is
never written into a reused home otherwise), then each part of the page timed alone with
the CPU of its own thread: reading the paper, its standing, comments, vector, the knn
of its vector, BM25 more-like-this, the same-author papers, similar papers in all (whose
knn runs in another thread, so its thread's CPU leaves the knn out), topics and keywords.
Set ``PAPERSTAND_EMBEDDING_MODEL`` as the home was embedded. The machine may be shared:
read the CPU figures. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from paperstand import community
from paperstand.lookup import find_paper
from paperstand.search import SIMILAR_DEPTH, Searcher
from paperstand.settings import Settings
from paperstand.store import open_store
from paperstand.store.schema import papers, visible
from paperstand.topics.service import keywords_of


def percentile(values: list[float], share: float) -> float:
    return round(sorted(values)[int(share * (len(values) - 1))], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--papers", type=int, default=100)
    parser.add_argument("--vector-cache", default="off", help="a folder, or off")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    settings = Settings(home=args.home, search_fetch_missing=False, vector_cache=args.vector_cache)
    store = open_store(settings.store_url())
    searcher = Searcher(store, settings)
    wall, cpu = time.perf_counter(), time.process_time()
    searcher.vectors.warm()
    load = {
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
    }
    print(f"vector index loaded: {load['wall_s']} s wall, {load['cpu_s']} CPU-s", flush=True)
    rng = random.Random(args.seed)
    with store.read() as conn:
        top = conn.execute(select(func.max(papers.c.pk))).scalar_one()
        pks = rng.sample(range(1, top + 1), min(top, 4 * args.papers))
        query = select(papers.c.id).where(papers.c.pk.in_(pks[:900]), visible())
        ids = [row[0] for row in conn.execute(query)][: args.papers]
    parts: dict[str, list[float]] = {}

    def timed(name: str, part: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        result = part(*args, **kwargs)
        parts.setdefault(name, []).append((time.thread_time() - start) * 1000)
        return result

    depth = SIMILAR_DEPTH
    for paper_id in ids:
        paper = timed("the paper", find_paper, store, paper_id)
        exclude = {paper.id}
        timed("votes and standing", community.paper_standing, store, paper, None)
        timed("comments", store.community.comments, paper.id)
        vectors = timed("its vector", searcher._paper_vectors, [paper])
        if vectors:
            timed("knn", searcher.vectors.knn, vectors[0], depth, exclude=exclude)
        text = f"{paper.title}\n{paper.abstract}"
        timed(
            "more like this", searcher.fulltext.more_like_this, [text], limit=depth, exclude=exclude
        )
        timed("same authors", searcher._coauthored, [paper], depth, exclude)
        hits = timed("similar (this thread)", searcher.like, [paper], limit=8)
        timed("topics", store.topics.of_papers, [paper.id, *(hit.paper.id for hit in hits)])
        timed("keywords", keywords_of, store, [paper])
    rows = {
        name: {"cpu_p50_ms": percentile(values, 0.5), "cpu_p95_ms": percentile(values, 0.95)}
        for name, values in parts.items()
    }
    for name, row in rows.items():
        print(f"{name:22} CPU p50 {row['cpu_p50_ms']:6.2f} ms  p95 {row['cpu_p95_ms']:6.2f} ms")
    store.close()
    print(json.dumps({"benchmark": "paper_page", "papers": len(ids), "load": load, "parts": rows}))


if __name__ == "__main__":
    main()
