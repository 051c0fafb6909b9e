"""RSS 2.0 and Atom feeds, built with ``feedgen``: the daily list, trending, a category and
any search query. Every feed exists as ``.xml`` (RSS) and ``.atom``; pages link them with
``<link rel="alternate">``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator

from paperstand import feeds
from paperstand.errors import NotFound
from paperstand.models import Paper
from paperstand.web import render
from paperstand.web.app import SEARCH_TTL, Site, site_of
from paperstand.web.hf import paper_day

router = APIRouter(tags=["feeds"])
FEED_SIZE = 50
MEDIA = {"xml": "application/rss+xml; charset=utf-8", "atom": "application/atom+xml; charset=utf-8"}
Format = Annotated[str, "xml or atom"]


def _when(paper: Paper) -> datetime:
    value = paper.published or paper_day(paper)
    if value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime(1970, 1, 1, tzinfo=UTC)


def build_feed(
    base: str, path: str, title: str, description: str, papers: list[Paper], fmt: str
) -> bytes:
    """The feed document for ``papers`` (``fmt`` is ``xml`` for RSS 2.0 or ``atom``)."""
    fg = FeedGenerator()
    fg.id(base + path)
    fg.title(title)
    fg.subtitle(description)  # RSS description
    fg.link(href=base + path, rel="self")
    fg.link(href=base + "/", rel="alternate")
    fg.language("en")
    newest = max((_when(p) for p in papers), default=datetime(1970, 1, 1, tzinfo=UTC))
    fg.updated(newest)
    for paper in reversed(papers):  # feedgen prepends: keep the list's order in the feed
        url = base + render.paper_url(paper)
        entry = fg.add_entry()
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(" ".join(paper.title.split()) or paper.id)
        entry.link(href=url)
        entry.description(paper.ai_summary or paper.abstract or paper.title)
        if fmt == "atom":  # RSS 2.0 authors must be e-mail addresses, which we lack
            for name in paper.authors[:20]:
                entry.author(name=name)
        for category in paper.categories:
            entry.category(term=category)
        entry.published(_when(paper))
        entry.updated(_when(paper))
    return fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)


async def _serve(
    request: Request,
    key: tuple,
    make_list,
    title: str,
    description: str,
    fmt: str,
    ttl: float | None = None,
) -> Response:
    site = site_of(request)
    if fmt not in MEDIA:
        raise NotFound(f"no such feed format {fmt!r}: use .xml (RSS 2.0) or .atom")
    base = str(request.base_url).rstrip("/")
    path = request.url.path
    return await site.respond(
        request,
        ("feed", key, fmt, base),
        lambda: build_feed(base, path, title, description, make_list(site), fmt),
        MEDIA[fmt],
        ttl,
    )


@router.get("/feeds/daily.{fmt}")
async def daily_feed(request: Request, fmt: Format) -> Response:
    """The latest day's papers, ranked."""

    def papers(site: Site) -> list[Paper]:
        day = feeds.latest_day(site.store)
        return feeds.day_list(site.store, day, limit=FEED_SIZE).papers if day else []

    return await _serve(
        request,
        ("daily",),
        papers,
        "paperstand: daily papers",
        "The latest day's papers, most upvoted first.",
        fmt,
    )


@router.get("/feeds/trending.{fmt}")
async def trending_feed(request: Request, fmt: Format) -> Response:
    """Trending papers (upvotes decayed by age)."""
    return await _serve(
        request,
        ("trending",),
        lambda site: feeds.trending(site.store, limit=FEED_SIZE).papers,
        "paperstand: trending papers",
        "Upvotes decayed by age.",
        fmt,
    )


@router.get("/feeds/categories/{category}.{fmt}")
async def category_feed(request: Request, category: str, fmt: Format) -> Response:
    """The latest papers of an arXiv category."""
    return await _serve(
        request,
        ("category", category),
        lambda site: site.store.papers_in_category(category, limit=FEED_SIZE),
        f"paperstand: {category}",
        f"The latest papers in {category}.",
        fmt,
    )


@router.get("/feeds/search.{fmt}")
async def search_feed(
    request: Request, fmt: Format, q: Annotated[str, Query(min_length=1, max_length=250)]
) -> Response:
    """The best matches of a search query, for a feed reader to watch."""

    def papers(site: Site) -> list[Paper]:
        result = site.searcher().search(q, limit=FEED_SIZE)
        return [hit.paper for hit in result.hits]

    return await _serve(
        request,
        ("search", q),
        papers,
        f"paperstand: search {q}",
        f"Papers matching {q!r}.",
        fmt,
        ttl=SEARCH_TTL,
    )
