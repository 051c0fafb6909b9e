"""The web app over every storage backend (the ``store`` fixture): lists, a paper, a feed."""

from __future__ import annotations

from pathlib import Path

import feedparser
from fastapi.testclient import TestClient

from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app


def test_pages_api_and_feeds_over_each_backend(store: Store, tmp_path: Path):
    store.upsert_papers(
        [
            Paper(
                id="2503.00001",
                title="Listed only",
                authors=["Ann Lee"],
                listed="2025-03-03",
                categories=["cs.CL"],
            ),
            Paper(
                id="2503.00002",
                title="On the daily list",
                authors=["Bo Li"],
                listed="2025-03-03",
                submitted_on="2025-03-04",
                upvotes=7,
                submitted_by="bo",
                categories=["cs.LG"],
            ),
        ]
    )
    app = create_app(Settings(home=tmp_path), store=store)
    with TestClient(app) as client:
        items = client.get("/api/daily_papers").json()
        assert [i["id"] for i in items] == ["2503.00002"]  # the curated list only
        assert items[0]["upvotes"] == 7 and items[0]["submittedOnDailyBy"]["user"] == "bo"
        home = client.get("/", headers={"accept": "text/html"}).text
        assert "On the daily list" in home and "Listed only" not in home
        new = client.get("/papers/new/2025-03-03", headers={"accept": "text/html"}).text
        assert "Listed only" in new and "On the daily list" in new
        assert "Bo Li" in client.get("/papers/2503.00002", headers={"accept": "text/html"}).text
        feed = feedparser.parse(client.get("/feeds/categories/cs.CL.atom").content)
        assert [e.title for e in feed.entries] == ["Listed only"]
        before = client.get("/api/daily_papers?date=2025-03-03").json()
        store.upsert_papers(
            [Paper(id="2503.00003", title="Late", listed="2025-03-03", submitted_on="2025-03-03")]
        )
        after = client.get("/api/daily_papers?date=2025-03-03").json()
        assert len(after) == len(before) + 1  # the write invalidated the cached answer
