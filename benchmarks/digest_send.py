"""Digest sending at scale: 10,000 confirmed subscribers with varied sections and follows,
composed and delivered to a local aiosmtpd server (in its own process) through the send
ledger, as ``paperstand digest send`` does, by ``--senders`` processes at once (as when
``paperstand digest send`` runs on several workers: the ledger shares the run out).

Papers: the real Hugging Face daily list and arXiv listing of 2025-03-27 from ``tests/data``
(no shared data needed). Prints messages/s, total seconds, CPU seconds of the sender and of
the SMTP server, duplicates and missing (both must be 0), and, as a baseline measured in the
same run, composing alone (no ledger, no SMTP). Last line: one JSON object.

    .venv/bin/python benchmarks/digest_send.py [--subscribers 10000] [--senders 2]
        [--database-url URL]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paperstand.digest.content import Contents, Period  # noqa: E402
from paperstand.digest.sender import DigestSender  # noqa: E402
from paperstand.ingest import ingest  # noqa: E402
from paperstand.settings import Settings  # noqa: E402
from paperstand.sources import hf_daily, jsonl  # noqa: E402
from paperstand.store import Store, open_store  # noqa: E402
from tests.smtpserver import free_port  # noqa: E402

DAY = "2025-03-27"
DATA = ROOT / "tests" / "data"


def smtp_process(port: int, conn: Connection) -> None:
    """An aiosmtpd server counting messages per recipient until asked for the counts."""
    from aiosmtpd.controller import Controller

    class Count:
        def __init__(self) -> None:
            self.received: Counter[str] = Counter()

        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
            for address in envelope.rcpt_tos:
                self.received[address] += 1
            return "250 OK"

    handler = Count()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    conn.send("ready")
    conn.recv()
    cpu = psutil.Process().cpu_times()
    conn.send((dict(handler.received), cpu.user + cpu.system))
    controller.stop()


def sender_process(url: str, settings: Settings, conn: Connection) -> None:
    """One sender with its own store connection, as a separate ``paperstand digest send``;
    sends back its report and the CPU seconds it used sending."""
    store = open_store(url)
    me = psutil.Process()
    before = sum(me.cpu_times()[:2])
    sender = DigestSender(store, settings, search=lambda query, period: [])
    [report] = sender.send_day(date.fromisoformat(DAY))
    conn.send((report.to_dict(), sum(me.cpu_times()[:2]) - before))
    store.close()


def load_papers(store: Store) -> None:
    with (DATA / "hf" / "responses" / f"{DAY}.json").open("rb") as stream:
        ingest(store, hf_daily.records(stream, "hf"))
    with gzip.open(DATA / "arxiv" / "listings-2025-03.jsonl.gz", "rb") as stream:
        lines = b"".join(line for line in stream if orjson.loads(line)["listed"] == DAY)
    ingest(store, jsonl.records(io.BytesIO(lines), "listing"))


def subscribe(store: Store, count: int) -> list[str]:
    """Varied subscribers: the daily list and trending, follows alone (categories and
    authors of the day), or everything; every one has something to read that day."""
    papers = store.papers_on_days(DAY, DAY, limit=5000)
    categories = sorted({c for p in papers for c in p.categories})
    popular = [
        c for c, _ in Counter(p.categories[0] for p in papers if p.categories).most_common(8)
    ]
    authors = sorted({a for p in papers for a in p.authors})
    rng = random.Random(13)
    emails = []
    for n in range(count):
        kind = n % 3
        follows = {
            "categories": [rng.choice(popular)] + rng.sample(categories, rng.randint(0, 3)),
            "authors": rng.sample(authors, rng.randint(0, 4)),
        }
        preferences = {
            "weekly": False,
            "weekends": False,
            "sections": [["daily", "trending"], ["follows"], ["daily", "trending", "follows"]][
                kind
            ],
            "categories": follows["categories"] if kind else [],
            "authors": follows["authors"] if kind else [],
            "searches": [],
        }
        email = f"reader{n:05d}@bench.example"
        store.digests.save_subscriber(email, "confirmed", preferences)
        emails.append(email)
    return emails


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=2, help="sender processes at once")
    parser.add_argument("--database-url", default="", help="postgresql://... (default: SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        port = free_port()
        settings = Settings(
            home=Path(home),
            database_url=args.database_url,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            mail_from="digest@bench.example",
            base_url="https://papers.bench.example",
            secret_key="b" * 48,
        )
        store = open_store(settings.store_url())
        load_papers(store)
        emails = subscribe(store, args.subscribers)
        subscribers = store.digests.subscribers(status="confirmed")
        print(f"{len(emails)} confirmed subscribers, store {store.where}", file=sys.stderr)

        ours, theirs = multiprocessing.Pipe()
        server = multiprocessing.Process(target=smtp_process, args=(port, theirs), daemon=True)
        server.start()
        assert ours.recv() == "ready"

        # Baseline: composing alone, every message, no ledger and no SMTP.
        sender = DigestSender(store, settings, search=lambda query, period: [])
        began = time.perf_counter()
        contents = Contents(store, settings, Period.day(date.fromisoformat(DAY)), sender.search)
        for s in subscribers:
            sender.composer.message(
                s.email, contents.digest_for(s), sender.links(s), "<x@bench.example>"
            )
        compose_seconds = time.perf_counter() - began

        pipes = [multiprocessing.Pipe() for _ in range(args.senders)]
        senders = [
            multiprocessing.Process(target=sender_process, args=(store.url, settings, theirs))
            for _, theirs in pipes
        ]
        began = time.perf_counter()
        for process in senders:
            process.start()
        results = [mine.recv() for mine, _ in pipes]
        seconds = time.perf_counter() - began
        for process in senders:
            process.join()
        cpu_seconds = sum(cpu for _, cpu in results)
        report = {key: sum(r[key] for r, _ in results) for key in ("sent", "empty", "refused")}

        ours.send("report")
        received, server_cpu = ours.recv()
        server.join(timeout=30)
        store.close()

    duplicates = sum(count - 1 for count in received.values() if count > 1)
    missing = sum(1 for email in emails if email not in received)
    rate = len(emails) / seconds
    print(f"messages:          {sum(received.values())} to {len(received)} recipients")
    print(f"sent:              {report['sent']} by {args.senders} senders "
          f"(empty {report['empty']}, refused {report['refused']})")  # fmt: skip
    print(f"total seconds:     {seconds:.1f}")
    print(f"messages/s:        {rate:.0f}")
    print(f"sender CPU s:      {cpu_seconds:.1f} ({len(emails) / cpu_seconds:.0f} messages/CPU-s)")
    print(f"SMTP server CPU s: {server_cpu:.1f}")
    print(f"baseline, composing alone: {compose_seconds:.1f} s "
          f"({len(emails) / compose_seconds:.0f} messages/s)")  # fmt: skip
    print(f"duplicates:        {duplicates}")
    print(f"missing:           {missing}")
    print(
        json.dumps(
            {
                "subscribers": len(emails),
                "senders": args.senders,
                "seconds": round(seconds, 2),
                "messages_per_s": round(rate, 1),
                "cpu_seconds": round(cpu_seconds, 2),
                "smtp_server_cpu_seconds": round(server_cpu, 2),
                "compose_only_seconds": round(compose_seconds, 2),
                "duplicates": duplicates,
                "missing": missing,
            }
        )
    )


if __name__ == "__main__":
    main()
