"""How fast each embedding candidate embeds real arXiv abstracts and queries.

    python benchmarks/embed_speed.py [--papers 1000] [--queries 200] [--data DIR]

Documents: title + abstract of papers spread over the listings of ``DIR/arxiv`` (``--data``,
default ``../shared/data``), embedded
in one ``embed_documents`` call, as ``index build`` does (after one warm-up call). Queries:
2-4 word queries cut from other titles, one ``embed_query`` call each, every text new so the
query cache never answers. MiniLM is also measured with abstracts cut to 128 tokens, with
abstracts embedded as averaged chunks of at most 128 tokens (``+chunks128``), and as the
previous release ran it (``minilm-l6-int8-unfused``: the exporter's attention, onnxruntime's
``SkipLayerNormalization``, each text on all cores in turn), so one run gives the
before/after ratio; the two are measured in turns (``--rounds``), each keeping its best
round, so a burst of load on a shared machine does not land on one of them only. Besides
wall-clock rates it reports the process CPU time
(all threads): on a machine shared with other work the wall clock mostly measures the
others, while abstracts per CPU-second times the number of cores is what an idle machine
would give at best. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import time
from pathlib import Path

from paperstand.index.embeddings import (
    AVAILABLE_MODELS,
    DEFAULT_MODEL,
    Embedder,
    OnnxMiniLM,
    document_text,
    get_embedder,
)

from _shared_data import SHARED_DATA, require

BEFORE = f"{DEFAULT_MODEL}-unfused"


def sample_papers(data: Path, count: int, seed: int = 7) -> list[dict]:
    """``count`` papers drawn evenly from every monthly listing file."""
    files = sorted((data / "arxiv").glob("listings-*.jsonl.gz"))
    per_file = -(-count // len(files))
    rng = random.Random(seed)
    papers: list[dict] = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines]
        papers += rng.sample(rows, min(per_file, len(rows)))
    rng.shuffle(papers)
    return papers[:count]


def make_queries(papers: list[dict], count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    queries: list[str] = []
    seen: set[str] = set()
    for paper in papers:
        words = paper["title"].split()
        if len(words) < 2:
            continue
        size = rng.randint(2, min(4, len(words)))
        start = rng.randint(0, len(words) - size)
        query = " ".join(words[start : start + size])
        if query not in seen:
            seen.add(query)
            queries.append(query)
        if len(queries) == count:
            break
    return queries


def measure(embedder: Embedder, docs: list[str], queries: list[str]) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed_documents(docs)
    docs_per_s = len(docs) / (time.perf_counter() - started)
    docs_per_cpu_s = len(docs) / max(time.process_time() - cpu, 1e-9)
    times = []
    cpu = time.process_time()
    for query in queries:
        started = time.perf_counter()
        embedder.embed_query(query)
        times.append((time.perf_counter() - started) * 1000)
    query_cpu_ms = (time.process_time() - cpu) * 1000 / len(queries)
    times.sort()
    return {
        "docs_per_s": round(docs_per_s, 1),
        "docs_per_cpu_s": round(docs_per_cpu_s, 1),
        "query_ms_p50": round(statistics.median(times), 2),
        "query_ms_p95": round(times[int(0.95 * (len(times) - 1))], 2),
        "query_cpu_ms": round(query_cpu_ms, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    require(args.data / "arxiv", "--data DIR", "a folder holding arxiv/listings-*.jsonl.gz")

    papers = sample_papers(args.data, args.papers + args.queries)
    docs = [document_text(p["title"], p["abstract"]) for p in papers[: args.papers]]
    queries = make_queries(papers[args.papers :], args.queries)
    candidates: dict[str, Embedder] = {name: get_embedder(name) for name in AVAILABLE_MODELS}
    candidates["minilm-l6-int8@128"] = OnnxMiniLM("minilm-l6-int8@128", max_tokens=128)
    candidates["minilm-l6-int8+chunks128"] = OnnxMiniLM(
        "minilm-l6-int8+chunks128", chunk_tokens=128
    )
    candidates[BEFORE] = OnnxMiniLM(BEFORE, fused=False)
    for embedder in candidates.values():
        embedder.embed_documents(docs[:32])  # load lazily built pieces, warm caches

    results: dict[str, dict] = {}
    print(f"{len(docs)} abstracts, {len(queries)} queries, best of {args.rounds} rounds")
    print(
        f"{'model':26} {'abstracts/s':>12} {'per CPU-s':>10} {'query p50 ms':>13}"
        f" {'query p95 ms':>13} {'query CPU ms':>13}"
    )
    for name, embedder in candidates.items():
        if name in (DEFAULT_MODEL, BEFORE):
            continue
        results[name] = measure(embedder, docs, queries)
    for _ in range(args.rounds):
        for name in (BEFORE, DEFAULT_MODEL):
            row = measure(candidates[name], docs, queries)
            if name not in results:
                results[name] = row
            elif row["docs_per_cpu_s"] > results[name]["docs_per_cpu_s"]:
                # Query figures stay those of the first round: later ones hit the cache.
                results[name].update(
                    docs_per_s=row["docs_per_s"], docs_per_cpu_s=row["docs_per_cpu_s"]
                )
    for name, row in results.items():
        print(
            f"{name:26} {row['docs_per_s']:12.1f} {row['docs_per_cpu_s']:10.1f}"
            f" {row['query_ms_p50']:13.2f} {row['query_ms_p95']:13.2f}"
            f" {row['query_cpu_ms']:13.2f}",
            flush=True,
        )
    speedup = {
        key: round(results[DEFAULT_MODEL][key] / results[BEFORE][key], 2)
        for key in ("docs_per_s", "docs_per_cpu_s")
    }
    print(
        f"{DEFAULT_MODEL} against {BEFORE}: abstracts/s x{speedup['docs_per_s']}, "
        f"per CPU-second x{speedup['docs_per_cpu_s']}"
    )
    print(
        json.dumps(
            {
                "papers": len(docs),
                "queries": len(queries),
                "models": results,
                "speedup_vs_before": speedup,
            }
        )
    )


if __name__ == "__main__":
    main()
