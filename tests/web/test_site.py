"""What a page keeps between requests (``Site.known``): the facts only a write changes, such
as whether there is a topic map and which author names have claims, on both backends. Each
test writes through the store, as another process would, and reads the page again."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from paperstand.accounts.service import Accounts
from paperstand.ingest import ingest
from paperstand.models import TopicCluster, TopicPoint
from paperstand.settings import Settings
from paperstand.sources import jsonl
from paperstand.store import Store
from paperstand.web.app import create_app
from paperstand.web.site import Site

AUTHOR = "Zoë Ångström"


def load(store: Store) -> None:
    lines = b"".join(
        orjson.dumps(
            {
                "id": f"2604.0000{n}",
                "title": f"Paper {n}",
                "authors": [AUTHOR, "Bo Sample"],
                "categories": ["cs.CL"],
                "abstract": "An abstract.",
                "published": "2026-04-01",
                "listed": "2026-04-02",
            }
        )
        + b"\n"
        for n in (1, 2)
    )
    report = ingest(store, jsonl.records(io.BytesIO(lines), "listings"))
    assert report.error is None and report.written.added == 2


def test_known_is_computed_once_until_the_next_write(store: Store, tmp_path: Path) -> None:
    load(store)
    site = Site(settings=Settings(home=tmp_path), store=store)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert site.known("fact", compute) == 1
    assert site.known("fact", compute) == 1
    store.upsert_papers([store.get_paper("2604.00001")])  # unchanged: no write, no bump
    assert site.known("fact", compute) == 1
    store.topics.replace_map("m", [], [])  # a write
    assert site.known("fact", compute) == 2 and len(calls) == 2


def test_topic_badges_appear_once_a_map_is_made(store: Store, tmp_path: Path) -> None:
    load(store)
    with TestClient(create_app(Settings(home=tmp_path), store=store)) as client:
        assert "topic-badge" not in client.get("/categories/cs.CL").text
        cluster = TopicCluster(3, "parsing things", ["parsing"], 0.5, 0.5, [1.0, 0.0])
        store.topics.replace_map("m", [cluster], [TopicPoint("2604.00001", 3, 0.5, 0.5)])
        page = client.get("/categories/cs.CL").text
        assert page.count('class="topic-badge" href="/topics/3"') == 1
        assert "parsing things" in client.get("/authors/Bo Sample").text
        store.topics.replace_map("m", [], [])
        assert "topic-badge" not in client.get("/authors/Bo Sample").text


def test_claims_show_on_the_author_page_once_approved(store: Store, tmp_path: Path) -> None:
    load(store)
    settings = Settings(home=tmp_path)
    with TestClient(create_app(settings, store=store)) as client:
        # Seen before any claim: the page (and what it knows of claims) is kept...
        assert "claimant" not in client.get("/authors/zoe angstrom").text
        ada = Accounts(store, settings).create("ada@lab.example", name="ada", password="x" * 12)
        claim = store.follows.claim(ada.id, "2604.00002", AUTHOR)
        assert "claimant" not in client.get("/authors/zoe angstrom").text  # pending
        # ...until the approval, a write of another process as far as the web app knows.
        store.follows.decide(claim.id, approve=True)
        page = client.get("/authors/zoe angstrom").text
        assert 'is <span class="claimant">ada</span> here' in page
        assert "claimant" not in client.get("/authors/Bo Sample").text
        store.follows.hide_from_author(ada.id, AUTHOR, "2604.00001", True)
        assert "Paper 1" not in client.get("/authors/zoe angstrom").text
        assert "Paper 1" in client.get("/authors/Bo Sample").text
