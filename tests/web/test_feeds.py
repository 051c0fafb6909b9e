"""RSS 2.0 and Atom feeds, read back with ``feedparser``."""

from __future__ import annotations

import feedparser
import pytest

from tests.web.conftest import OLD_STYLE, hf_response


def parsed(client, path: str, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return response, feed


@pytest.mark.parametrize("fmt", ["xml", "atom"])
def test_daily_feed_lists_the_latest_day_in_rank_order(client, fmt):
    response, feed = parsed(client, f"/feeds/daily.{fmt}")
    expected = "rss20" if fmt == "xml" else "atom10"
    assert feed.version == expected
    assert response.headers["content-type"].startswith(
        "application/rss+xml" if fmt == "xml" else "application/atom+xml"
    )
    recorded = hf_response("2026-04-24")
    assert [e.title for e in feed.entries] == [" ".join(i["title"].split()) for i in recorded]
    first = feed.entries[0]
    assert first.link.endswith(f"/papers/{recorded[0]['paper']['id']}")
    assert first.summary.startswith(recorded[0]["paper"]["ai_summary"][:40])
    if fmt == "atom":
        assert first.authors[0]["name"] == recorded[0]["paper"]["authors"][0]["name"]


@pytest.mark.parametrize("fmt", ["xml", "atom"])
def test_trending_category_and_search_feeds(client, fmt):
    _, trending = parsed(client, f"/feeds/trending.{fmt}")
    assert trending.entries[0].title == hf_response("2026-04-24")[0]["paper"]["title"]
    _, category = parsed(client, f"/feeds/categories/hep-th.{fmt}")
    assert [e.title for e in category.entries] == [OLD_STYLE.title]
    assert category.entries[0].tags[0].term == "hep-th"
    title = hf_response("2025-04-09")[0]["paper"]["title"]
    _, search = parsed(client, f"/feeds/search.{fmt}", q=title)
    assert search.entries and " ".join(search.entries[0].title.split()) == " ".join(title.split())


def test_feeds_handle_empty_lists_and_bad_requests(client):
    _, empty = parsed(client, "/feeds/categories/no.such.xml")
    assert empty.entries == []
    assert client.get("/feeds/daily.json").status_code == 404
    assert client.get("/feeds/search.xml").status_code == 422
