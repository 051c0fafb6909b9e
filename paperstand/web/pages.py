"""The HTML pages: daily/weekly/monthly/trending lists, a paper, search, authors, categories.

Pages are rendered on the server and cached by the store's data version (see
``web/cache.py``); the little JavaScript there is (math rendering, the copy button) only
enhances pages that work without it. Handlers are ``def``: they run in the thread pool,
where store calls may block.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperstand import bibtex, community, feeds, follows
from paperstand.dates import parse_day
from paperstand.errors import NotFound, PaperstandError
from paperstand.lookup import find_paper
from paperstand.markdown import render_markdown
from paperstand.models import Cursor, Paper, TopicCluster, Window
from paperstand.topics.service import keywords_of
from paperstand.web import auth
from paperstand.web.params import (
    SEARCH_PAGE_SIZE,
    BrowsePage,
    DayPath,
    MonthPath,
    NewPage,
    PageNumber,
    PaperId,
    SearchPage,
    WeekPath,
)
from paperstand.web.render import author_url, category_url
from paperstand.web.site import SEARCH_TTL, Site, SiteDep

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
SIMILAR = 8
# An arXiv category as a filter (cs.LG, hep-th, math.AG, astro-ph.CO).
CATEGORY = r"^[A-Za-z][A-Za-z.\-]{0,39}$"
HTML = "text/html; charset=utf-8"


def _html(
    request: Request,
    site: Site,
    key: Hashable,
    template: str,
    context: Callable[[], dict[str, Any]],
    ttl: float | None = None,
) -> Response:
    """The cached page ``key``, rendered from ``template`` with ``context()`` on a miss.
    A signed-in visitor's pages show them in the header, with a log-out form carrying their
    CSRF token: those are kept apart, one per visitor and token."""
    header, viewer_key = auth.page_header(request)

    def make() -> str:
        return site.page(template, **context(), **header)

    return site.respond(request, ("page", key, viewer_key), make, HTML, ttl)


def _feeds(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """``(title, path without extension)`` pairs as alternate links (RSS and Atom)."""
    return [{"title": title, "path": path} for title, path in pairs]


DAILY_FEEDS = _feeds(("Daily papers", "/feeds/daily"), ("Trending papers", "/feeds/trending"))


# ``?group=topic``: a list's page in sections, one per topic cluster.
GroupParam = Annotated[
    Literal["topic"] | None,
    Query(description="topic: the page's papers under a heading per topic cluster."),
]


def _groups(
    entries: Sequence[Any], topics: dict[str, TopicCluster], offset: int
) -> list[tuple[TopicCluster | None, list[tuple[int, Any]]]]:
    """A page's entries (with their ranks in the whole list) under their topic clusters:
    the largest group first (ties: the one with the best-ranked paper), papers not on the
    map last. Ranks stay those of the ungrouped list, so a paper is findable either way."""
    by_cluster: dict[int | None, list[tuple[int, Any]]] = {}
    for n, entry in enumerate(entries, start=offset + 1):
        topic = topics.get(entry.paper.id)
        by_cluster.setdefault(topic.id if topic else None, []).append((n, entry))
    clusters = {t.id: t for t in topics.values()}
    order = sorted(by_cluster, key=lambda c: (c is None, -len(by_cluster[c]), by_cluster[c][0][0]))
    return [(clusters.get(c) if c is not None else None, by_cluster[c]) for c in order]


def _list_page(
    site: Site, listing: feeds.PaperList, page: int, title: str, group: str | None = None
) -> dict[str, Any]:
    topics = site.topics_of(e.paper for e in listing.entries)
    offset = (page - 1) * PAGE_SIZE
    return {
        "title": title,
        "listing": listing,
        "entries": listing.entries,
        "topics": topics,
        "group": group,
        "groups": _groups(listing.entries, topics, offset) if group else None,
        "why": {pid: why.line(site.settings) for pid, why in listing.why.items()},
        "page": page,
        "offset": offset,
        "has_more": listing.total > page * PAGE_SIZE,
        "feeds": DAILY_FEEDS,
        "self_url": "/papers/trending"
        if listing.kind == "trending"
        else f"/papers/{listing.kind}/{listing.label}",
        "trending_days": site.settings.trending_days,
    }


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, site: SiteDep, page: PageNumber = 1, group: GroupParam = None
) -> Response:
    def context() -> dict[str, Any]:
        day = feeds.latest_day(site.store)
        if day is None:
            return {"title": "No papers yet", "empty": True, "feeds": DAILY_FEEDS}
        listing = feeds.day_list(site.store, day, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return _list_page(site, listing, page, f"Daily papers, {day}", group)

    return _html(request, site, ("home", page, group), "list.html", context)


@router.get("/papers/date")
def pick_day(day: Annotated[str, Query(description="YYYY-MM-DD")]) -> RedirectResponse:
    """Where the date picker's form lands (works without JavaScript)."""
    parse_day(day, "day")
    return RedirectResponse(f"/papers/date/{day}", status_code=303)


PERIOD_TITLES = {
    "day": "Daily papers, {}",
    "week": "Papers of the week {}",
    "month": "Papers of the month {}",
}


def _period_page(
    request: Request, site: Site, kind: str, label: str, page: int, group: str | None
) -> Response:
    """A day's, week's or month's list (``feeds.daily_papers`` checks the label)."""

    def context() -> dict[str, Any]:
        listing = feeds.daily_papers(
            site.store,
            site.settings,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            **{kind: label},
        )
        return _list_page(site, listing, page, PERIOD_TITLES[kind].format(label), group)

    return _html(request, site, (kind, label, page, group), "list.html", context)


@router.get("/papers/date/{day}", response_class=HTMLResponse)
def day_page(
    request: Request, site: SiteDep, day: DayPath, page: PageNumber = 1, group: GroupParam = None
) -> Response:
    return _period_page(request, site, "day", day, page, group)


@router.get("/papers/week/{week}", response_class=HTMLResponse)
def week_page(
    request: Request, site: SiteDep, week: WeekPath, page: PageNumber = 1, group: GroupParam = None
) -> Response:
    return _period_page(request, site, "week", week, page, group)


@router.get("/papers/month/{month}", response_class=HTMLResponse)
def month_page(
    request: Request,
    site: SiteDep,
    month: MonthPath,
    page: PageNumber = 1,
    group: GroupParam = None,
) -> Response:
    return _period_page(request, site, "month", month, page, group)


@router.get("/papers/new")
def latest_new_on_arxiv(site: SiteDep) -> Response:
    """New on arXiv of the latest listing day."""
    day = community.latest_listing(site.store)
    if day is None:
        raise NotFound("no arXiv listings in this store yet")
    return RedirectResponse(f"/papers/new/{day}", status_code=303)


@router.get("/papers/new/{day}", response_class=HTMLResponse)
def new_on_arxiv_page(
    request: Request,
    site: SiteDep,
    day: DayPath,
    params: Annotated[NewPage, Query()],
    category: Annotated[str | None, Query(max_length=40, pattern=CATEGORY)] = None,
    group: GroupParam = None,
) -> Response:
    """Everything arXiv listed that day, by category, a page at a time by cursor (ids:
    the day's list is in id order). Links of the numbered pages there were before
    (``?page=N``) are redirected to the cursor of that page as it stands."""
    query = {"category": category, "group": group}
    # The filters a link to another day or page keeps.
    kept = urlencode({k: v for k, v in query.items() if v})
    base = f"/papers/new/{day}"
    if params.page is not None:
        last = None
        if params.page > 1:
            last = community.new_on_arxiv_cursor(
                site.store, day, category, (params.page - 1) * PAGE_SIZE - 1
            )
        target = "&".join(
            part for part in (urlencode({"before": last}) if last else "", kept) if part
        )
        return RedirectResponse(base + ("?" + target if target else ""), status_code=302)

    def context() -> dict[str, Any]:
        found = community.new_on_arxiv(
            site.store,
            day,
            category=category,
            limit=PAGE_SIZE,
            before=params.before,
            after=params.after,
        )
        topics = site.topics_of(e.paper for e in found.entries)
        return {
            "title": f"New on arXiv, {day}",
            "day": day,
            "category": found.category,
            "group": group,
            "filter": kept,
            "entries": found.entries,
            "topics": topics,
            "groups": _groups(found.entries, topics, found.offset) if group else None,
            "total": found.total,
            "previous": found.previous,
            "following": found.following,
            "offset": found.offset,
            "older": found.older,
            "newer": found.newer,
            "feeds": DAILY_FEEDS,
        }

    key = ("new", day, category, params.before, params.after, group)
    return _html(request, site, key, "new.html", context)


@router.get("/papers/trending", response_class=HTMLResponse)
def trending_page(request: Request, site: SiteDep, page: PageNumber = 1) -> Response:
    def context() -> dict[str, Any]:
        listing = feeds.trending_list(
            site.store, site.settings, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        return _list_page(site, listing, page, "Trending papers")

    return _html(request, site, ("trending", page), "list.html", context)


def _browse(
    request: Request,
    site: Site,
    key: Hashable,
    title: str,
    params: BrowsePage,
    window: Callable[..., Window],
    numbered: Callable[..., list[Paper]],
    self_url: str,
    claims: Callable[[], dict[str, Any]] | None = None,
    **more: Any,
) -> Response:
    """An author's or a category's papers, a page at a time by cursor (``window``), so a
    page costs one index range however deep it is and its link shows the same papers
    while new ones arrive. ``claims`` adds an author page's claimed papers (on its first
    page), which the list then leaves out, as it does the papers the claimed author hid.

    Links of the numbered pages there were before (``?page=N``) are redirected to the
    cursor of that page as it stands (``numbered`` reads the one paper before it)."""
    if params.page is not None:
        target = self_url
        if params.page > 1:
            last = numbered(limit=1, offset=(params.page - 1) * PAGE_SIZE - 1)
            if last:
                target += "?" + urlencode({"before": Cursor.of(last[0]).text()})
        return RedirectResponse(target, status_code=302)
    cursors = params.window()
    first = cursors["before"] is None and cursors["after"] is None

    def context() -> dict[str, Any]:
        added = claims() if claims and first else {}
        skip = added.get("skip", set())
        found = window(limit=PAGE_SIZE, **cursors)
        return {
            "title": title,
            "papers": [paper for paper in found.papers if paper.id not in skip],
            "topics": site.topics_of([*found.papers, *(e.paper for e in added.get("claimed", []))]),
            "older": found.older.text() if found.older else None,
            "newer": found.newer.text() if found.newer else None,
            "first": first,
            "self_url": self_url,
            **added,
            **more,
        }

    return _html(request, site, (*key, params.before, params.after), "browse.html", context)


@router.get("/authors/{name:path}", response_class=HTMLResponse)
def author_page(
    request: Request, site: SiteDep, name: str, params: Annotated[BrowsePage, Query()]
) -> Response:
    return _browse(
        request,
        site,
        ("author", name),
        f"Papers by {name}",
        params,
        lambda **kw: site.store.author_window(name, **kw),
        lambda **kw: site.store.papers_by_author(name, **kw),
        author_url(name),
        claims=lambda: _author_claims(site, name),
        heading=name,
        kind="author",
    )


def _author_claims(site: Site, name: str) -> dict[str, Any]:
    """The accounts that claimed the name, their papers first with their upvotes, and the
    papers hidden from the page: nothing, without a query, for a name nobody claimed."""
    claims = follows.author_claims(
        site.store, name, site.known("claimed names", site.store.follows.claimed_names)
    )
    if not claims.accounts and not claims.hidden:
        return {}
    listed = [site.store.community.standing(pid) for pid in claims.claimed]
    return {
        "claimants": claims.accounts,
        "claimed": community.entries(site.store, [item for item in listed if item]),
        "hidden": site.store.get_papers(sorted(claims.hidden)),
        "skip": claims.hidden | set(claims.claimed),
    }


@router.get("/categories/{category}", response_class=HTMLResponse)
def category_page(
    request: Request, site: SiteDep, category: str, params: Annotated[BrowsePage, Query()]
) -> Response:
    return _browse(
        request,
        site,
        ("category", category),
        f"Papers in {category}",
        params,
        lambda **kw: site.store.category_window(category, **kw),
        lambda **kw: site.store.papers_in_category(category, **kw),
        category_url(category),
        heading=category,
        kind="category",
        feeds=_feeds((f"Papers in {category}", f"/feeds/categories/{category}")),
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request, site: SiteDep, params: Annotated[SearchPage, Query()]
) -> Response:
    q, page = params.q, params.page

    def context() -> dict[str, Any]:
        base = {
            "title": f"Search: {q}"
            if q.strip()
            else (f"Keyword: {params.keyword}" if params.keyword else "Search"),
            "query": q,
            **params.search_options(),
            "page": page,
        }
        if not q.strip() and not params.keyword:
            return {**base, "result": None}
        if params.empty_range:
            return {**base, "result": None, "problem": "From is after To: no day is in that range."}
        try:
            result = site.searcher().search(
                q,
                limit=SEARCH_PAGE_SIZE + 1,
                offset=(page - 1) * SEARCH_PAGE_SIZE,
                **params.search_options(),
            )
        except PaperstandError as exc:  # e.g. search not set up: say so on the page
            return {**base, "result": None, "problem": str(exc)}
        hits = result.hits[:SEARCH_PAGE_SIZE]
        shown = [h.paper for h in hits] + ([result.direct.paper] if result.direct else [])
        return {
            **base,
            "result": result,
            "hits": hits,
            "topics": site.topics_of(shown),
            "has_more": len(result.hits) > SEARCH_PAGE_SIZE,
            "offset": (page - 1) * SEARCH_PAGE_SIZE,
            "feeds": _feeds((f"Search: {q}", "/feeds/search")),
            "feed_query": q,
        }

    key = ("search", *sorted(params.model_dump().items()))
    return _html(request, site, key, "search.html", context, ttl=SEARCH_TTL)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request, site: SiteDep) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, served from the fastapi-offline package."""
    header, _ = auth.page_header(request)
    return HTMLResponse(site.page("docs.html", title="API documentation", **header))


@router.get("/papers/{paper_id:paper_id}", response_class=HTMLResponse)
def paper_page(request: Request, site: SiteDep, paper_id: PaperId) -> Response:
    viewer = auth.page_header(request)[0]["viewer"]

    def context() -> dict[str, Any]:
        # Admins still see a hidden paper (to show it again); everyone else gets a 404.
        admin = bool(viewer and viewer.is_admin)
        paper = find_paper(site.store, paper_id, with_hidden=admin)
        entry = community.paper_standing(
            site.store, paper, viewer.id if viewer else None, with_hidden=admin
        )
        comments = site.store.community.comments(
            paper.id, with_hidden=bool(viewer and viewer.is_admin)
        )
        try:
            similar = site.similar(paper, SIMILAR)
        except PaperstandError:
            similar = []
        topics = site.topics_of([paper, *(hit.paper for hit in similar)])
        return {
            "title": paper.title or paper.id,
            "paper": paper,
            "entry": entry,
            "thread": community.thread(comments),
            "render_markdown": render_markdown,
            "similar": similar,
            "topics": topics,
            "topic": topics.get(paper.id),
            "keywords": keywords_of(site.store, [paper])[paper.id],
            "bibtex": bibtex.entry(paper),
            "my_lists": site.store.library.lists_of(viewer.id) if viewer else [],
            "feeds": DAILY_FEEDS,
        }

    return _html(request, site, ("paper", paper_id), "paper.html", context, ttl=SEARCH_TTL)
