"""Where a full-text search's time goes as the index grows: tantivy's query, the stored-id
reads, and a flat OR that block-max WAND can prune, CPU per query.

Builds (or reuses) a tantivy index with paperstand's own schema and analysis
(``FullTextIndex``) straight from corpus files of ``make_arxiv_scale.py``, without a store
(loading a store of that size takes far longer), then runs 2-4 word runs of the corpus's
titles as queries.

Usage: ``python benchmarks/fulltext_scale.py --index DIR --corpus DIR [--replicas 2]``
(``--corpus /work/scale/corpus`` is the shared one). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import tantivy

from paperstand.index.fulltext import FullTextIndex, _document
from paperstand.index.query import Filters, parse_query
from paperstand.models import Paper
from paperstand.sources import jsonl


def build(index: FullTextIndex, files: list[Path]) -> float:
    start = time.perf_counter()
    writer = index._index.writer(heap_size=400_000_000, num_threads=2)
    for path in files:
        with path.open("rb") as stream:
            for item in jsonl.records(stream, str(path)):
                if isinstance(item, Paper) and not item.deleted:
                    writer.add_document(_document(item))
        print(f"indexed {path.name}", flush=True)
    writer.commit()
    writer.wait_merging_threads()
    index._write_meta(1)
    index._index.reload()
    return time.perf_counter() - start


def queries(first_file: Path, count: int, rng: random.Random) -> list[str]:
    with gzip.open(first_file, "rt") as stream:
        titles = [json.loads(line)["title"] for line in stream]
    found: list[str] = []
    for title in rng.sample(titles, count * 2):
        words = re.findall(r"[A-Za-z][A-Za-z\-]+", title)
        if len(words) >= 2:
            size = rng.randint(2, min(4, len(words)))
            start = rng.randint(0, len(words) - size)
            found.append(" ".join(words[start : start + size]).lower())
    return found[:count]


def cpu_ms(call: Callable[[str], object], texts: list[str]) -> dict[str, float]:
    times = []
    for text in texts:
        start = time.process_time()
        call(text)
        times.append((time.process_time() - start) * 1000)
    times.sort()
    return {"p50": round(times[len(times) // 2], 2), "p95": round(times[int(0.95 * len(times))], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="built there when empty")
    parser.add_argument("--corpus", type=Path, required=True, help="scale-NN.jsonl.gz files")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    files = [args.corpus / f"scale-{k:02d}.jsonl.gz" for k in range(args.replicas + 1)]
    index = FullTextIndex(args.index)
    built = None if index.revision else build(index, files)
    searcher = index._index.searcher()
    texts = queries(files[0], args.queries, random.Random(3))

    def exact(text: str):
        return searcher.search(index._build(parse_query(text), Filters()), limit=100, count=False)

    def flat(text: str):
        tokens = [t for w in parse_query(text).words for t in index._analyzer.analyze(w)]
        clauses = [
            (tantivy.Occur.Should, tantivy.Query.term_query(index.schema, "text", t))
            for t in dict.fromkeys(tokens)
        ]
        return searcher.search(tantivy.Query.boolean_query(clauses), limit=300, count=False)

    rows = {
        "exact top 100": cpu_ms(exact, texts),
        "exact top 100 + stored ids": cpu_ms(
            lambda t: [searcher.doc(a) for _, a in exact(t).hits], texts
        ),
        "flat text OR top 300": cpu_ms(flat, texts),
    }
    for name, row in rows.items():
        print(f"{name:28} CPU p50 {row['p50']:6.2f} ms  p95 {row['p95']:6.2f} ms")
    summary = {
        "benchmark": "fulltext_scale",
        "papers": searcher.num_docs,
        "build_s": round(built, 1) if built else None,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_ms": rows,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
