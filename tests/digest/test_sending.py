"""Sending digests: the message, the ledger, weekends, SMTP failures, the schedule."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from paperstand import feeds
from paperstand.digest.sender import DigestSender
from paperstand.digest.subscriptions import Preferences, Subscriptions
from paperstand.jobs import KINDS, JobContext, load_kinds
from paperstand.mail import TemporaryMailError
from paperstand.store import Store
from paperstand.store.base import Job
from tests.digest.conftest import DAY, SATURDAY, settings_for
from tests.smtpserver import Inbox

THURSDAY = date.fromisoformat(DAY)


def subscribe(store: Store, settings, email: str, **preferences) -> None:
    Subscriptions(store, settings).subscribe(email, Preferences(**preferences), confirmed=True)


def test_the_digest_is_multipart_with_the_same_papers_in_both_parts(
    papers: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    settings = settings_for(tmp_path, port)
    subscribe(papers, settings, "ada@lab.example", categories=["cs.CL"])
    [report] = DigestSender(papers, settings).send_day(THURSDAY)
    assert (report.period, report.sent, report.due) == (f"day:{DAY}", 1, 1)

    [message] = inbox.to("ada@lab.example")
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "text/html"
    text = text_part.get_payload(decode=True).decode()
    html = html_part.get_payload(decode=True).decode()

    daily = [p for p in feeds.day_list(papers, DAY, limit=100).papers if p.submitted_on][:15]
    count = text.count("paper page: ")
    assert count > len(daily)  # the daily list, then trending and cs.CL papers of the day
    assert message["Subject"] == f"paperstand digest, Thu 27 Mar 2025: {count} papers"
    for paper in daily:
        title = " ".join(paper.title.split())
        assert title in text
        assert f"https://papers.lab.example/papers/{paper.id}" in html
        assert f"https://arxiv.org/pdf/{paper.id}" in html
    assert "▲ 31" in text and "https://github.com/RoboDita/Dita" in html  # upvotes, code
    # CSS inlined for mail clients: no style sheet left, style attributes instead.
    assert "<style" not in html and 'style="' in html and "max-width: 640px" in html

    unsubscribe = re.fullmatch(r"<(https://papers\.lab\.example/digest/unsubscribe\?token=\S+)>",
                               message["List-Unsubscribe"])  # fmt: skip
    assert unsubscribe and unsubscribe.group(1) in text and unsubscribe.group(1) in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://papers.lab.example/digest/manage?token=" in text
    assert message["Message-ID"] == papers.digests.ledger(f"day:{DAY}")[0]["message_id"]


def test_a_rerun_sends_nothing_twice_and_an_empty_digest_is_not_sent(
    papers: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    settings = settings_for(tmp_path, port)
    subscribe(papers, settings, "ada@lab.example")
    subscribe(papers, settings, "nobody@lab.example", sections=["follows"], authors=["No One"])
    first = DigestSender(papers, settings).send_day(THURSDAY)[0]
    again = DigestSender(papers, settings).send_day(THURSDAY)[0]
    assert (first.sent, first.empty) == (1, 1)
    assert (again.sent, again.already, again.empty) == (0, 1, 1)
    assert inbox.per_recipient() == {"ada@lab.example": 1}


def test_weekend_rules_and_the_weekly_digest(
    papers: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    settings = settings_for(tmp_path, port)  # weekly digests go out on Fridays (day 4)
    subscribe(papers, settings, "weekdays@lab.example")
    subscribe(papers, settings, "weekends@lab.example", weekends=True)
    subscribe(papers, settings, "weekly@lab.example", weekly=True)
    sender = DigestSender(papers, settings)
    for day in (THURSDAY, date(2025, 3, 28), date.fromisoformat(SATURDAY)):
        sender.send_day(day)
    subjects = {
        who: sorted(m["Subject"] for m in inbox.to(f"{who}@lab.example"))
        for who in ("weekdays", "weekends", "weekly")
    }
    # Friday has trending papers (of the days before) for daily readers; Saturday only
    # for those who asked for weekends; the week's digest only for the weekly reader.
    assert [s.split(":")[0] for s in subjects["weekdays"]] == [
        "paperstand digest, Fri 28 Mar 2025",
        "paperstand digest, Thu 27 Mar 2025",
    ]
    assert len(subjects["weekends"]) == 3 and "Sat 29 Mar 2025" in subjects["weekends"][1]
    [weekly] = subjects["weekly"]
    assert weekly.startswith("paperstand digest, week 2025-W13:")


def test_a_temporary_failure_is_retried(
    papers: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    inbox.busy["flaky@lab.example"] = 2
    settings = settings_for(tmp_path, port, digest_tries=3)
    subscribe(papers, settings, "flaky@lab.example")
    [report] = DigestSender(papers, settings).send_day(THURSDAY)
    assert report.sent == 1 and len(inbox.to("flaky@lab.example")) == 1
    assert inbox.busy["flaky@lab.example"] == 0  # refused twice, then taken


def test_a_lasting_temporary_failure_stops_the_run_and_a_later_run_sends(
    papers: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    inbox.busy["down@lab.example"] = 5
    settings = settings_for(tmp_path, port, digest_tries=2)
    subscribe(papers, settings, "down@lab.example")
    with pytest.raises(TemporaryMailError, match="451"):
        DigestSender(papers, settings).send_day(THURSDAY)
    assert papers.digests.ledger() == []  # the claim was given back
    inbox.busy["down@lab.example"] = 0
    assert DigestSender(papers, settings).send_day(THURSDAY)[0].sent == 1
    assert len(inbox.to("down@lab.example")) == 1


def test_a_permanent_failure_stops_mail_to_that_address(
    papers: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    inbox.refuse["gone@lab.example"] = "550 5.1.1 no such mailbox"
    settings = settings_for(tmp_path, port)
    subscribe(papers, settings, "gone@lab.example")
    subscribe(papers, settings, "ada@lab.example")
    [report] = DigestSender(papers, settings).send_day(THURSDAY)
    assert (report.sent, report.refused) == (1, 1)
    gone = papers.digests.subscriber_by_email("gone@lab.example")
    assert gone.status == "bounced" and "550 5.1.1 no such mailbox" in gone.problem
    assert [s.email for s in papers.digests.subscribers(status="bounced")] == ["gone@lab.example"]

    inbox.recipients_tried.clear()
    DigestSender(papers, settings).send_day(date(2025, 3, 28))
    assert inbox.recipients_tried == ["ada@lab.example"]


CATEGORIES = ["cs.CV", "cs.CL", "cs.LG", "cs.AI"]


def test_the_schedule_ingests_then_sends_and_catches_up_missed_days(
    store: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    settings = settings_for(tmp_path, port)
    load_kinds(settings)
    # Only arXiv listings are ingested, so the curated list and trending stay empty: the
    # digests hold the followed categories' new papers, and days without any send nothing.
    subscribe(store, settings, "ada@lab.example", weekends=True, categories=CATEGORIES)
    listing = tmp_path / "listing.jsonl"
    from tests.digest.conftest import listing_of

    listing.write_bytes(listing_of(DAY) + listing_of("2025-03-28"))
    params = {"hour": 7, "ingest": [{"kind": "ingest-jsonl", "params": {"files": [str(listing)]}}]}

    def run(slot: str) -> dict:
        job = Job(1, "digest", {**params, "slot": slot}, None, "running", 1, 3, "w", slot,
                  slot, slot, None, None, None)  # fmt: skip
        return KINDS["digest"].run(JobContext(job, store, settings))

    assert run("2025-03-27T06:00:00Z") == {"days": {}}  # before the hour: nothing yet
    assert list(run("2025-03-27T07:00:00Z")["days"]) == [DAY]
    assert run("2025-03-27T08:00:00Z") == {"days": {}}  # that day is finished
    # Worker down on Friday and Saturday: Sunday's run catches both up, then Sunday.
    assert list(run("2025-03-30T09:00:00Z")["days"]) == ["2025-03-28", SATURDAY, "2025-03-30"]
    subjects = sorted(m["Subject"].split(":")[0] for m in inbox.to("ada@lab.example"))
    assert subjects == ["paperstand digest, Fri 28 Mar 2025", "paperstand digest, Thu 27 Mar 2025"]
    assert store.count_on_days(DAY, "2025-03-28") > 100  # the ingest step ran


def test_a_mark_renews_the_senders_other_leases_only_when_asked(store: Store) -> None:
    preferences = Preferences().to_dict()
    subscribers = [
        store.digests.save_subscriber(f"r{n}@lab.example", "confirmed", preferences)
        for n in range(3)
    ]
    ids = {s.id: f"<{s.id}@lab.example>" for s in subscribers}
    period = f"day:{DAY}"
    assert len(store.digests.claim(period, ids, subscribers, "w1", lease=60)) == 3

    def leases() -> dict[int, str]:
        return {row["subscriber_id"]: row["lease_until"] for row in store.digests.ledger(period)}

    claimed = leases()
    first, second, third = (s.id for s in subscribers)
    assert store.digests.mark_sent(first, period, "w1")
    assert leases() == claimed  # a plain mark leaves the other rows' leases alone
    assert store.digests.mark_sent(second, period, "w1", renew=3600)
    assert leases()[third] > claimed[third]  # renewed with the mark
    assert not store.digests.mark_sent(third, period, "w2")  # not that sender's row
    assert [row["status"] for row in store.digests.ledger(period)] == ["sent", "sent", "sending"]
