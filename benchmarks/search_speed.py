"""How fast search and similar papers are, and how that grows with the corpus.

    python benchmarks/search_speed.py [--sizes 10000,50000,all] [--model static-64]
                                      [--default-sample 2000] [--queries 400]
                                      [--cache DIR] [--data DIR] [--vectors-only]
                                      [--stand-in]

For each size, a store of the first N papers of ``DIR/arxiv`` (``--data DIR``, default
``../shared/data``; all 118,620 for ``all``) is ingested and indexed (``index build``: full
text, then embeddings with ``--model``) and cached in ``--cache`` so a re-run starts at
once. The default model (MiniLM) embeds a few abstracts a second on these two cores, hours
for 118k, so the size series uses the fast ``static-64`` model and the default model is
measured on a ``--default-sample`` store.
Then a fresh process (so its memory is that of a server, not of the build) opens each
store and times:

- ``search``: several hundred realistic queries (title fragments, whole and misspelled
  titles, topics, author names, ``author:`` and ``cat:`` operators, a few with filters),
  the whole ``Searcher.search`` call, query embedding included, each query text new to the
  process (the query cache never answers); the first call is reported apart (cold start);
- ``similar``: ``Searcher.similar`` for 200 random papers;
- the parts: full text alone, query embedding, vector search alone;
- peak resident memory of the serving process.

``--stand-in`` gives the documents random unit vectors of the model's size under its name
(queries still go through the real model): the default model's whole search path at
118k without hours of embedding; its recall and results mean nothing.

``--vectors-only`` adds a speed-only measure of the vector index with random 384-d unit
vectors (the size of the default model's vectors) at each size, for when the default model
is too slow to embed the larger corpora here. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _shared_data import SHARED_DATA, require

TOPICS = [
    "diffusion models",
    "graph neural networks",
    "reinforcement learning from human feedback",
    "large language model reasoning",
    "vision transformer",
    "federated learning privacy",
    "neural radiance fields",
    "gaussian splatting",
    "speech recognition",
    "protein structure",
    "quantum error correction",
    "retrieval augmented generation",
    "mixture of experts",
    "knowledge distillation",
    "object detection",
    "medical image segmentation",
    "time series forecasting",
    "autonomous driving",
    "robot manipulation",
    "in-context learning",
    "chain of thought",
    "multimodal large language models",
    "text to image generation",
    "video generation",
    "point cloud",
    "contrastive learning",
    "adversarial robustness",
    "hallucination detection",
    "code generation",
    "sparse attention",
    "state space models",
    "low rank adaptation",
    "physics informed neural networks",
    "neural operators",
    "kolmogorov arnold networks",
    "machine translation low resource",
    "recommender systems",
    "anomaly detection",
    "semantic segmentation",
    "pose estimation",
    "music generation",
    "weather prediction",
    "molecular generation",
    "theorem proving",
    "agents tool use",
    "benchmark evaluation of llms",
    "continual learning",
    "quantization of transformers",
]
FILTERS = [
    {"category": "cs.CV"},
    {"since": "2026-01-01"},
    {"until": "2025-06-30"},
    {"category": "cs.CL", "since": "2025-09-01"},
]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    return {
        "p50_ms": round(at(0.50) * 1000, 2),
        "p95_ms": round(at(0.95) * 1000, 2),
        "p99_ms": round(at(0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def read_listings(data: Path, count: int | None) -> list[dict]:
    rows: list[dict] = []
    for path in sorted((data / "arxiv").glob("listings-*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            rows.extend(json.loads(line) for line in lines)
        if count is not None and len(rows) >= count:
            return rows[:count]
    return rows


def misspell(rng: random.Random, text: str) -> str:
    words = text.split()
    for _ in range(2):
        i = rng.randrange(len(words))
        if len(words[i]) > 4:
            j = rng.randrange(1, len(words[i]) - 1)
            words[i] = words[i][:j] + words[i][j + 1 :]
    return " ".join(words)


def make_queries(rows: list[dict], count: int, seed: int = 3) -> list[tuple[str, dict]]:
    """(query text, filters): a realistic mix, every text distinct."""
    rng = random.Random(seed)
    queries: list[tuple[str, dict]] = []
    seen: set[str] = set()

    def add(text: str, filters: dict | None = None) -> None:
        text = re.sub(r"\s+", " ", text).strip()
        if text and text not in seen:
            seen.add(text)
            queries.append((text, filters or {}))

    for topic in TOPICS:
        add(topic)
    while len(queries) < count:
        row = rng.choice(rows)
        kind = rng.random()
        words = row["title"].split()
        if kind < 0.35 and len(words) >= 3:  # a remembered fragment of a title
            size = rng.randint(2, min(5, len(words)))
            start = rng.randint(0, len(words) - size)
            add(" ".join(words[start : start + size]))
        elif kind < 0.50:
            add(row["title"])  # a pasted title
        elif kind < 0.60:
            add(misspell(rng, row["title"]))
        elif kind < 0.70 and row["authors"]:
            add(rng.choice(row["authors"]))  # a name typed as words
        elif kind < 0.75 and row["authors"]:
            add(f'author:"{rng.choice(row["authors"])}"')
        elif kind < 0.80:
            add(f"cat:{row['categories'][0]} {rng.choice(TOPICS)}")
        elif kind < 0.90 and len(words) >= 2:
            add(" ".join(words[:3]), rng.choice(FILTERS))
        else:
            add(f"{rng.choice(TOPICS)} {rng.choice(words)}".lower())
    return queries[:count]


class StandInDocuments:
    """The default model's name and size with random unit vectors for the documents.

    Embedding 118k abstracts with MiniLM takes hours on these two cores, while the speed
    of a search depends on how many vectors there are and how long they are, not on what
    they say: with these stand-ins the whole default search path (real query embedding,
    full text, 384-d vector index, fusion) runs at full size. Its recall and its results
    mean nothing."""

    def __init__(self, name: str, dim: int) -> None:
        import numpy as np

        self.name, self.dim = name, dim
        self._rng = np.random.default_rng(0)

    def embed_documents(self, texts: list[str]):
        import numpy as np

        vectors = self._rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_query(self, text: str):
        return self.embed_documents([text])[0]


def build(home: Path, rows: list[dict], model: str, *, stand_in: bool = False) -> dict:
    """Ingest and index ``rows`` into ``home`` unless cached there; build figures. With
    ``stand_in``, the documents get random vectors under ``model``'s name
    (:class:`StandInDocuments`)."""
    from paperstand.index.build import build_index
    from paperstand.index.embeddings import get_embedder
    from paperstand.ingest import ingest
    from paperstand.models import Paper
    from paperstand.settings import Settings
    from paperstand.store import open_store

    settings = Settings(home=home, embedding_model=model)
    marker = home / "built.json"
    if marker.exists():
        cached = json.loads(marker.read_text())
        if cached.get("model") == model and cached.get("papers") == len(rows):
            return cached
    home.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store_url())
    figures: dict = {"model": model, "papers": len(rows)}
    if store.stats()["papers"] != len(rows):
        began = time.perf_counter()
        report = ingest(store, (Paper.from_dict(r) for r in rows))
        figures["ingest_s"] = round(time.perf_counter() - began, 1)
        assert report.error is None, report.error
    embedder = get_embedder(model)
    if stand_in:
        embedder = StandInDocuments(model, embedder.dim)
        figures["stand_in_vectors"] = True
    embedder.embed_documents(["warm up"])
    stages: dict[str, float] = {}

    def progress(stage: str, done: int, total: int | None) -> None:
        stages.setdefault(stage, time.perf_counter())

    began = time.perf_counter()
    report = build_index(store, settings, embedder=embedder, progress=progress)
    ended = time.perf_counter()
    fulltext_s = stages.get("embeddings", ended) - began
    figures.update(
        fulltext_index_s=round(fulltext_s, 1),
        fulltext_papers_per_s=round(report.indexed / fulltext_s) if fulltext_s else None,
        embedded=report.embedded,
        embed_s=round(report.embed_seconds, 1),
        abstracts_per_s=round(report.rate, 1) if report.rate else None,
        build_s=round(ended - began, 1),
    )
    store.close()
    marker.write_text(json.dumps(figures))
    return figures


def serve(home: Path, model: str, queries: list[tuple[str, dict]], seed: int = 5) -> dict:
    """Time searches in this (fresh) process; peak RSS at the end."""

    from paperstand.index.embeddings import get_embedder
    from paperstand.index.query import parse_query
    from paperstand.search import Searcher
    from paperstand.settings import Settings
    from paperstand.store import open_store

    settings = Settings(home=home, embedding_model=model)
    store = open_store(settings.store_url())
    began = time.perf_counter()
    searcher = Searcher(store, settings)
    searcher.search(queries[0][0])
    cold = time.perf_counter() - began
    texts = [q for q, _ in queries]
    embedder = get_embedder(model)

    # CPU time of the process (all threads, onnxruntime's included) beside the wall clock:
    # on a shared machine the wall clock measures the other jobs as much as this one.
    search_s: list[float] = []
    search_cpu: list[float] = []
    for text, filters in queries[1:]:
        t, cpu = time.perf_counter(), time.process_time()
        searcher.search(text, limit=20, **filters)
        search_s.append(time.perf_counter() - t)
        search_cpu.append(time.process_time() - cpu)

    fulltext_s, embed_s, knn_s = [], [], []
    for text in texts:
        parsed = parse_query(text)
        t = time.perf_counter()
        searcher.fulltext.search(parsed, limit=100)
        fulltext_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        vector = embedder.embed_query("q: " + text)  # a new text: the cache never answers
        embed_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        searcher.vectors.knn(vector, 100)
        knn_s.append(time.perf_counter() - t)

    rng = random.Random(seed)
    ids = [p.id for p in itertools.chain.from_iterable(store.iter_papers(5000))]
    recall = vector_recall(searcher, embedder, texts[:100], ids)
    similar_s, similar_cpu = [], []
    for paper_id in rng.sample(ids, 200):
        t, cpu = time.perf_counter(), time.process_time()
        hits = searcher.similar(paper_id, limit=10)
        similar_s.append(time.perf_counter() - t)
        similar_cpu.append(time.process_time() - cpu)
        assert paper_id not in [h.paper.id for h in hits]
    store.close()
    return {
        "papers": len(ids),
        "queries": len(search_s),
        "cold_first_search_ms": round(cold * 1000, 1),
        "search": percentiles(search_s),
        "search_cpu": percentiles(search_cpu),
        "similar": percentiles(similar_s),
        "similar_cpu": percentiles(similar_cpu),
        "fulltext_tantivy": percentiles(fulltext_s),
        "query_embedding": percentiles(embed_s),
        "vector_knn_100": percentiles(knn_s),
        "vector_recall_at_10": recall,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def vector_recall(searcher, embedder, texts: list[str], ids: list[str]) -> float | None:
    """Share of the exact top 10 (numpy over every stored vector) that the index returns."""
    import numpy as np

    stored = searcher.vectors.get(ids)
    if not stored:
        return None
    names = list(stored)
    matrix = np.stack([stored[n] for n in names])
    found = 0
    for text in texts:
        query = embedder.embed_query(text)
        truth = {names[i] for i in np.argsort(-(matrix @ query))[:10]}
        found += len(truth & {pid for pid, _ in searcher.vectors.knn(query, 10)})
    return round(found / (10 * len(texts)), 3)


def vectors_only(home: Path, count: int, dim: int = 384, probes: int = 200) -> dict:
    """Vector index speed alone with random unit vectors (speed does not depend on content)."""
    import numpy as np

    from paperstand.index.vectors import vector_index
    from paperstand.models import Paper
    from paperstand.store import open_store

    home.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{home / 'vectors.sqlite3'}")
    rng = np.random.default_rng(0)
    model = f"random-{dim}"
    index = vector_index(store, model)
    if index.count() != count:
        for start in range(0, count, 5000):
            ids = [f"v{i}" for i in range(start, min(count, start + 5000))]
            store.upsert_papers([Paper(id=i, title=i) for i in ids])
            vectors = rng.standard_normal((len(ids), dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            index.upsert([(i, "h", v) for i, v in zip(ids, vectors, strict=True)])
    queries = rng.standard_normal((probes, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index.knn(queries[0], 10)
    times = []
    for query in queries:
        t = time.perf_counter()
        index.knn(query, 10)
        times.append(time.perf_counter() - t)
    store.close()
    return {"papers": count, "dim": dim, "knn_10": percentiles(times)}


def measure(
    args: argparse.Namespace,
    everything: list[dict],
    queries: list,
    count: int,
    model: str,
    *,
    stand_in: bool = False,
) -> dict:
    """Build (or reuse) the store of the first ``count`` papers with ``model``, then time
    it from a fresh serving process."""
    home = args.cache / f"arxiv-{count}-{model}{'-stand-in' if stand_in else ''}"
    built = build(home, everything[:count], model, stand_in=stand_in)
    (home / "queries.json").write_text(json.dumps(queries))
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--serve",
            str(home),
            "--model",
            model,
            "--data",
            str(args.data),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    served = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"{count:>7} papers, {model}{' (stand-in vectors)' if stand_in else ''}: "
        f"search p50 {served['search']['p50_ms']} ms, "
        f"p95 {served['search']['p95_ms']} ms, p99 {served['search']['p99_ms']} ms "
        f"(CPU p50 {served['search_cpu']['p50_ms']}, p95 {served['search_cpu']['p95_ms']} ms); "
        f"similar p50 {served['similar']['p50_ms']} ms, p95 {served['similar']['p95_ms']} ms;"
        f" full text p95 {served['fulltext_tantivy']['p95_ms']} ms; "
        f"query embedding p95 {served['query_embedding']['p95_ms']} ms; "
        f"embed {built.get('abstracts_per_s')} abstracts/s; "
        f"peak RSS {served['peak_rss_mb']} MB",
        flush=True,
    )
    return {"size": count, "build": built, **served}


def main() -> None:
    from paperstand.index.embeddings import DEFAULT_MODEL

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,50000,all")
    parser.add_argument("--model", default="static-64", help="model of the size series")
    parser.add_argument(
        "--default-sample",
        type=int,
        default=2000,
        help="papers embedded with the default model (0: skip); it is too slow for 118k here",
    )
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/paperstand-bench"))
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--vectors-only", action="store_true")
    parser.add_argument(
        "--stand-in",
        action="store_true",
        help="documents on random vectors of the model's size (for the default model at 118k)",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()

    if args.serve:  # the serving process: only the store and the queries in memory
        queries = json.loads((args.serve / "queries.json").read_text())
        print(json.dumps(serve(args.serve, args.model, queries)))
        return
    require(args.data / "arxiv", "--data DIR", "a folder holding arxiv/listings-*.jsonl.gz")
    everything = read_listings(args.data, None)
    queries = make_queries(everything, args.queries)

    results = []
    for size in args.sizes.split(","):
        count = len(everything) if size == "all" else int(size)
        row = measure(args, everything, queries, count, args.model, stand_in=args.stand_in)
        if args.vectors_only:
            row["vectors_384"] = vectors_only(args.cache / f"vectors-{count}", count)
        results.append(row)
    default = None
    if args.default_sample and args.model != DEFAULT_MODEL:
        default = measure(args, everything, queries, args.default_sample, DEFAULT_MODEL)
    first, last = results[0], results[-1]
    growth = {
        key: round(last[key]["p95_ms"] / max(first[key]["p95_ms"], 1e-9), 2)
        for key in ("search", "similar", "fulltext_tantivy", "vector_knn_100")
    }
    print(
        json.dumps(
            {
                "model": args.model,
                "results": results,
                "p95_growth_first_to_last": growth,
                "default_model": DEFAULT_MODEL,
                "default_model_sample": default,
                "stand_in_vectors": args.stand_in,
                "load_average_1min": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
