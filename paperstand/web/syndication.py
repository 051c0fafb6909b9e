"""RSS 2.0 and Atom feeds, built with ``feedgen``: the daily list, trending, a category and
any search query. Every feed exists as ``.xml`` (RSS) and ``.atom``; pages link them with
``<link rel="alternate">``."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator

from paperstand import feeds
from paperstand.models import Paper
from paperstand.web import render
from paperstand.web.errors import documented
from paperstand.web.params import CATEGORY_PATTERN
from paperstand.web.site import SEARCH_TTL, Site, SiteDep

FEED_SIZE = 50
MEDIA = {"xml": "application/rss+xml; charset=utf-8", "atom": "application/atom+xml; charset=utf-8"}
Format = Annotated[
    str, Path(description="xml: RSS 2.0; atom: Atom.", json_schema_extra={"enum": list(MEDIA)})
]
router = APIRouter(
    tags=["feeds"],
    default_response_class=Response,
    responses={
        200: {
            "content": {
                media.split(";")[0]: {"schema": {"type": "string"}} for media in MEDIA.values()
            }
        },
        **documented(404),
    },
)


# Characters XML 1.0 cannot carry at all (lxml refuses them): user queries and paper text
# may hold them, a feed must not fail on them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _when(paper: Paper) -> datetime:
    value = paper.published or paper.day
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
    fg.title(_text(title))
    fg.subtitle(_text(description))  # RSS description
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
        entry.title(_text(" ".join(paper.title.split()) or paper.id))
        entry.link(href=url)
        entry.description(_text(paper.ai_summary or paper.abstract or paper.title))
        if fmt == "atom":  # RSS 2.0 authors must be e-mail addresses, which we lack
            for name in paper.authors[:20]:
                entry.author(name=_text(name))
        for category in paper.categories:
            entry.category(term=_text(category))
        entry.published(_when(paper))
        entry.updated(_when(paper))
    return fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)


def _serve(
    request: Request,
    site: Site,
    key: Hashable,
    make_list: Callable[[Site], list[Paper]],
    title: str,
    description: str,
    fmt: str,
    ttl: float | None = None,
) -> Response:
    base = str(request.base_url).rstrip("/")
    path = request.url.path
    return site.respond(
        request,
        ("feed", key, fmt, base),
        lambda: build_feed(base, path, title, description, make_list(site), fmt),
        MEDIA[fmt],
        ttl,
    )


@router.get("/feeds/daily.{fmt:feed_format}")
def daily_feed(request: Request, site: SiteDep, fmt: Format) -> Response:
    """The latest day's papers, ranked."""

    def papers(site: Site) -> list[Paper]:
        day = feeds.latest_day(site.store)
        return feeds.day_list(site.store, day, limit=FEED_SIZE).papers if day else []

    return _serve(
        request,
        site,
        ("daily",),
        papers,
        "paperstand: daily papers",
        "The latest day's papers, most upvoted first.",
        fmt,
    )


@router.get("/feeds/trending.{fmt:feed_format}")
def trending_feed(request: Request, site: SiteDep, fmt: Format) -> Response:
    """Trending papers (upvotes decayed by age)."""
    return _serve(
        request,
        site,
        ("trending",),
        lambda site: feeds.trending_list(site.store, site.settings, limit=FEED_SIZE).papers,
        "paperstand: trending papers",
        "Upvotes decayed by age.",
        fmt,
    )


@router.get("/feeds/categories/{category}.{fmt:feed_format}", responses=documented(422))
def category_feed(
    request: Request,
    site: SiteDep,
    category: Annotated[str, Path(description="An arXiv category.", pattern=CATEGORY_PATTERN)],
    fmt: Format,
) -> Response:
    """The latest papers of an arXiv category."""
    return _serve(
        request,
        site,
        ("category", category),
        lambda site: site.store.papers_in_category(category, limit=FEED_SIZE),
        f"paperstand: {category}",
        f"The latest papers in {category}.",
        fmt,
    )


@router.get("/feeds/search.{fmt:feed_format}", responses=documented(422))
def search_feed(
    request: Request,
    site: SiteDep,
    fmt: Format,
    q: Annotated[str, Query(min_length=1, max_length=250)],
) -> Response:
    """The best matches of a search query, for a feed reader to watch."""

    def papers(site: Site) -> list[Paper]:
        result = site.searcher().search(q, limit=FEED_SIZE)
        return [hit.paper for hit in result.hits]

    return _serve(
        request,
        site,
        ("search", q),
        papers,
        f"paperstand: search {q}",
        f"Papers matching {q!r}.",
        fmt,
        ttl=SEARCH_TTL,
    )
