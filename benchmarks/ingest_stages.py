"""What each stage of a bulk load costs, in CPU µs a paper, measured one after another in
one process over the same papers: where the 200 µs a paper that 10,000 papers/s allows on
two cores would have to come from.

Stages: reading and inflating the listing files; parsing lines into papers; the pickle
round trip that a parsing helper process would add to carry papers across; the store
(``ingest()`` into a fresh SQLite store: rows in Python, SQLite's inserts, commits, and the
deferred indexes, also shown alone); the tantivy documents built and handed over (the
writer thread); tantivy's own threads (analysis, inverted index, commit), and the same
without the Snowball stemmer and with lower-casing alone, which says what the analysis
costs and what the inverted index costs whatever the analysis.

Usage: python benchmarks/ingest_stages.py [--data DIR] [--limit-files N]
(DIR defaults to ../shared/data/arxiv). The machine is shared: compare the stages of one
run with each other. Last line: one JSON object of µs a paper per stage.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlean
import tantivy

from paperstand.index.fulltext import (
    _FEED_HEAP,
    ANALYZER,
    MAX_TOKEN_CHARS,
    FullTextIndex,
    _document,
)
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.sources import jsonl
from paperstand.store import open_store

from _shared_data import SHARED_DATA, require


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu(work: Callable[[], object]) -> tuple[float, object]:
    start = time.thread_time()
    result = work()
    return time.thread_time() - start, result


def read_lines(files: list[Path]) -> list[list[bytes]]:
    out = []
    for path in files:
        with path.open("rb") as stream:
            out.append(list(jsonl.decompressed(stream)))
    return out


def analyzer(stem: bool = True, stopwords: bool = True) -> tantivy.TextAnalyzer:
    """The shipped English analysis (``fulltext.english_analyzer``), or parts of it."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    builder = builder.filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
    builder = builder.filter(tantivy.Filter.lowercase())
    if stopwords:
        builder = builder.filter(tantivy.Filter.stopword("english"))
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


def tantivy_cost(
    home: Path, papers: list[Paper], analysis: tantivy.TextAnalyzer
) -> tuple[float, float]:
    """(writer thread CPU, tantivy threads CPU) of indexing ``papers`` into a fresh index
    with the shipped schema and documents and ``analysis`` for title and abstract, as
    :meth:`FullTextIndex.feeding` does (one indexing thread, its heap), commit and merges
    included."""
    index = FullTextIndex(home)
    index._index.register_tokenizer(ANALYZER, analysis)
    writer = index._index.writer(heap_size=_FEED_HEAP, num_threads=1)
    process, thread = process_cpu(), time.thread_time()
    add = writer.add_document
    for paper in papers:
        add(_document(paper))
    writer.commit()
    writer.wait_merging_threads()
    own = time.thread_time() - thread
    return own, process_cpu() - process - own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "arxiv")
    parser.add_argument("--limit-files", type=int, default=None)
    args = parser.parse_args()
    require(args.data, "--data DIR", "a folder of arXiv listings-*.jsonl.gz (shared/data/arxiv)")
    files = sorted(args.data.glob("*.jsonl*"))[: args.limit_files]

    cost: dict[str, float] = {}
    seconds, chunks = thread_cpu(lambda: read_lines(files))
    cost["read + inflate"] = seconds
    parse = jsonl.parse_record
    seconds, items = thread_cpu(
        lambda: [i for c in chunks for i in jsonl.parse_lines("f", 1, c, parse)]  # type: ignore[union-attr]
    )
    papers = [i for i in items if isinstance(i, Paper)]  # type: ignore[union-attr]
    count = len(papers)
    cost["parse"] = seconds
    cost["pickle round trip (for a helper)"], _ = thread_cpu(
        lambda: pickle.loads(pickle.dumps(papers, -1))
    )
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / "store.sqlite3"
        store = open_store(f"sqlite:///{path}")
        cost["store: ingest() in all"], _ = thread_cpu(lambda: ingest(store, papers))
        store.close()
        db = sqlean.connect(str(path), isolation_level=None)
        indexes = list(
            db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN ('papers', 'paper_authors', 'paper_categories') "
                "AND name != 'papers_rev'"
            )
        )
        for name, _ in indexes:
            db.execute(f"DROP INDEX {name}")
        cost["store: of which the deferred indexes"], _ = thread_cpu(
            lambda: [db.execute(sql) for _, sql in indexes]
        )
        db.close()
        cost["tantivy: writer thread (documents)"], cost["tantivy: its threads"] = tantivy_cost(
            home / "shipped", papers, analyzer()
        )
        _, cost["tantivy: its threads, no stemmer"] = tantivy_cost(
            home / "unstemmed", papers, analyzer(stem=False)
        )
        _, cost["tantivy: its threads, words lower-cased only"] = tantivy_cost(
            home / "plain", papers, analyzer(stem=False, stopwords=False)
        )
    per = {stage: round(seconds / count * 1e6, 1) for stage, seconds in cost.items()}
    print(f"{count} papers, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for stage, micros in per.items():
        print(f"  {stage:45s} {micros:7.1f} µs a paper")
    print(json.dumps({"papers": count, "us_per_paper": per, "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
