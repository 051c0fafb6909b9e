"""Recall of pgvector's HNSW index against exact search, with the default model's vectors.

    python benchmarks/hnsw_recall.py [--papers 20000] [--tokens 256] [--data DIR]
                                     [--vectors FILE.npy]

Real MiniLM vectors (384-d) of ``--papers`` papers drawn evenly from ``DATA/arxiv`` (title +
abstract cut to ``--tokens`` word pieces; fewer tokens embed faster on a busy machine, and
say so when reporting), cached in ``--cache``. They go into a PostgreSQL 16 + pgvector
server from ``pgserver`` with the index the store makes (HNSW, cosine, m 16,
ef_construction 64, built after loading). Two kinds of query, like the two callers:

- text: 200 queries of 2-4 words cut from titles of another draw of papers, embedded as
  queries, 10 and 100 nearest (the hybrid search asks for 100);
- paper: 200 of the papers' own vectors, their 10 nearest others (similar papers).

For each ``hnsw.ef_search`` it prints recall@k against exact numpy search and the query
time p50/p95. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from embed_speed import make_queries, sample_papers

from paperstand.index.embeddings import OnnxMiniLM, document_text

from _shared_data import SHARED_DATA, require

EF_SEARCH = (40, 100, 200, 400)
QUERIES = 200


def vectors_of(papers: list[dict], tokens: int, cache: Path) -> np.ndarray:
    digest = hashlib.sha1("\n".join(p["id"] for p in papers).encode()).hexdigest()[:12]
    path = cache / f"hnsw-minilm-{tokens}-{len(papers)}-{digest}.npy"
    if path.exists():
        return np.load(path)
    model = OnnxMiniLM(max_tokens=tokens)
    started, cpu = time.perf_counter(), time.process_time()
    vectors = model.embed_documents([document_text(p["title"], p["abstract"]) for p in papers])
    print(
        f"embedded {len(papers)} papers in {time.perf_counter() - started:.0f} s "
        f"({time.process_time() - cpu:.0f} CPU-s)",
        flush=True,
    )
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def exact(vectors: np.ndarray, query: np.ndarray, k: int, skip: int | None = None) -> set[int]:
    scores = vectors @ query
    if skip is not None:
        scores[skip] = -np.inf
    return set(np.argpartition(-scores, k)[:k].tolist())


def pgvector_text(vector: np.ndarray) -> str:
    """pgvector's text form; repr() of each float32 parses back to the same float32."""
    return "[" + ",".join(map(repr, vector.astype(np.float32).tolist())) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20000)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "paperstand-bench"
    )
    parser.add_argument(
        "--vectors",
        type=Path,
        help="document vectors saved by an earlier run (.npy) instead of --papers/--tokens",
    )
    args = parser.parse_args()
    require(args.data / "arxiv", "--data DIR", "a folder holding arxiv/listings-*.jsonl.gz")

    import pgserver
    import psycopg

    if args.vectors:  # recall needs the vectors only, not which papers they came from
        vectors = np.load(args.vectors)
    else:
        vectors = vectors_of(sample_papers(args.data, args.papers), args.tokens, args.cache)
    model = OnnxMiniLM()
    texts = make_queries(sample_papers(args.data, 2 * QUERIES, seed=8), QUERIES)
    rng = np.random.default_rng(5)
    own = rng.choice(len(vectors), QUERIES, replace=False).tolist()
    cases = [("text", vectors_of_queries(model, texts), k, None) for k in (10, 100)]
    cases.append(("paper", vectors[own], 10, own))

    results: dict = {
        "papers": len(vectors),
        "tokens": args.tokens,
        "vectors": str(args.vectors) if args.vectors else None,
        "ef_search": {},
    }
    with tempfile.TemporaryDirectory() as root:
        server = pgserver.get_server(Path(root), cleanup_mode="stop")
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("CREATE TABLE v (id int PRIMARY KEY, vector vector(384))")
            with conn.cursor().copy("COPY v (id, vector) FROM STDIN") as copy:
                for i, row in enumerate(vectors):
                    copy.write_row((i, pgvector_text(row)))
            started = time.perf_counter()
            conn.execute("CREATE INDEX ON v USING hnsw (vector vector_cosine_ops)")
            print(f"HNSW (m 16, ef_construction 64) built in {time.perf_counter() - started:.0f} s")
            print(
                f"{'queries':8} {'k':>4} {'ef_search':>9} {'recall':>7} {'p50 ms':>7} {'p95 ms':>7}"
            )
            for ef in EF_SEARCH:
                conn.execute(f"SET hnsw.ef_search = {ef}")
                for kind, queries, k, skip in cases:
                    found, times = [], []
                    for n, query in enumerate(queries):
                        self_id = None if skip is None else skip[n]
                        want = exact(vectors, query, k, self_id)
                        started = time.perf_counter()
                        rows = conn.execute(
                            "SELECT id FROM v ORDER BY vector <=> %s::vector LIMIT %s",
                            (pgvector_text(query), k + (skip is not None)),
                        ).fetchall()
                        times.append((time.perf_counter() - started) * 1000)
                        got = {r[0] for r in rows if r[0] != self_id}
                        found.append(len(want & got) / k)
                    times.sort()
                    row = {
                        "recall": round(statistics.mean(found), 4),
                        "p50_ms": round(statistics.median(times), 2),
                        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
                    }
                    results["ef_search"].setdefault(str(ef), {})[f"{kind}@{k}"] = row
                    print(
                        f"{kind:8} {k:4} {ef:9} {row['recall']:7.3f} {row['p50_ms']:7.2f}"
                        f" {row['p95_ms']:7.2f}",
                        flush=True,
                    )
    print(json.dumps(results))


def vectors_of_queries(model: OnnxMiniLM, texts: list[str]) -> np.ndarray:
    return np.stack([model.embed_query(text) for text in texts])


if __name__ == "__main__":
    main()
