"""HTTP load on the web face: requests/s and latency percentiles per endpoint.

Builds (or reuses, with ``--home``) a store of at least 50,000 papers from the arXiv
listings and Hugging Face daily papers of ``--data DIR`` (default ``../shared/data``),
starts ``paperstand serve`` in its own process, and drives it from a second process on
loopback: for each endpoint, ``--concurrency`` keep-alive connections send requests back to
back for ``--seconds``. Each endpoint rotates over many URLs (days, papers, queries), so the
numbers include cache misses as well as the cached pages a real daily list mostly serves.

Search queries are distinct two- and three-word queries from paper titles, so every search
request misses the response cache. The store here has no embeddings (computing 50k takes
tens of minutes on CPU), so search measures the full-text path plus fusion and store reads.

Author and category pages rotate over 3,000 first authors of random papers and every
category; before the load, each page's store query is also timed once per URL, uncached.

Usage: ``python benchmarks/http_load.py [--seconds 15] [--concurrency 16] [--home DIR]
[--data DIR] [--min-papers 118620]``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

import httpx

from _shared_data import SHARED_DATA, require

MIN_PAPERS = 50_000


def build_store(home: Path, data: Path, min_papers: int = MIN_PAPERS) -> int:
    """Ingest listing months until the store holds ``min_papers``, then the HF daily papers."""
    from paperstand.ingest import ingest
    from paperstand.settings import Settings
    from paperstand.sources import hf_daily, jsonl
    from paperstand.store import open_store

    home.mkdir(parents=True, exist_ok=True)
    store = open_store(Settings(home=home).store_url())
    try:
        for path in sorted((data / "arxiv").glob("listings-*.jsonl.gz"), reverse=True):
            if store.stats()["papers"] >= min_papers:
                break
            with gzip.open(path, "rb") as stream:
                ingest(store, jsonl.records(io.BytesIO(stream.read()), path.name))
        with (data / "hf" / "papers.jsonl").open("rb") as stream:
            ingest(store, hf_daily.records(stream, "papers.jsonl"))
        return store.stats()["papers"]
    finally:
        store.close()


def sample_urls(home: Path, rng: random.Random) -> dict[str, list[str]]:
    """URLs each endpoint rotates over: recent days, random papers, title-word queries."""
    from paperstand.settings import Settings
    from paperstand.store import open_store

    store = open_store(Settings(home=home).store_url())
    try:
        days, day = [], store.latest_day()
        while day and len(days) < 30:
            days.append(day)
            day = store.neighbour_days(day)[0]
        papers = [p for d in days for p in store.papers_on_days(d, d, limit=20)]
    finally:
        store.close()
    words = [w for p in papers for w in p.title.split() if w.isalpha() and len(w) > 3]
    queries = {" ".join(rng.sample(words, rng.choice((2, 3)))) for _ in range(6000)}
    picked = rng.sample(papers, min(300, len(papers)))
    authors, categories = author_and_category_sample(home, rng)
    return {
        "daily page": [f"/papers/date/{d}" for d in days],
        "paper page": [f"/papers/{p.id}" for p in picked],
        "/api/daily_papers": [f"/api/daily_papers?date={d}" for d in days],
        "search": [f"/api/search?q={quote_plus(q)}" for q in sorted(queries)],
        "author page": [f"/authors/{quote(a)}" for a in authors],
        "category page": [f"/categories/{quote(c)}" for c in categories],
    }


def author_and_category_sample(home: Path, rng: random.Random) -> tuple[list[str], list[str]]:
    """3,000 authors of random papers of the whole store, and every category."""
    from paperstand.settings import Settings
    from paperstand.store import open_store

    store = open_store(Settings(home=home).store_url())
    try:
        every = [p for batch in store.iter_papers(5000) for p in batch if not p.deleted]
    finally:
        store.close()
    authors = sorted({a for p in rng.sample(every, 3000) for a in p.authors[:1] if a})
    categories = sorted({c for p in every for c in p.categories})
    return authors, categories


def store_query_times(home: Path, urls: dict[str, list[str]]) -> dict[str, dict]:
    """Milliseconds the store takes for each page's query, one call per URL, no cache:
    what a page costs when it misses the response cache (its first view)."""
    from paperstand.settings import Settings
    from paperstand.store import open_store

    calls = {
        "daily page": lambda s, day: s.papers_on_days(day, day, limit=50),
        "author page": lambda s, name: s.papers_by_author(name, limit=50),
        "category page": lambda s, cat: s.papers_in_category(cat, limit=50),
    }
    found = {}
    store = open_store(Settings(home=home).store_url())
    try:
        for name, call in calls.items():
            times = []
            for url in urls[name]:
                arg = unquote(url.rsplit("/", 1)[1])
                start = time.perf_counter()
                call(store, arg)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            found[name] = {
                "queries": len(times),
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
                "max_ms": round(times[-1], 2),
            }
    finally:
        store.close()
    return found


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, url: str
) -> int:
    """One GET on a kept-alive connection; returns the status. A lean client (the server
    always sends Content-Length), so the load generator leaves the CPU to the server."""
    writer.write(f"GET {url} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(
        (
            int(line.split(":", 1)[1])
            for line in lines[1:]
            if line.lower().startswith("content-length:")
        ),
        None,
    )
    if length is None:
        raise ValueError(f"no Content-Length for {url}")
    await reader.readexactly(length)
    return status


async def _drive(base: str, urls: list[str], seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    position = 0
    host, port = base.removeprefix("http://").split(":")
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors, position
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                url = urls[position % len(urls)]
                position += 1
                started = time.perf_counter()
                try:
                    ok = await asyncio.wait_for(_get(reader, writer, host, url), 30) == 200
                except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                latencies.append(time.perf_counter() - started)
                errors += not ok
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99

    def ms(value: float) -> float:
        return round(value * 1000, 2)

    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": ms(cuts[49]),
        "p95_ms": ms(cuts[94]),
        "p99_ms": ms(cuts[98]),
        "errors": errors,
    }


def load_process(base: str, urls: list[str], seconds: float, concurrency: int, out) -> None:
    """Runs in the second process: the load generator for one endpoint."""
    out.put(asyncio.run(_drive(base, urls, seconds, concurrency)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--home", type=Path, help="store to build or reuse")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="arxiv/ and hf/ inside")
    parser.add_argument(
        "--min-papers",
        type=int,
        default=MIN_PAPERS,
        help="listing months to load (newest first) until this many papers; 118620 for all",
    )
    args = parser.parse_args()
    require(
        args.data / "hf" / "papers.jsonl",
        "--data DIR",
        "a folder holding arxiv/ and hf/papers.jsonl",
    )
    rng = random.Random(5)

    scratch = tempfile.TemporaryDirectory(prefix="paperstand-http-")
    home = args.home or Path(scratch.name)
    started = time.perf_counter()
    papers = build_store(home, args.data, args.min_papers)
    print(f"store: {papers} papers in {home} ({time.perf_counter() - started:.0f} s)", flush=True)
    urls = sample_urls(home, rng)
    queries = store_query_times(home, urls)
    for name, q in queries.items():
        print(
            f"store query, {name:14} p50 {q['p50_ms']:6.2f} ms  p95 {q['p95_ms']:6.2f} ms  "
            f"max {q['max_ms']:6.2f} ms  ({q['queries']} distinct, uncached)",
            flush=True,
        )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "paperstand"),
            "--home",
            str(home),
            "serve",
            "--port",
            str(port),
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    results: dict[str, dict] = {}
    try:
        wait_until_up(base, server)
        # The first search builds the full-text index; that is not what is measured.
        httpx.get(base + "/api/search?q=warm+up", timeout=600)
        context = multiprocessing.get_context("spawn")
        for name, endpoint_urls in urls.items():
            queue = context.Queue()
            loader = context.Process(
                target=load_process,
                args=(base, endpoint_urls, args.seconds, args.concurrency, queue),
            )
            cpu_before = cpu_seconds(server.pid)
            loader.start()
            r = results[name] = queue.get()
            loader.join()
            # Server CPU per request: what one dedicated core could serve, whatever else
            # the (shared) machine was doing meanwhile.
            cpu = cpu_seconds(server.pid) - cpu_before
            r["server_cpu_ms_per_request"] = round(cpu * 1000 / max(r["requests"], 1), 3)
            r["rps_per_server_core"] = round(r["requests"] / cpu, 1) if cpu else None
            print(
                f"{name:18} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  "
                f"p95 {r['p95_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                f"errors {r['errors']}  ({r['requests']} requests; server "
                f"{r['server_cpu_ms_per_request']} ms CPU each = {r['rps_per_server_core']} "
                "req/s per core)",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        scratch.cleanup()
    summary = {
        "benchmark": "http_load",
        "papers": papers,
        "seconds_per_endpoint": args.seconds,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        # The development machines are shared: a high load means other work competed.
        "load_average_1min": round(os.getloadavg()[0], 2),
        "endpoints": results,
        "store_queries": queries,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
