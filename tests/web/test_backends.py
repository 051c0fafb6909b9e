"""The web app over every storage backend (the ``store`` fixture): lists, a paper, a feed."""

from __future__ import annotations

from pathlib import Path

import feedparser
from fastapi.testclient import TestClient

from paperstand.index.build import build_index
from paperstand.index.embeddings import get_embedder
from paperstand.index.vectors import SQLiteVecIndex
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.search_corpus import TEST_MODEL


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


def test_a_server_loads_its_search_at_start(store: Store, tmp_path: Path):
    """A server (``warm``) builds the search and loads the vector index in the background
    at start, so no request waits for it; on SQLite it also keeps the vectors in the cache
    folder for the next start. A restarted server starts from that file."""
    store.upsert_papers(
        [
            Paper(id=f"2503.{n:05d}", title=f"Paper {n} on graph {n % 3}", authors=["Ann Lee"])
            for n in range(1, 13)
        ]
    )
    settings = Settings(
        home=tmp_path, embedding_model=TEST_MODEL, vector_cache=str(tmp_path / "cache")
    )
    build_index(store, settings, embedder=get_embedder(TEST_MODEL))
    for start in ("first", "restart"):
        app = create_app(settings, store=store, warm=True)
        with TestClient(app) as client:
            app.state.warming.join()
            searcher = app.state.site._searcher
            assert searcher is not None and searcher.vectors.has_vectors(), start
            if isinstance(searcher.vectors, SQLiteVecIndex):
                assert searcher.vectors._loaded.version is not None  # loaded before any request
                assert (tmp_path / "cache" / f"{TEST_MODEL}.npz").exists()
            page = client.get("/papers/2503.00001", headers={"accept": "text/html"})
            assert page.status_code == 200 and "2503.00004" in page.text, start
    assert create_app(settings, store=store).state.site._searcher is None  # tests, CLI: lazy


def test_similar_rankings_are_kept_until_papers_change(store: Store, tmp_path: Path):
    """A paper's similar papers are ranked once per data version (each signed-in reader
    has their own cached page, not their own ranking); a new paper makes a new one."""
    store.upsert_papers(
        [
            Paper(id=f"2503.{n:05d}", title=f"Graph networks {n}", authors=["Ann Lee"])
            for n in range(1, 6)
        ]
    )
    site = create_app(Settings(home=tmp_path), store=store).state.site
    paper = store.get_paper("2503.00001")
    assert paper is not None
    first = [hit.paper.id for hit in site.similar(paper, 3)]
    assert len(first) == 3 and paper.id not in first
    version = store.data_version()
    assert site.cache.get(version, ("similar-ranking", paper.id, 3)) is not None
    assert [hit.paper.id for hit in site.similar(paper, 3)] == first
    store.upsert_papers([Paper(id="2503.00009", title="Graph networks 1", authors=["Ann Lee"])])
    assert store.data_version() != version
    assert "2503.00009" in [hit.paper.id for hit in site.similar(paper, 3)]
