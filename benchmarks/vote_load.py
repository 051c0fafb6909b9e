"""Votes under load: many accounts upvoting, taking votes back and reading, all at once;
then every stored count is checked against the votes the server acknowledged.

Builds a store in a temporary home (``--papers`` papers on one curated day, ``--clients``
accounts with an API token each, made up front), starts ``paperstand serve`` in its own
process and drives it from this one over loopback for ``--seconds``: each client keeps one
connection and, back to back, picks a random paper and either reads it
(``GET /api/papers/{id}``, one request in ``--read-share``) or toggles its vote (``POST``
when it has none, ``DELETE`` when it has one). A vote is *acknowledged* when the server
answered 200 with ``upvoted``; a client whose request failed forgets what it knew about
that paper (the vote may or may not have been made), and the check leaves that pair out.

Afterwards, for every paper: ``lost`` counts acknowledged votes the store does not hold,
``duplicated`` stored votes beyond the acknowledged ones (both summed over papers), read
in the store and through ``GET /api/papers/{id}``. Rate limits stay on, counted in the
store as in production, with limits high enough not to refuse this load (the named
limits' cost is part of what is measured).

Usage: ``python benchmarks/vote_load.py [--clients 200] [--seconds 20] [--papers 20]
[--workers 1] [--database-url postgresql://...]``. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from http_load import cpu_seconds, free_port, wait_until_up

DAY = "2026-04-30"
HIGH_LIMIT = "1000000/minute"


def prepare(home: Path, database_url: str, clients: int, papers: int) -> tuple[list[str], list]:
    """Papers on one curated day and ``clients`` accounts with a token each (no passwords:
    hashing 200 of them with argon2 would take a minute and measure nothing)."""
    from paperstand.accounts.service import Accounts
    from paperstand.models import Paper
    from paperstand.settings import Settings
    from paperstand.store import open_store

    settings = Settings(home=home, database_url=database_url)
    with open_store(settings.store_url()) as store:
        ids = [f"2604.{n:05d}" for n in range(1, papers + 1)]
        store.upsert_papers(
            [
                Paper(id=pid, title=f"Paper {pid}", submitted_on=DAY, upvotes=n % 7)
                for n, pid in enumerate(ids)
            ]
        )
        accounts = Accounts(store, settings)
        tokens = []
        for n in range(clients):
            user = accounts.create(f"voter{n}@example.org", name=f"voter{n}")
            tokens.append(accounts.new_api_token(user, "vote_load")[1])
    return ids, tokens


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    # (client, paper) -> upvoted as last acknowledged; pairs in doubt are removed.
    state: dict[tuple[int, str], bool] = field(default_factory=dict)
    doubtful: set[tuple[int, str]] = field(default_factory=set)


async def _request(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: str,
    path: str,
    token: str,
) -> tuple[int, dict]:
    """One request on a kept-alive connection: the status and the JSON body."""
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        "Content-Length: 0\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(
        int(line.split(":", 1)[1])
        for line in lines[1:]
        if line.lower().startswith("content-length:")
    )
    body = await reader.readexactly(length)
    return status, json.loads(body) if body else {}


async def drive(
    port: int, tokens: list[str], ids: list[str], seconds: float, read_share: float
) -> tuple[Tally, float]:
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def client(number: int) -> None:
        rng = random.Random(number)
        token = tokens[number]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                paper = rng.choice(ids)
                pair = (number, paper)
                if rng.random() < read_share:
                    method, path = "GET", f"/api/papers/{paper}"
                else:
                    method = "DELETE" if tally.state.get(pair) else "POST"
                    path = f"/api/papers/{paper}/upvote"
                started = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(
                        _request(reader, writer, method, path, token), 30
                    )
                except (
                    OSError,
                    ValueError,
                    StopIteration,
                    asyncio.IncompleteReadError,
                    TimeoutError,
                ):
                    status, body = 0, {}
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                tally.latencies.append(time.perf_counter() - started)
                tally.requests += 1
                if status != 200:
                    tally.errors += 1
                    if method != "GET":
                        tally.state.pop(pair, None)
                        tally.doubtful.add(pair)
                elif method != "GET":
                    # Known again: the answer says how the vote stands now.
                    tally.state[pair] = bool(body["upvoted"])
                    tally.doubtful.discard(pair)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(len(tokens))))
    return tally, time.perf_counter() - started


def check(
    tally: Tally, stored: dict[str, int], doubtful_papers: set[str], ids: list[str]
) -> tuple[int, int]:
    """Lost and duplicated votes over the papers without a vote in doubt."""
    expected = dict.fromkeys(ids, 0)
    for (_, paper), upvoted in tally.state.items():
        expected[paper] += upvoted
    lost = duplicated = 0
    for paper in ids:
        if paper in doubtful_papers:
            continue
        difference = stored.get(paper, 0) - expected[paper]
        lost += max(-difference, 0)
        duplicated += max(difference, 0)
    return lost, duplicated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--read-share", type=float, default=0.2)
    parser.add_argument("--database-url", default="", help="PostgreSQL (default: SQLite)")
    args = parser.parse_args()

    scratch = tempfile.TemporaryDirectory(prefix="paperstand-votes-")
    home = Path(scratch.name)
    started = time.perf_counter()
    ids, tokens = prepare(home, args.database_url, args.clients, args.papers)
    backend = "postgresql" if args.database_url else "sqlite"
    print(
        f"{backend}: {len(ids)} papers, {len(tokens)} accounts with tokens "
        f"({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": args.database_url,
        "PAPERSTAND_RATE_VOTE": HIGH_LIMIT,
        "PAPERSTAND_RATE_VOTE_IP": HIGH_LIMIT,
    }
    command = [str(Path(sys.executable).parent / "paperstand"), "--home", str(home), "serve"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(args.workers)], env=env
    )
    try:
        # A loaded machine takes a while to import the app in each server process.
        wait_until_up(f"http://127.0.0.1:{port}", server, timeout=600)
        import psutil

        processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children()]
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        own_before = time.process_time()  # the drive's own, not making the accounts
        # uvloop (the server's loop too): the load generator shares the machine's cores
        # with the server; on it the drive costs ~0.2 ms of CPU a request (asyncio's own
        # loop: ~0.4 ms, docs/benchmarks.md).
        tally, elapsed = uvloop.run(drive(port, tokens, ids, args.seconds, args.read_share))
        server_cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
        own_cpu = time.process_time() - own_before
        counts_api = _api_counts(port, tokens[0], ids)
    finally:
        server.terminate()
        server.wait(timeout=30)

    from paperstand.settings import Settings
    from paperstand.store import open_store

    with open_store(Settings(home=home, database_url=args.database_url).store_url()) as store:
        stored = store.community.vote_counts()
    scratch.cleanup()
    doubtful_papers = {paper for _, paper in tally.doubtful}
    lost, duplicated = check(tally, stored, doubtful_papers, ids)
    api_lost, api_duplicated = check(tally, counts_api, doubtful_papers, ids)
    cuts = statistics.quantiles(tally.latencies, n=100)
    rps = tally.requests / elapsed
    summary = {
        "benchmark": "vote_load",
        "backend": backend,
        "clients": len(tokens),
        "papers": len(ids),
        "server_workers": args.workers,
        "seconds": round(elapsed, 1),
        "requests": tally.requests,
        "requests_per_s": round(rps, 1),
        "requests_per_server_cpu_s": round(tally.requests / server_cpu, 1) if server_cpu else None,
        "client_cpu_s": round(own_cpu, 1),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "votes_acknowledged": sum(tally.state.values()),
        "errors": tally.errors,
        "lost": lost,
        "duplicated": duplicated,
        "lost_via_api": api_lost,
        "duplicated_via_api": api_duplicated,
        "papers_in_doubt": len(doubtful_papers),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(
        f"{tally.requests} requests in {elapsed:.1f} s: {rps:.1f} requests/s "
        f"({summary['requests_per_server_cpu_s']} per server CPU-second), "
        f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms",
        flush=True,
    )
    print(
        f"errors {tally.errors}, lost {lost}, duplicated {duplicated} "
        f"(through the API: lost {api_lost}, duplicated {api_duplicated}); "
        f"{summary['votes_acknowledged']} votes standing",
        flush=True,
    )
    print(json.dumps(summary))


def _api_counts(port: int, token: str, ids: list[str]) -> dict[str, int]:
    """Local votes per paper as ``GET /api/papers/{id}`` tells them (``upvotes`` minus the
    imported Hugging Face count, which it reports apart)."""
    import httpx

    counts = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        for pid in ids:
            body = http.get(f"/api/papers/{pid}").json()
            counts[pid] = body["upvotes"] - body["hfUpvotes"]
    return counts


if __name__ == "__main__":
    main()
