"""Topics in the lists, over HTTP on every storage backend: a cluster badge on every paper
card, the daily list and New on arXiv grouped by topic, keywords as a search facet (the
search page, ``/api/search``) and the keyword chips of a paper page that link to it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from paperstand import library
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.topics.service import build_topics
from paperstand.web.app import create_app
from tests.topics import slice as real
from tests.web.conftest import serving
from tests.web.test_accounts import csrf_of, sign_up

CURATED_DAY = "2026-04-01"
LISTED_DAY = "2026-03-03"  # 11 of the slice's first 200 papers were listed that day
CURATED = 12
AI_KEYWORD = "Hand-Written Keyword"
BADGE = re.compile(r'class="topic-badge" href="/topics/(\d+)"')


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Iterator[tuple[httpx.Client, Store]]:
    """200 real papers on a fitted map; the first 12 are also on the curated list of
    ``CURATED_DAY`` and the first has keywords from its source."""
    settings = Settings(
        home=tmp_path,
        embedding_model=real.MODEL,
        topics_clusters=6,
        search_fetch_missing=False,
    )
    real.load(store, slice(0, 200))
    papers = real.papers()[:CURATED]
    store.upsert_papers(
        [replace(papers[0], submitted_on=CURATED_DAY, ai_keywords=[AI_KEYWORD])]
        + [replace(p, submitted_on=CURATED_DAY) for p in papers[1:]]
    )
    build_topics(store, settings)
    with serving(create_app(settings, store=store)) as url:
        # Generous timeouts: the first search loads the embedding model on a loaded machine.
        with httpx.Client(base_url=url, timeout=600) as client:
            yield client, store


def cards(html: str) -> list[str]:
    return html.split('<article class="card"')[1:]


def test_every_card_of_every_list_has_its_cluster_badge(site):
    http, store = site
    first = real.papers()[0]
    clusters = store.topics.of_papers([p.id for p in real.papers()[:200]])
    assert len(clusters) == 200
    pages = [
        "/",
        f"/papers/date/{CURATED_DAY}",
        "/papers/week/2026-W14",
        "/papers/month/2026-04",
        f"/papers/new/{LISTED_DAY}",
        f"/categories/{first.categories[0]}",
        f"/authors/{first.authors[0]}",
        f"/topics/{clusters[first.id].id}",
        "/search?q=graph+neural+network",
        f"/search?q={first.id}",  # the direct hit's card too
    ]
    for path in pages:
        answer = http.get(path)
        assert answer.status_code == 200, path
        found = cards(answer.text)
        assert found, path
        for card in found:
            paper_id = re.search(r'<span class="pid">([^<]+)</span>', card).group(1)
            badge = BADGE.search(card)
            assert badge, (path, paper_id)
            assert int(badge.group(1)) == clusters[paper_id].id, (path, paper_id)
            assert clusters[paper_id].label.split(",")[0] in card.replace("&#39;", "'")
    similar = http.get(f"/papers/{first.id}").text.split('id="h-similar"')[-1]
    assert len(BADGE.findall(similar)) == len(cards(similar)) > 0

    # A reader's own pages: saved papers on /lists carry their badges too.
    assert sign_up(http, "ada@lab.example", "ada").status_code == 303
    token = csrf_of(http.get(f"/papers/{first.id}"))
    saved = http.post(f"/papers/{first.id}/save", data={"csrftoken": token, "saved": "1"})
    assert saved.status_code == 303
    [card] = cards(http.get("/lists").text)
    assert int(BADGE.search(card).group(1)) == clusters[first.id].id
    # A reading list's own page: every row carries its paper's badge.
    user = store.accounts.user_by_name("ada")
    made = library.create_list(store, user.id, "Graphs", public=True)
    for paper in real.papers()[:20]:
        library.add_paper(store, user.id, made.id, paper.id)
    rows = http.get(f"/lists/{made.id}").text.split('class="item"')[1:]
    assert len(rows) == 20
    for row in rows:
        paper_id = re.search(r'<span class="pid">([^<]+)</span>', row).group(1)
        assert int(BADGE.search(row).group(1)) == clusters[paper_id].id, paper_id

    # A paper not on the map (embedded after the fit) has no badge, and the page works.
    store.upsert_papers([replace(real.papers()[300], listed=LISTED_DAY)])
    new = http.get(f"/papers/new/{LISTED_DAY}").text
    assert len(cards(new)) == len(BADGE.findall(new)) + 1


def test_the_daily_list_and_new_on_arxiv_group_by_topic(site):
    http, store = site
    for path, size in ((f"/papers/date/{CURATED_DAY}", CURATED), (f"/papers/new/{LISTED_DAY}", 11)):
        plain = http.get(path).text
        assert 'class="topic-group"' not in plain  # ungrouped is the default
        assert f'href="{path}?group=topic">Group by topic</a>' in plain
        grouped = http.get(path, params={"group": "topic"})
        assert grouped.status_code == 200
        sections = grouped.text.split('<section class="topic-group"')[1:]
        clusters = store.topics.of_papers([p.id for p in real.papers()[:200]])
        expected = {clusters[pid].id for pid in re.findall(r'<span class="pid">([^<]+)<', plain)}
        assert len(sections) == len(expected)
        seen = []
        sizes = []
        for section in sections:
            heading = re.search(r'<h2 class="group-head"[^>]*><a href="/topics/(\d+)">', section)
            members = re.findall(r'<span class="pid">([^<]+)<', section)
            assert {clusters[pid].id for pid in members} == {int(heading.group(1))}
            seen += members
            sizes.append(len(members))
        assert sorted(seen) == sorted(re.findall(r'<span class="pid">([^<]+)<', plain))
        assert len(seen) == size and sizes == sorted(sizes, reverse=True)
        assert f'href="{path}">Ungroup</a>' in grouped.text
        # Ranks stay those of the ungrouped list.
        ranks = [int(r) for r in re.findall(r'<li value="(\d+)">', grouped.text)]
        assert sorted(ranks) == list(range(1, size + 1))
    kept = http.get(f"/papers/new/{LISTED_DAY}", params={"category": "cs.LG", "group": "topic"})
    assert kept.status_code == 200
    assert f'href="/papers/new/{LISTED_DAY}?category=cs.LG">Ungroup</a>' in kept.text
    assert http.get("/", params={"group": "cluster"}).status_code == 422


def test_keywords_are_search_facets(site):
    http, store = site
    first = real.papers()[1]
    keyword = store.topics.keywords([first.id])[first.id][0]
    tagged = store.topics.papers_with_keyword(keyword)
    assert first.id in tagged
    assert all(keyword in store.topics.keywords([pid])[pid] for pid in tagged)

    # The paper page's chips link to the facet; the facet alone lists the keyword's papers.
    page = http.get(f"/papers/{first.id}").text
    assert f'href="/search?keyword={quote(keyword, safe="")}"' in page
    facet = http.get("/search", params={"keyword": keyword})
    assert facet.status_code == 200
    listed = re.findall(r'<span class="pid">([^<]+)<', facet.text)
    assert listed == tagged[:20] and f"with the keyword “{keyword}”" in facet.text

    # With words, only papers with the keyword: on the page and in the JSON API.
    api = http.get("/api/search", params={"q": "graph learning", "keyword": keyword})
    assert api.status_code == 200
    hits = [h["id"] for h in api.json()["hits"]]
    assert hits and set(hits) <= set(tagged)
    unfaceted = [
        h["id"] for h in http.get("/api/search", params={"q": "graph learning"}).json()["hits"]
    ]
    assert set(unfaceted) - set(tagged)
    words = http.get("/search", params={"q": "graph learning", "keyword": keyword}).text
    assert set(re.findall(r'<span class="pid">([^<]+)<', words)) <= set(tagged)

    # A source's own keywords are facets too, as written; an unknown keyword finds nothing.
    ai = http.get("/api/search", params={"q": " ", "keyword": AI_KEYWORD}).json()
    assert [h["id"] for h in ai["hits"]] == [real.papers()[0].id]
    assert (
        'href="/search?keyword=Hand-Written%20Keyword"'
        in http.get(f"/papers/{real.papers()[0].id}").text
    )
    none = http.get("/api/search", params={"q": "graph", "keyword": "no such keyword"})
    assert none.json()["hits"] == [] and none.json()["total"] == 0


def test_a_bad_keyword_is_a_json_error(store: Store, tmp_path: Path):
    with serving(create_app(Settings(home=tmp_path), store=store)) as url:
        for keyword in ("", "x" * 101, "tab\there", "nul\x00"):
            answer = httpx.get(f"{url}/api/search", params={"q": "graph", "keyword": keyword})
            assert answer.status_code == 422, keyword
            assert answer.json()["error"]
