"""The store queries behind the daily, author and category pages, at full size, uncached.

Times each page's store query once per distinct URL (the 30 latest days, 3,000 first
authors of random papers, every category), in wall milliseconds and in CPU milliseconds of
this process (the machines are shared: CPU time says what a query costs whatever else ran).
As a baseline in the same run, category pages are also answered the way paperstand 0.1 did,
by scanning the JSON array of every paper (``json_each``), on the same SQLite file.

Usage: ``python benchmarks/pages.py [--home DIR] [--data DIR]``. DIR holds a store, e.g. the
one ``python benchmarks/http_load.py --home DIR --min-papers 118620`` builds; without
``--home`` the script builds that store itself once (118,620 arXiv papers plus the Hugging
Face daily papers of ``--data``, default ../shared/data) in the temporary directory and reuses
it on later runs. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from paperstand.settings import Settings
from paperstand.store import Store, open_store

from _shared_data import SHARED_DATA, require
from http_load import build_store

# paperstand 0.1's category page on SQLite: a JSON scan of every paper, newest day first.
JSON_SCAN = (
    "SELECT id FROM papers WHERE EXISTS (SELECT 1 FROM json_each(papers.categories) "
    "WHERE json_each.value = :category) AND NOT deleted "
    "ORDER BY coalesce(submitted_on, listed) DESC, id DESC LIMIT 50"
)


def timed(call: Callable[[str], object], args: list[str]) -> dict[str, float | int]:
    walls, cpus = [], []
    for arg in args:
        wall, cpu = time.perf_counter(), time.process_time()
        call(arg)
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)

    def p95(values: list[float]) -> float:
        return round(sorted(values)[int(0.95 * (len(values) - 1))], 2)

    return {
        "queries": len(args),
        "p50_ms": round(statistics.median(walls), 2),
        "p95_ms": p95(walls),
        "cpu_p50_ms": round(statistics.median(cpus), 2),
        "cpu_p95_ms": p95(cpus),
    }


def samples(store: Store, rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    days, day = [], store.latest_day()
    while day and len(days) < 30:
        days.append(day)
        day = store.neighbour_days(day)[0]
    every = [p for batch in store.iter_papers(5000) for p in batch if not p.deleted]
    authors = sorted({p.authors[0] for p in rng.sample(every, 3000) if p.authors})
    categories = sorted({c for p in every for c in p.categories})
    return days, authors, categories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a paperstand home (default: build one)")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="shared data folder")
    args = parser.parse_args()
    if args.home is None:
        args.home = Path(tempfile.gettempdir()) / "paperstand-bench-pages"
        if not (args.home / "BUILT").exists():
            require(args.data / "arxiv", "--data", "the shared data folder (arxiv/, hf/)")
            print(f"building {args.home} from {args.data} (once)", flush=True)
            build_store(args.home, args.data, min_papers=10**9)
            (args.home / "BUILT").touch()
    settings = Settings(home=args.home)
    store = open_store(settings.store_url())
    days, authors, categories = samples(store, random.Random(5))
    papers = store.stats()["papers"]
    results = {
        "daily page": timed(lambda d: store.papers_on_days(d, d, limit=50), days),
        "author page": timed(lambda a: store.papers_by_author(a, limit=50), authors),
        "category page": timed(lambda c: store.papers_in_category(c, limit=50), categories),
    }
    if store.dialect == "sqlite":
        from sqlalchemy import text

        with store.read() as conn:
            scan = text(JSON_SCAN)
            results["category page, 0.1 JSON scan"] = timed(
                lambda c: conn.execute(scan, {"category": c}).all(), categories[:40]
            )
    store.close()
    for name, r in results.items():
        print(
            f"{name:30} p50 {r['p50_ms']:8.2f} ms  p95 {r['p95_ms']:8.2f} ms  "
            f"CPU p50 {r['cpu_p50_ms']:7.2f} ms  p95 {r['cpu_p95_ms']:7.2f} ms  "
            f"({r['queries']} distinct)"
        )
    print(
        json.dumps(
            {
                "benchmark": "pages",
                "papers": papers,
                "load_average_1min": round(os.getloadavg()[0], 2),
                "queries": results,
            }
        )
    )


if __name__ == "__main__":
    main()
