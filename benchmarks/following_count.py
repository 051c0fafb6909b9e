"""The header's count of new papers of an account's follows, which every page of a signed-in
visitor shows: what a page pays (``Site.following_count``, kept under the data version and
the follows' state) and what counting costs once after an ingest (``follows.unseen_count``),
against one small query (``store.data_version()``) as a baseline in the same run.

Loads the demo's arXiv listings (``demo/arxiv-2026-04.jsonl.gz``) into a fresh SQLite store
in a temporary directory, marks every follow as seen up to the first half of the papers (so
the second half is new), for an account following the 10 most prolific authors and the 5
largest categories (no saved searches), and prints wall and CPU milliseconds of this process
(the machine is shared: CPU time and the ratios say what it costs whatever else ran). Last
line: one JSON object.

Usage: ``python benchmarks/following_count.py [--repeat 200]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import update

from paperstand import follows
from paperstand.ingest import ingest
from paperstand.settings import Settings
from paperstand.sources import jsonl
from paperstand.store import open_store
from paperstand.store.follows import follows as follows_table
from paperstand.web.site import Site

DEMO = Path(__file__).resolve().parents[1] / "demo" / "arxiv-2026-04.jsonl.gz"


def timed(call: Callable[[], object], repeat: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return {
        "p50_ms": round(statistics.median(walls), 3),
        "p95_ms": round(sorted(walls)[int(0.95 * (len(walls) - 1))], 3),
        "cpu_p50_ms": round(statistics.median(cpus), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        store = open_store(f"sqlite:///{home}/paperstand.sqlite3")
        with gzip.open(DEMO, "rb") as stream:
            report = ingest(store, jsonl.records(stream, str(DEMO)))
        papers = [p for batch in store.iter_papers(5000) for p in batch]
        authors = Counter(a for p in papers for a in p.authors).most_common(10)
        categories = Counter(c for p in papers for c in p.categories).most_common(5)
        user = store.accounts.add_user("bench@lab.example", "bench", None)
        for name, _ in authors:
            follows.follow(store, user.id, "author", name)
        for category, _ in categories:
            follows.follow(store, user.id, "category", category)
        half = len(papers) // 2
        with store.follows.write() as conn:
            conn.execute(update(follows_table).values(seen_pk=half, since_pk=half))
        site = Site(settings=Settings(home=Path(home)), store=store)
        count = site.following_count(user.id)
        counting = timed(lambda: follows.unseen_count(store, user.id), args.repeat)
        page = timed(lambda: site.following_count(user.id), args.repeat)
        baseline = timed(store.data_version, args.repeat)
        store.close()
    result = {
        "papers": report.written.added,
        "follows": len(authors) + len(categories),
        "new_papers_counted": count,
        "per_page": page,
        "counting_after_an_ingest": counting,
        "baseline_one_query": baseline,
        "page_cpu_ratio_to_one_query": round(page["cpu_p50_ms"] / baseline["cpu_p50_ms"], 1),
        "counting_cpu_ratio_to_one_query": round(
            counting["cpu_p50_ms"] / baseline["cpu_p50_ms"], 1
        ),
    }
    print(f"{result['papers']} papers, {result['follows']} follows, {count} new")
    for name in ("per_page", "counting_after_an_ingest", "baseline_one_query"):
        print(f"{name}: p50 {result[name]['p50_ms']} ms (CPU {result[name]['cpu_p50_ms']} ms)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
