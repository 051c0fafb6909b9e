"""The HTML pages: daily/weekly/monthly/trending lists, a paper, search, authors, categories.

Pages are rendered on the server and cached by the store's data version (see
``web/cache.py``); the little JavaScript there is (math rendering, the copy button) only
enhances pages that work without it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperstand import feeds
from paperstand.errors import InvalidInput, PaperstandError
from paperstand.web import bibtex
from paperstand.web.api import check_day
from paperstand.web.app import SEARCH_TTL, Site, site_of
from paperstand.web.lookup import find_paper
from paperstand.web.render import author_url, category_url

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 20
SIMILAR = 8
Page = Annotated[int, Query(ge=1, le=1000)]


async def _html(
    request: Request, key: Any, template: str, context, ttl: float | None = None
) -> Response:
    """The cached page ``key``, rendered from ``template`` with ``context()`` on a miss."""
    site = site_of(request)

    def make() -> str:
        return site.page(template, **context())

    return await site.respond(request, ("page", key), make, "text/html; charset=utf-8", ttl)


def _feeds(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """``(title, path without extension)`` pairs as alternate links (RSS and Atom)."""
    return [{"title": title, "path": path} for title, path in pairs]


DAILY_FEEDS = _feeds(("Daily papers", "/feeds/daily"), ("Trending papers", "/feeds/trending"))


def _list_page(listing: feeds.PaperList, page: int, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "listing": listing,
        "papers": listing.papers,
        "page": page,
        "offset": (page - 1) * PAGE_SIZE,
        "has_more": listing.total > page * PAGE_SIZE,
        "feeds": DAILY_FEEDS,
        "self_url": "/papers/trending"
        if listing.kind == "trending"
        else f"/papers/{listing.kind}/{listing.label}",
        "trending_days": feeds.TRENDING_DAYS,
    }


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, page: Page = 1) -> Response:
    site = site_of(request)

    def context():
        day = feeds.latest_day(site.store)
        if day is None:
            return {"title": "No papers yet", "empty": True, "feeds": DAILY_FEEDS}
        listing = feeds.day_list(site.store, day, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return _list_page(listing, page, f"Daily papers, {day}")

    return await _html(request, ("home", page), "list.html", context)


@router.get("/papers/date")
def pick_day(day: Annotated[str, Query(description="YYYY-MM-DD")]) -> RedirectResponse:
    """Where the date picker's form lands (works without JavaScript)."""
    feeds.parse_day(day, "day")
    return RedirectResponse(f"/papers/date/{day}", status_code=303)


PERIOD_TITLES = {
    "day": "Daily papers, {}",
    "week": "Papers of the week {}",
    "month": "Papers of the month {}",
}


async def _period_page(request: Request, kind: str, label: str, page: int) -> Response:
    """A day's, week's or month's list (``feeds.daily_papers`` checks the label)."""
    site = site_of(request)

    def context():
        listing = feeds.daily_papers(
            site.store, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **{kind: label}
        )
        return _list_page(listing, page, PERIOD_TITLES[kind].format(label))

    return await _html(request, (kind, label, page), "list.html", context)


@router.get("/papers/date/{day}", response_class=HTMLResponse)
async def day_page(request: Request, day: str, page: Page = 1) -> Response:
    return await _period_page(request, "day", day, page)


@router.get("/papers/week/{week}", response_class=HTMLResponse)
async def week_page(request: Request, week: str, page: Page = 1) -> Response:
    return await _period_page(request, "week", week, page)


@router.get("/papers/month/{month}", response_class=HTMLResponse)
async def month_page(request: Request, month: str, page: Page = 1) -> Response:
    return await _period_page(request, "month", month, page)


@router.get("/papers/trending", response_class=HTMLResponse)
async def trending_page(request: Request, page: Page = 1) -> Response:
    site = site_of(request)

    def context():
        listing = feeds.trending(site.store, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return _list_page(listing, page, "Trending papers")

    return await _html(request, ("trending", page), "list.html", context)


async def _browse(
    request: Request, site: Site, key: tuple, title: str, fetch, page: int, **more: Any
) -> Response:
    """An author's or a category's papers, a page at a time (one extra row tells if more)."""

    def context():
        found = fetch(limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        return {
            "title": title,
            "papers": found[:PAGE_SIZE],
            "page": page,
            "offset": (page - 1) * PAGE_SIZE,
            "has_more": len(found) > PAGE_SIZE,
            **more,
        }

    return await _html(request, key, "browse.html", context)


@router.get("/authors/{name:path}", response_class=HTMLResponse)
async def author_page(request: Request, name: str, page: Page = 1) -> Response:
    site = site_of(request)
    return await _browse(
        request,
        site,
        ("author", name, page),
        f"Papers by {name}",
        lambda **kw: site.store.papers_by_author(name, **kw),
        page,
        heading=name,
        kind="author",
        self_url=author_url(name),
    )


@router.get("/categories/{category}", response_class=HTMLResponse)
async def category_page(request: Request, category: str, page: Page = 1) -> Response:
    site = site_of(request)
    return await _browse(
        request,
        site,
        ("category", category, page),
        f"Papers in {category}",
        lambda **kw: site.store.papers_in_category(category, **kw),
        page,
        heading=category,
        kind="category",
        self_url=category_url(category),
        feeds=_feeds((f"Papers in {category}", f"/feeds/categories/{category}")),
    )


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=250)] = "",
    since: str | None = None,
    until: str | None = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    has_code: bool = False,
    page: Page = 1,
) -> Response:
    site = site_of(request)
    since, until, category = since or None, until or None, category or None
    check_day(since, "since")
    check_day(until, "until")
    if since and until and since > until:
        raise InvalidInput("since must not be after until")

    def context():
        base = {
            "title": f"Search: {q}" if q else "Search",
            "query": q,
            "since": since,
            "until": until,
            "category": category,
            "has_code": has_code,
            "page": page,
        }
        if not q.strip():
            return {**base, "result": None}
        try:
            result = site.searcher().search(
                q,
                limit=SEARCH_PAGE_SIZE + 1,
                offset=(page - 1) * SEARCH_PAGE_SIZE,
                since=since,
                until=until,
                category=category,
                has_code=has_code,
            )
        except PaperstandError as exc:  # e.g. search not set up: say so on the page
            return {**base, "result": None, "problem": str(exc)}
        return {
            **base,
            "result": result,
            "hits": result.hits[:SEARCH_PAGE_SIZE],
            "has_more": len(result.hits) > SEARCH_PAGE_SIZE,
            "offset": (page - 1) * SEARCH_PAGE_SIZE,
            "feeds": _feeds((f"Search: {q}", "/feeds/search")),
            "feed_query": q,
        }

    key = ("search", q, since, until, category, has_code, page)
    return await _html(request, key, "search.html", context, ttl=SEARCH_TTL)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, served from the fastapi-offline package."""
    return HTMLResponse(site_of(request).page("docs.html", title="API documentation"))


@router.get("/papers/{paper_id:path}", response_class=HTMLResponse)
async def paper_page(request: Request, paper_id: str) -> Response:
    site = site_of(request)

    def context():
        paper = find_paper(site.store, paper_id)
        try:
            similar = site.searcher().similar(paper.id, limit=SIMILAR)
        except PaperstandError:
            similar = []
        return {
            "title": paper.title or paper.id,
            "paper": paper,
            "similar": similar,
            "bibtex": bibtex.entry(paper),
            "feeds": DAILY_FEEDS,
            "day": paper.submitted_on or paper.listed,
        }

    return await _html(request, ("paper", paper_id), "paper.html", context, ttl=SEARCH_TTL)
