"""Reading lists at size: import a 2,000-entry BibTeX file, then render a 2,000-paper list.

Builds a SQLite store in a temporary directory from real arXiv listings (the shared data's
``arxiv/listings-*.jsonl.gz``), writes a BibTeX file of 2,000 of those papers (as
paperstand's own ``.bib`` export writes them: ``@misc`` with ``eprint``), and times:

- the import of that file into a new list (BibTeX parsing, resolving, one transaction),
  in wall seconds and CPU seconds of this process;
- the list's page over HTTP (in-process ASGI client), uncached (the response cache is
  emptied before each request), as a visitor sees the public list and as its owner sees it
  (with the Up, Down and Remove buttons and the Note link of every paper): p50/p95 over
  repeated renders, wall and CPU milliseconds.

The machine may be shared: CPU time says what the work costs whatever else ran.

Usage: ``python benchmarks/library.py [--data DIR] [--entries 2000] [--renders 40]``.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from paperstand import bibtex, library
from paperstand.accounts.service import Accounts
from paperstand.settings import Settings
from paperstand.sources.jsonl import parse_record
from paperstand.store import open_store
from paperstand.web.app import create_app
from paperstand.web.auth import SESSION_COOKIE
from paperstand.web.cache import ResponseCache

from _shared_data import SHARED_DATA, require


def load_papers(data: Path, count: int) -> list:
    """The first ``count`` papers of the listings, oldest listing first."""
    papers = []
    for path in sorted((data / "arxiv").glob("listings-*.jsonl.gz")):
        with gzip.open(path, "rb") as lines:
            for line in islice(lines, count - len(papers)):
                papers.append(parse_record(orjson.loads(line)))
        if len(papers) >= count:
            break
    return papers


def timed(call: Callable[[], object], times: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(times):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)

    def p95(values: list[float]) -> float:
        return round(sorted(values)[int(0.95 * (len(values) - 1))], 1)

    return {
        "renders": times,
        "p50_ms": round(statistics.median(walls), 1),
        "p95_ms": p95(walls),
        "cpu_p50_ms": round(statistics.median(cpus), 1),
        "cpu_p95_ms": p95(cpus),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared data set")
    parser.add_argument("--entries", type=int, default=2000, help="BibTeX entries to import")
    parser.add_argument("--renders", type=int, default=40, help="renders of each page")
    args = parser.parse_args()
    require(args.data / "arxiv", "--data", "a copy of the shared data set")

    with tempfile.TemporaryDirectory(prefix="paperstand-library-") as home:
        settings = Settings(home=Path(home), search_fetch_missing=False)
        store = open_store(settings.store_url())
        # Twice the papers the file names, so the import resolves among others too.
        papers = load_papers(args.data, args.entries * 2)
        store.upsert_papers(papers)
        chosen = papers[::2][: args.entries]
        text = bibtex.entries(chosen)
        print(
            f"store: {len(papers):,} papers; BibTeX file: {len(chosen):,} entries, "
            f"{len(text) / 1e6:.2f} MB"
        )

        accounts = Accounts(store, settings)
        session = accounts.sign_up("bench@lab.example", "correct horse battery", "bench")
        made = library.create_list(store, session.user.id, "Everything", "The benchmark's list")
        wall, cpu = time.perf_counter(), time.process_time()
        report = library.import_references(store, session.user.id, made.id, bibtex=text)
        import_wall, import_cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert report.added == len(chosen) and not report.problems, report.to_dict()
        print(f"import: {report.added:,} papers in {import_wall:.2f} s ({import_cpu:.2f} CPU s)")
        library.update_list(store, session.user.id, made.id, public=True)

        app = create_app(settings, store)
        site = app.state.site
        path = f"/lists/{made.id}"

        def render(client: TestClient) -> Callable[[], None]:
            def once() -> None:
                site.cache = ResponseCache()
                answer = client.get(path, headers={"Accept": "text/html"})
                assert answer.status_code == 200 and answer.text.count('class="item"') == len(
                    chosen
                )

            return once

        with TestClient(app) as visitor, TestClient(app) as owner:
            owner.cookies.set(SESSION_COOKIE, app.state.auth.signer.sign(session.token).decode())
            render(visitor)()  # warm: templates compiled, connections open
            visitor_page = timed(render(visitor), args.renders)
            render(owner)()
            owner_page = timed(render(owner), args.renders)
            size = len(visitor.get(path).content)
        store.close()

    for name, result in (("visitor", visitor_page), ("owner", owner_page)):
        print(
            f"{len(chosen):,}-paper list page ({name}): p50 {result['p50_ms']} ms, "
            f"p95 {result['p95_ms']} ms (CPU p50 {result['cpu_p50_ms']} ms, "
            f"p95 {result['cpu_p95_ms']} ms)"
        )
    print(
        json.dumps(
            {
                "entries": len(chosen),
                "import_s": round(import_wall, 3),
                "import_cpu_s": round(import_cpu, 3),
                "page_bytes": size,
                "visitor_page": visitor_page,
                "owner_page": owner_page,
            }
        )
    )


if __name__ == "__main__":
    main()
