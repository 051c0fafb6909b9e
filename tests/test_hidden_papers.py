"""A paper an admin hid is left out of every list readers see, on both backends: full-text
and dense search, similar papers, direct hits, author, category and day lists, the curated
lists, trending and the topic map; shown again once un-hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperstand import community, trending
from paperstand.errors import NotFound
from paperstand.index.build import build_index
from paperstand.index.embeddings import get_embedder
from paperstand.lookup import find_paper, resolve
from paperstand.settings import Settings
from paperstand.store import Store
from tests.search_corpus import TEST_MODEL, first_listings
from tests.test_search import ingest_listings, searcher_for


@pytest.fixture
def corpus(store: Store, tmp_path: Path) -> tuple[Store, list[dict], int]:
    rows = first_listings(40)
    ingest_listings(store, rows, tmp_path)
    build_index(
        store,
        Settings(home=tmp_path, embedding_model=TEST_MODEL),
        embedder=get_embedder(TEST_MODEL),
    )
    admin = store.accounts.add_user("admin@lab.example", "admin", None, is_admin=True)
    return store, rows, admin.id


def seen(store: Store, row: dict, tmp_path: Path) -> dict[str, bool]:
    """Where the paper of ``row`` shows up for a reader."""
    pid = row["id"]
    searcher = searcher_for(store, tmp_path, search_fetch_missing=False)
    paper = store.get_paper(pid)
    assert paper is not None
    text_hits = searcher.search(paper.title, limit=40).hits
    by_abstract = searcher.search(paper.abstract[:300], limit=40).hits
    neighbour = next(r["id"] for r in reversed(first_listings(40)) if r["id"] != pid)
    category = paper.categories[0]
    day = paper.listed
    assert day is not None
    return {
        "search": pid in [h.paper.id for h in text_hits],
        # Worded unlike the title: found through the embeddings as much as the words.
        "abstract": pid in [h.paper.id for h in by_abstract],
        "direct": searcher.search(pid).direct is not None,
        "similar": pid in [h.paper.id for h in searcher.similar(neighbour, limit=39)],
        "author": pid in [p.id for p in store.papers_by_author(paper.authors[0], limit=50)],
        "category": pid in [p.id for p in store.papers_in_category(category, limit=50)],
        "day": pid in [p.id for p in store.papers_on_days(day, day, limit=100)],
        "new_on_arxiv": pid in [e.paper.id for e in community.new_on_arxiv(store, day).entries],
        "lookup": resolve(store, pid) is not None,
    }


def test_a_hidden_paper_is_on_no_list_until_shown_again(corpus, tmp_path: Path) -> None:
    store, rows, admin = corpus
    row = rows[5]
    assert all(seen(store, row, tmp_path).values())
    store.community.set_paper_hidden(row["id"], admin, True)
    assert store.get_paper(row["id"]).hidden
    found = seen(store, row, tmp_path)
    assert not any(found.values()), found
    with pytest.raises(NotFound):
        find_paper(store, row["id"])
    with pytest.raises(NotFound):
        searcher_for(store, tmp_path).similar(row["id"])
    assert find_paper(store, row["id"], with_hidden=True).id == row["id"]
    # The others are unaffected.
    assert all(seen(store, rows[6], tmp_path).values())
    store.community.set_paper_hidden(row["id"], admin, False)
    assert all(seen(store, row, tmp_path).values())


def test_hidden_papers_leave_the_curated_lists_and_trending(store: Store, tmp_path: Path) -> None:
    from paperstand.models import Paper

    day = "2026-04-30"
    store.upsert_papers(
        [Paper(id=f"2604.0000{n}", title=f"P{n}", submitted_on=day, upvotes=n) for n in (1, 2)]
    )
    admin = store.accounts.add_user("admin@lab.example", "admin", None, is_admin=True).id
    settings = Settings(home=tmp_path)

    def listed() -> tuple[list[str], list[str]]:
        entries, _ = community.curated(store, day, day)
        ranked = trending.trending(store, settings, last=day)
        return [e.paper.id for e in entries], [r.entry.paper.id for r in ranked]

    assert listed() == (["2604.00002", "2604.00001"], ["2604.00002", "2604.00001"])
    store.community.set_paper_hidden("2604.00002", admin, True)
    assert listed() == (["2604.00001"], ["2604.00001"])
    with pytest.raises(NotFound):
        community.paper_standing(store, "2604.00002")
