"""Topic pages and their JSON over every storage backend: the map, trends, a topic's page,
keywords and the topic badge on a paper's page, and errors for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.topics.service import build_topics
from paperstand.web.app import create_app
from tests.topics import slice as real


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path, embedding_model=real.MODEL, topics_clusters=8)
    real.load(store, slice(0, 200))
    build_topics(store, settings)
    with TestClient(create_app(settings, store=store), raise_server_exceptions=False) as c:
        yield c


def test_map_json_is_compact_and_complete(client: TestClient):
    answer = client.get("/api/topics/map")
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["ids"]) == 200 == len(body["x"]) == len(body["c"]) == len(body["d"])
    assert {c["id"] for c in body["clusters"]} == set(range(8))
    assert sum(c["n"] for c in body["clusters"]) == 200
    since = client.get("/api/topics/map", params={"since": "2026-03-01", "limit": 5}).json()
    assert len(since["ids"]) == 5
    assert since["day0"] >= "2026-03-01"
    again = client.get("/api/topics/map", headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "2026-02-30"}, 400),
        ({"since": ""}, 400),
        ({"since": "yesterday"}, 400),
        ({"limit": 0}, 422),
        ({"limit": 10**9}, 422),
    ],
)
def test_bad_map_parameters_get_a_json_error(client: TestClient, params, status):
    answer = client.get("/api/topics/map", params=params)
    assert answer.status_code == status
    assert answer.json()["error"]


def test_trends_json_and_page(client: TestClient):
    trends = client.get("/api/topics/trends").json()
    assert len(trends["weeks"]) == 26 and len(trends["clusters"]) == 8
    assert trends["categories"][0]["counts"]
    page = client.get("/trends")
    assert page.status_code == 200
    assert "Rising keywords" in page.text and 'id="chart-clusters"' in page.text
    assert trends["categories"][0]["category"] in page.text


def test_map_page_topic_page_and_the_badge_on_a_paper(client: TestClient):
    page = client.get("/map")
    assert page.status_code == 200
    assert 'data-src="/api/topics/map"' in page.text
    assert '<script src="/static/echarts/echarts.min.js" defer></script>' in page.text
    assert "<script>" not in page.text  # the CSP allows no inline script
    assert client.get("/static/echarts/echarts.min.js").status_code == 200
    clusters = client.get("/api/topics/map").json()["clusters"]
    label = clusters[0]["label"]
    assert f'href="/topics/0">{label}</a>' in page.text.replace("&#39;", "'")

    topic = client.get("/topics/0")
    assert topic.status_code == 200 and "Latest papers" in topic.text
    assert client.get("/topics/999").status_code == 404
    assert client.get("/topics/-1").status_code in (404, 422)

    first = real.papers()[0]
    paper = client.get(f"/papers/{first.id}")
    assert paper.status_code == 200
    assert 'class="topic-badge" href="/topics/' in paper.text
    assert 'aria-label="Keywords"' in paper.text


def test_without_a_map_the_pages_say_how_to_make_one(store: Store, tmp_path: Path):
    with TestClient(create_app(Settings(home=tmp_path), store=store)) as c:
        assert c.get("/api/topics/map").json()["ids"] == []
        assert c.get("/api/topics/trends").json()["weeks"] == []
        assert "paperstand topics build" in c.get("/map").text
        assert "paperstand topics build" in c.get("/trends").text
