"""Server mode end to end: real papers ingested into PostgreSQL, the index built (tantivy
full text + pgvector embeddings), then the search service and the web API on top of it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperstand.index.build import build_index
from paperstand.index.embeddings import get_embedder
from paperstand.index.pgvector import PgVectorIndex
from paperstand.ingest import ingest
from paperstand.search import Searcher
from paperstand.settings import Settings
from paperstand.sources import jsonl
from paperstand.store import Store, open_store
from paperstand.web.app import create_app
from tests.conftest import DATA

MODEL = "static-64"  # the fast model: building stays a matter of seconds


@pytest.fixture
def server_store(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Store, Settings]]:
    settings = Settings(
        home=tmp_path, database_url=postgres_url, embedding_model=MODEL, search_fetch_missing=False
    )
    store = open_store(settings.store_url())
    with (DATA / "arxiv" / "listings-2025-03.jsonl.gz").open("rb") as stream:
        records = itertools.islice(jsonl.records(stream, "listings"), 600)
        assert ingest(store, records).written.added == 600
    build_index(store, settings, embedder=get_embedder(MODEL))
    try:
        yield store, settings
    finally:
        store.close()


def test_search_and_similar_papers_on_postgresql(server_store: tuple[Store, Settings]) -> None:
    store, settings = server_store
    searcher = Searcher(store, settings)
    assert isinstance(searcher.vectors, PgVectorIndex)
    assert store.embedding_counts() == {MODEL: 600}
    paper = next(iter(store.iter_papers(batch_size=1)))[0]
    result = searcher.search(paper.title)
    assert result.hits[0].paper.id == paper.id
    similar = searcher.similar(paper.id, limit=5)
    assert len(similar) == 5 and paper.id not in {hit.paper.id for hit in similar}
    scores = [hit.score for hit in similar]
    assert scores == sorted(scores, reverse=True)


def test_the_web_api_serves_a_postgresql_store(server_store: tuple[Store, Settings]) -> None:
    store, settings = server_store
    day = store.latest_day()
    with TestClient(create_app(settings, store=store)) as client:
        # Only arXiv listings were ingested: the curated daily list is empty, New on arXiv not.
        daily = client.get("/api/daily_papers", params={"date": day})
        assert daily.status_code == 200 and daily.json() == []
        first = store.papers_on_days(day, day, limit=1)[0].id
        new = client.get(f"/papers/new/{day}", headers={"accept": "text/html"})
        assert new.status_code == 200 and f"/papers/{first}" in new.text
        assert client.get(f"/api/papers/{first}").json()["id"] == first
        found = client.get("/api/search", params={"q": store.get_paper(first).title})
        assert found.json()["hits"][0]["id"] == first
        assert client.get(f"/papers/{first}").status_code == 200
