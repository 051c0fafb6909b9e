"""Author and category pages, and a day's "New on arXiv" listing, page by cursor over real
HTTP, on each backend: every paper once, in (day, arrival) order (a listing: id order),
latest first; "older" and "newer" links that walk both ways; a page's link that shows the same
papers after new ones arrive; old ``?page=N`` links redirected to the cursor of that page;
bad cursors answered with a 4xx."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from paperstand.web.pages import PAGE_SIZE
from tests.web.conftest import serving

CARD_ID = re.compile(r'href="/papers/(250[35]\.[0-9]{5}|nodate\.[0-9])"')
OLDER = re.compile(r'<a rel="next" href="([^"]+)"')
NEWER = re.compile(r'<a rel="prev" href="([^"]+)"')


def corpus() -> list[Paper]:
    """130 papers of Ann Lee in cs.LG over 40 days, several a day, and two without any day
    (they come last), in the order they arrive: the later arrival comes first on its day,
    and arrivals do not follow the ids."""
    made = [
        Paper(
            id=f"2503.{n:05d}",
            title=f"Paper number {n}",
            authors=["Ann Lee", f"Coauthor {n}"],
            categories=["cs.LG", "stat.ML"] if n % 2 else ["cs.LG"],
            listed=f"2025-03-{1 + n % 28:02d}" if n % 3 else f"2025-04-{1 + n % 12:02d}",
        )
        for n in sorted(range(1, 129), key=lambda n: n * 37 % 128)
    ]
    made += [
        Paper(id=f"nodate.{n}", title=f"Undated {n}", authors=["Ann Lee"], categories=["cs.LG"])
        for n in (1, 2)
    ]
    return made


def expected(papers: list[Paper]) -> list[str]:
    """The ids of ``papers`` (in arrival order) as the pages list them."""
    arrived = {p.id: n for n, p in enumerate(papers)}
    dated = sorted((p for p in papers if p.day), key=lambda p: (p.day, arrived[p.id]))
    return [p.id for p in reversed(dated)] + [p.id for p in reversed(papers) if not p.day]


def card_ids(html: str) -> list[str]:
    return list(dict.fromkeys(CARD_ID.findall(html)))


def walk(client: httpx.Client, url: str, link: re.Pattern[str]) -> list[tuple[str, list[str]]]:
    """(url, ids) of each page from ``url`` along ``link``."""
    pages = []
    while True:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
        pages.append((url, card_ids(response.text)))
        found = link.search(response.text)
        if not found:
            return pages
        url = urljoin(url, unescape(found.group(1)))


@contextmanager
def served(
    store: Store, tmp_path: Path, papers: list[Paper]
) -> Iterator[tuple[Store, httpx.Client]]:
    """The store with ``papers``, and a client of the site serving it over real HTTP."""
    store.upsert_papers(papers)
    with serving(create_app(Settings(home=tmp_path), store=store)) as url:
        with httpx.Client(base_url=url, follow_redirects=False) as client:
            yield store, client


@pytest.fixture
def site(store: Store, tmp_path: Path):
    with served(store, tmp_path, corpus()) as both:
        yield both


@pytest.mark.parametrize("base", ["/categories/cs.LG", "/authors/ann%20lee"])
def test_pages_walk_every_paper_once_both_ways(site, base: str):
    store, client = site
    order = expected(corpus())
    older = walk(client, base, OLDER)
    assert [len(ids) for _, ids in older] == [PAGE_SIZE, PAGE_SIZE, len(order) - 2 * PAGE_SIZE]
    assert [i for _, ids in older for i in ids] == order
    # Back up from the last page along the "newer" links: the same pages, in reverse.
    newer = walk(client, older[-1][0], NEWER)
    assert [ids for _, ids in newer][1:] == [ids for _, ids in older][-2::-1]
    assert NEWER.search(client.get(base).text) is None  # the first page has no newer one


def test_a_page_link_shows_the_same_papers_after_new_ones_arrive(site):
    store, client = site
    (_, first), (second_url, second), *_ = walk(client, "/categories/cs.LG", OLDER)
    store.upsert_papers(
        [
            Paper(id=f"2505.{n:05d}", title=f"Newer {n}", categories=["cs.LG"], listed="2025-05-01")
            for n in range(1, 8)
        ]
    )
    assert card_ids(client.get(second_url).text) == second
    assert card_ids(client.get("/categories/cs.LG").text)[:7] == [
        f"2505.{n:05d}" for n in range(7, 0, -1)
    ]


def test_hidden_papers_are_skipped_and_the_pages_stay_whole(site):
    store, client = site
    order = expected(corpus())
    admin = store.accounts.add_user("admin@lab.example", "admin", None, is_admin=True)
    for pid in order[45:55]:
        store.community.set_paper_hidden(pid, admin.id, True)
    shown = [i for _, ids in walk(client, "/categories/cs.LG", OLDER) for i in ids]
    assert shown == [pid for pid in order if pid not in order[45:55]]


def test_old_page_numbers_redirect_to_the_cursor_of_that_page(site):
    store, client = site
    order = expected(corpus())
    second = client.get("/categories/cs.LG?page=2")
    assert second.status_code == 302
    assert card_ids(client.get(second.headers["location"]).text) == order[PAGE_SIZE : 2 * PAGE_SIZE]
    assert client.get("/authors/Ann Lee?page=1").headers["location"] == "/authors/Ann%20Lee"
    past_the_end = client.get("/categories/cs.LG?page=40")
    assert past_the_end.headers["location"] == "/categories/cs.LG"


def test_the_json_twins_page_the_same_way(site):
    store, client = site
    order = expected(corpus())
    for base in ("/api/categories/cs.LG", "/api/authors/ANN LEE"):
        seen, params = [], {"limit": 40}
        while True:
            body = client.get(base, params=params).json()
            seen += [p["id"] for p in body["papers"]]
            if body["older"] is None:
                break
            params = {"limit": 40, "before": body["older"]}
        assert seen == order
        back = client.get(base, params={"limit": 40, "after": body["newer"]}).json()
        assert [p["id"] for p in back["papers"]] == order[80:120]
    assert client.get("/api/categories/math.AG").json() == {
        "papers": [],
        "older": None,
        "newer": None,
    }


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"before": "yesterday"}, 422),  # not a cursor at all
        ({"before": "2025-02-30_2503.00001"}, 400),  # no such day
        ({"after": "2025-03-01_has space"}, 422),
        ({"before": "_2503.00001", "after": "_2503.00002"}, 400),  # both at once
    ],
)
def test_bad_cursors_are_a_clear_4xx(site, query: dict[str, str], status: int):
    store, client = site
    api = client.get("/api/categories/cs.LG", params=query)
    assert api.status_code == status
    assert api.json()["error"]
    page = client.get("/authors/Ann Lee", params=query, headers={"accept": "text/html"})
    assert page.status_code == status


# --- New on arXiv: one day's listing, in id order ------------------------------------------

LISTED = "2025-05-06"
# The pager's "older" link (the day navigation above it has a rel="next" link of its own).
LISTING_OLDER = re.compile(r'<a rel="next" href="(/papers/new/[^"]*before=[^"]+)"')
LISTING_NEWER = re.compile(r'<a rel="prev" href="(/papers/new/[^"]*after=[^"]+)"')


def listing() -> list[Paper]:
    """160 papers arXiv listed on one day (every third also in stat.ML), one the next day."""
    made = [
        Paper(
            id=f"2505.{n:05d}",
            title=f"Listed {n}",
            categories=["cs.LG", "stat.ML"] if n % 3 == 0 else ["cs.LG"],
            listed=LISTED,
        )
        for n in range(1, 161)
    ]
    return [*made, Paper(id="2505.09999", title="Next day", listed="2025-05-07")]


@pytest.fixture
def new_site(store: Store, tmp_path: Path):
    with served(store, tmp_path, listing()) as both:
        yield both


def listing_ids(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="/papers/(2505\.[0-9]{5})"', html)))


def test_new_on_arxiv_walks_the_day_by_cursor_both_ways(new_site):
    store, client = new_site
    order = [f"2505.{n:05d}" for n in range(160, 0, -1)]
    base = f"/papers/new/{LISTED}"
    older = walk(client, base, LISTING_OLDER)
    assert [len(ids) for _, ids in older] == [PAGE_SIZE] * 3 + [10]
    assert [i for _, ids in older for i in ids] == order
    # Ranks go on from page to page.
    assert f'<ol class="papers" start="{PAGE_SIZE + 1}">' in client.get(older[1][0]).text
    newer = walk(client, older[-1][0], LISTING_NEWER)
    assert [ids for _, ids in newer][1:] == [ids for _, ids in older][-2::-1]
    assert LISTING_NEWER.search(client.get(base).text) is None
    # A page's link shows the same papers after more are listed that day.
    store.upsert_papers([Paper(id="2505.00500", title="Late", listed=LISTED)])
    assert listing_ids(client.get(older[1][0]).text) == order[PAGE_SIZE : 2 * PAGE_SIZE]


def test_new_on_arxiv_cursors_keep_the_filters(new_site):
    store, client = new_site
    wanted = [f"2505.{n:05d}" for n in range(160, 0, -1) if n % 3 == 0]
    pages = walk(client, f"/papers/new/{LISTED}?category=stat.ML&group=topic", LISTING_OLDER)
    assert [len(ids) for _, ids in pages] == [PAGE_SIZE, len(wanted) - PAGE_SIZE]
    assert "category=stat.ML" in pages[1][0] and "group=topic" in pages[1][0]
    assert [i for _, ids in pages for i in ids] == wanted


def test_new_on_arxiv_old_page_numbers_and_bad_cursors(new_site):
    store, client = new_site
    base = f"/papers/new/{LISTED}"
    second = client.get(base, params={"page": 2, "category": "cs.LG"})
    assert second.status_code == 302
    assert second.headers["location"] == f"{base}?before=2505.00111&category=cs.LG"
    assert client.get(base, params={"page": 1}).headers["location"] == base
    html = {"accept": "text/html"}
    both = client.get(base, params={"before": "2505.1", "after": "2505.2"}, headers=html)
    assert both.status_code == 400
    assert client.get(base, params={"before": "has space"}, headers=html).status_code == 422
