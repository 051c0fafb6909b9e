"""Speed of "for you": a week of new papers ranked for 1,000 readers, and one reader's feed.

    nice -n 10 python benchmarks/recs_speed.py [--data DIR] [--users 1000] [--likes 20]
                                               [--feeds 200] [--dim 384] [--against DIR]

A real SQLite store (a temporary directory) holds the last five weeks of ``DATA/arxiv``
(listing order): the last 7 days are the new papers to rank, the four weeks before them
what readers liked. ``--users`` accounts each like ``--likes`` of those earlier papers
(random, seeded; thumbs up, and for a tenth of them two upvotes). Vectors are random
unit vectors of ``--dim`` dimensions (384: the default MiniLM's), seeded: the model's
arithmetic costs the same whatever the values, and embedding 11,000 abstracts with MiniLM
would take hours on a loaded two-core machine.

Measured, wall and CPU seconds (the machine is shared; CPU seconds say more):

- batch: ``recommend.service.for_many`` for every reader, 50 picks each, as a digest or a
  nightly job computes them (the week's candidates and their vectors read once);
- one reader: ``recommend.service.for_you`` for ``--feeds`` random readers, each call
  as a request makes it (signals, profile, ranking); the first call, which reads the
  week's candidates into the in-memory cache, is reported apart.

``--against DIR`` (a checkout of another version, e.g. ``../../main``) also measures that
version's ``recommend`` code on the same store, in a child process with ``DIR`` first on
the import path, after this one's: the machine is shared, so the ratio of the two in one
run says more than either figure alone.

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paperstand.recommend import service
from paperstand.sources.jsonl import parse_record
from paperstand.store import open_store

from _shared_data import SHARED_DATA, require

MODEL = "bench-random"
WEEK = 7
HISTORY_DAYS = 28
SEED = 14


def last_days(data: Path, days: int) -> list[dict]:
    """The records of the last ``days`` listing days of the newest monthly files."""
    files = sorted(data.glob("listings-*.jsonl.gz"), reverse=True)
    rows: list[dict] = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines] + rows
        if len({r["listed"] for r in rows}) > days:
            break
    kept = sorted({r["listed"] for r in rows})[-days:]
    return [r for r in rows if r["listed"] >= kept[0]]


def timed(label: str, action):
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<36} {wall:8.2f} s wall {cpu:8.2f} s CPU", flush=True)
    return result, round(wall, 3), round(cpu, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "arxiv")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--likes", type=int, default=20)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--against", type=Path, help="also measure this checkout's code")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_only(args.measure, args.feeds)
        return
    rows = last_days(
        require(args.data, "--data", "a folder of arXiv listings"), WEEK + HISTORY_DAYS
    )
    papers = [parse_record(r) for r in rows]
    days = sorted({p.listed for p in papers})
    new = [p for p in papers if p.listed >= days[-WEEK]]
    old = [p for p in papers if p.listed < days[-WEEK]]
    rng = np.random.default_rng(SEED)
    vectors = rng.standard_normal((len(papers), args.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with (
        tempfile.TemporaryDirectory() as home,
        open_store(f"sqlite:///{home}/bench.sqlite3") as store,
    ):
        timed("load papers", lambda: store.upsert_papers(papers))
        timed(
            "save vectors",
            lambda: store.save_embeddings(
                MODEL, [(p.id, "h", v) for p, v in zip(papers, vectors, strict=True)]
            ),
        )
        pick = random.Random(SEED)

        def readers() -> list[int]:
            made = [
                store.accounts.add_user(f"r{n}@bench.example", f"r{n}", None).id
                for n in range(args.users)
            ]
            # Likes as onboarding picks (thumbs up), all in one transaction, and two
            # upvotes each for a tenth of the readers: both are likes to the model, and a
            # transaction per like would make the setup take longer than everything else.
            liked = {user: pick.sample(old, args.likes) for user in made}
            for user in made[: max(1, len(made) // 10)]:
                for paper in liked[user][:2]:
                    store.community.vote(user, paper.id, up=True)
            store.recs.add_feedback([(user, paper.id, 1) for user in made for paper in liked[user]])
            return made

        users, _, _ = timed(f"{args.users} readers x {args.likes} likes", readers)
        print(
            f"{len(new)} new papers ({days[-WEEK]} .. {days[-1]}), {len(old)} earlier", flush=True
        )
        ids_file = Path(home) / "users.json"
        ids_file.write_text(json.dumps(users))
        figures = measure(store, users, args.feeds)
        if args.against:
            print(f"the same with {args.against}'s code:", flush=True)
            child = subprocess.run(
                [sys.executable, __file__, "--measure", str(ids_file), "--feeds", str(args.feeds)],
                env={**os.environ, "PYTHONPATH": str(args.against.resolve())},
                capture_output=True,
                text=True,
                check=True,
            )
            print(child.stdout, end="", flush=True)
            other = json.loads(child.stdout.splitlines()[-1])
            figures["against"] = {
                "code": str(args.against),
                **other,
                "batch_cpu_ratio": round(other["batch_cpu_s"] / figures["batch_cpu_s"], 2),
                "feed_cpu_p95_ratio": round(
                    other["feed_cpu_p95_ms"] / figures["feed_cpu_p95_ms"], 2
                ),
            }
    print(
        json.dumps(
            {
                "users": args.users,
                "likes": args.likes,
                "new_papers": len(new),
                "dim": args.dim,
                **figures,
                "load_avg_1m": os.getloadavg()[0],
            }
        )
    )


def measure(store, users: list[int], feeds: int) -> dict:
    """The batch for every reader, then one feed at a time for ``feeds`` of them."""
    pick = random.Random(SEED)
    batch, batch_wall, batch_cpu = timed(
        "batch: for_many",
        lambda: service.for_many(store, MODEL, users, days=WEEK, limit=50),
    )
    assert all(len(picks) == 50 for picks in batch.values())
    service._cache = service._CandidateCache()  # the first request reads the week again
    _, cold_wall, cold_cpu = timed(
        "one reader, cold cache",
        lambda: service.for_you(store, MODEL, users[0], days=WEEK, limit=50),
    )
    walls, cpus = [], []
    for user in pick.sample(users, min(feeds, len(users))):
        wall, cpu = time.perf_counter(), time.process_time()
        found = service.for_you(store, MODEL, user, days=WEEK, limit=50)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        assert len(found.picks) == 50
    p50, p95 = np.percentile(walls, [50, 95])
    c50, c95 = np.percentile(cpus, [50, 95])
    print(
        f"one reader ({len(walls)} feeds): p50 {p50:.1f} ms, p95 {p95:.1f} ms wall; "
        f"CPU p50 {c50:.1f} ms, p95 {c95:.1f} ms",
        flush=True,
    )
    return {
        "batch_s": batch_wall,
        "batch_cpu_s": batch_cpu,
        "batch_ms_per_user_cpu": round(batch_cpu * 1000 / len(users), 2),
        "cold_feed_ms": round(cold_wall * 1000, 1),
        "cold_feed_cpu_ms": round(cold_cpu * 1000, 1),
        "feed_p50_ms": round(float(p50), 1),
        "feed_p95_ms": round(float(p95), 1),
        "feed_cpu_p50_ms": round(float(c50), 1),
        "feed_cpu_p95_ms": round(float(c95), 1),
    }


def measure_only(ids_file: Path, feeds: int) -> None:
    """The child of ``--against``: measure the code on the import path on the store beside
    ``ids_file`` (the readers' ids)."""
    users = json.loads(ids_file.read_text())
    with open_store(f"sqlite:///{ids_file.parent}/bench.sqlite3") as store:
        print(json.dumps(measure(store, users, feeds)))


if __name__ == "__main__":
    main()
