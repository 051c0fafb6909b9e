"""``paperstand digest ...`` and ``paperstand mail test`` as real processes: the CLI, two
senders at once, and a sender killed with SIGKILL mid-send, then run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from paperstand.store import Store
from tests.digest.conftest import DAY
from tests.smtpserver import Inbox

MAIN = "import sys; from paperstand.cli import main; sys.argv[0] = 'paperstand'; main()"


def command(store: Store, home: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", MAIN, "--home", str(home), "--database-url", store.url, *args]


def environment(port: int, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERSTAND_SMTP_HOST": "127.0.0.1",
        "PAPERSTAND_SMTP_PORT": str(port),
        "PAPERSTAND_SMTP_SECURITY": "none",
        "PAPERSTAND_MAIL_FROM": "digest@papers.lab.example",
        "PAPERSTAND_BASE_URL": "https://papers.lab.example",
        "PAPERSTAND_SECRET_KEY": "k" * 48,
        **more,
    }


def run(store: Store, home: Path, port: int, *args: str, **env: str):
    return subprocess.run(
        command(store, home, *args),
        capture_output=True,
        text=True,
        env=environment(port, **env),
        timeout=300,
    )


def ok(store: Store, home: Path, port: int, *args: str, **env: str) -> str:
    done = run(store, home, port, *args, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_digest_commands(papers: Store, smtp: tuple[Inbox, int], tmp_path: Path) -> None:
    inbox, port = smtp
    out = ok(papers, tmp_path, port, "digest", "subscribe", "Ada@Lab.example", "--confirmed",
             "--weekly", "--category", "cs.CL", "--author", "Zhi Hou")  # fmt: skip
    assert out.strip() == "subscribed ada@lab.example (confirmed)"
    out = ok(papers, tmp_path, port, "digest", "subscribe", "bob@lab.example")
    assert "confirmation link mailed" in out and len(inbox.to("bob@lab.example")) == 1
    ok(papers, tmp_path, port, "digest", "subscribe", "cy@lab.example", "--confirmed")

    listed = orjson.loads(ok(papers, tmp_path, port, "digest", "list", "--json"))
    assert [(s["email"], s["status"], s["weekly"]) for s in listed] == [
        ("ada@lab.example", "confirmed", True),
        ("bob@lab.example", "pending", False),
        ("cy@lab.example", "confirmed", False),
    ]
    assert listed[0]["categories"] == ["cs.CL"] and listed[0]["authors"] == ["Zhi Hou"]

    preview = ok(papers, tmp_path, port, "digest", "preview", "cy@lab.example", "--date", DAY)
    assert preview.startswith("Subject: paperstand digest, Thu 27 Mar 2025: ")
    assert "Dita: Scaling Diffusion Transformer" in preview
    html = ok(
        papers, tmp_path, port, "digest", "preview", "cy@lab.example", "--date", DAY, "--html"
    )
    assert html.startswith("Subject:") and "<html" in html

    sent = ok(papers, tmp_path, port, "digest", "send", "--date", DAY)
    assert f"day:{DAY}: 1 sent" in sent and len(inbox.to("cy@lab.example")) == 1
    ok(papers, tmp_path, port, "digest", "unsubscribe", "cy@lab.example")
    assert papers.digests.subscriber_by_email("cy@lab.example").status == "unsubscribed"

    ok(papers, tmp_path, port, "mail", "test", "root@lab.example")
    [test_mail] = inbox.to("root@lab.example")
    assert test_mail["Subject"] == "paperstand: test message"

    for args, message in [
        (("digest", "send", "--date", "2025-02-30"), "date"),
        (("digest", "subscribe", "not-an-address"), "not an email address"),
        (("digest", "unsubscribe", "nobody@lab.example"), "not subscribed"),
        (("digest", "list", "--status", "maybe"), "--status must be one of"),
        (("digest", "subscribe", "x@lab.example", "--section", "gossip"), "unknown digest section"),
    ]:
        done = run(papers, tmp_path, port, *args)
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def subscribe_many(store: Store, count: int) -> list[str]:
    emails = [f"reader{n:03d}@lab.example" for n in range(count)]
    preferences = {"weekly": False, "weekends": False, "sections": ["daily"],
                   "categories": [], "authors": [], "searches": []}  # fmt: skip
    for email in emails:
        store.digests.save_subscriber(email, "confirmed", preferences)
    return emails


def test_two_senders_at_once_send_each_digest_once(
    papers: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    emails = subscribe_many(papers, 250)
    senders = [
        subprocess.Popen(
            command(papers, tmp_path, "digest", "send", "--date", DAY),
            env=environment(port),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [sender.communicate(timeout=300) for sender in senders]
    assert [s.returncode for s in senders] == [0, 0], outputs
    assert inbox.per_recipient() == {email: 1 for email in emails}
    sent = [int(out.split(": ")[1].split(" sent")[0]) for out, _ in outputs]
    assert sum(sent) == 250
    assert all(row["status"] == "sent" for row in papers.digests.ledger(f"day:{DAY}"))


def test_a_sender_killed_mid_send_and_run_again_delivers_each_digest_once(
    papers: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    emails = subscribe_many(papers, 60)
    # Slow sending (20 messages/s) so that the kill lands in the middle; a short lease so
    # that the rerun may take over the killed sender's claims soon.
    slow = {"PAPERSTAND_DIGEST_RATE": "20", "PAPERSTAND_DIGEST_LEASE": "1",
            "PAPERSTAND_DIGEST_BACKOFF": "0.01", "PAPERSTAND_DIGEST_TRIES": "2"}  # fmt: skip
    sender = subprocess.Popen(
        command(papers, tmp_path, "digest", "send", "--date", DAY),
        env=environment(port, **slow),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(inbox.messages) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(sender.pid, signal.SIGKILL)
    sender.wait()
    before = len(inbox.messages)
    assert 10 <= before < 60, "the kill should land mid-send"

    time.sleep(1.5)  # the killed sender's lease runs out
    out = ok(papers, tmp_path, port, "digest", "send", "--date", DAY, **slow)
    assert f"day:{DAY}:" in out

    # Every subscriber holds exactly one digest: one Message-ID each. A message the server
    # took in the instant between its acceptance and the killed sender's mark comes again
    # with the same Message-ID (the documented at-least-once window): at most one.
    ids: dict[str, set[str]] = {}
    for message in inbox.messages:
        ids.setdefault(message["To"], set()).add(message["Message-ID"])
    assert {email: len(found) for email, found in ids.items()} == {e: 1 for e in emails}
    assert len(inbox.messages) - len(emails) <= 1
    ledger = papers.digests.ledger(f"day:{DAY}")
    assert len(ledger) == 60 and {row["status"] for row in ledger} == {"sent"}
