"""The store methods behind the daily lists and browsing pages, on every backend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from paperstand.models import Paper
from paperstand.store import Store


@pytest.fixture
def listed(store: Store) -> Store:
    store.upsert_papers(
        [
            Paper(
                id="2503.00001",
                title="A",
                authors=["Ann Lee"],
                listed="2025-03-03",
                categories=["cs.CL", "cs.LG"],
            ),
            Paper(
                id="2503.00002",
                title="B",
                authors=["Bo Li", "Ann Lee"],
                listed="2025-03-03",
                categories=["cs.CV"],
                upvotes=5,
            ),
            Paper(
                id="2503.00003",
                title="C",
                authors=["Ann Leeds"],
                listed="2025-03-03",
                categories=["cs.LG"],
                published="2025-03-01T10:00:00Z",
            ),
            # On Hugging Face's list of a later day: that day wins over the listing day.
            Paper(
                id="2503.00004",
                title="D",
                authors=["Cy Wu"],
                listed="2025-03-03",
                submitted_on="2025-03-07",
                submitted_by="cywu",
                upvotes=2,
                categories=["cs.CL"],
            ),
            Paper(
                id="2503.00005",
                title="E",
                authors=["Cy Wu"],
                submitted_on="2025-03-07",
                submitted_by="someone",
                upvotes=9,
            ),
            Paper(
                id="2503.00006",
                title="F",
                authors=["Ann Lee"],
                listed="2025-03-10",
                categories=["cs.CL"],
            ),
            Paper(id="2503.00007", title="gone", listed="2025-03-12", deleted=True),
        ]
    )
    return store


def ids(papers: list[Paper]) -> list[str]:
    return [p.id for p in papers]


def test_a_day_is_ranked_by_upvotes_then_recency(listed: Store):
    day = listed.papers_on_days("2025-03-03", "2025-03-03", limit=10)
    assert ids(day) == ["2503.00002", "2503.00003", "2503.00001"]
    assert listed.count_on_days("2025-03-03", "2025-03-03") == 3
    assert ids(listed.papers_on_days("2025-03-03", "2025-03-03", limit=1, offset=1)) == [
        "2503.00003"
    ]


def test_the_daily_list_day_wins_over_the_listing_day(listed: Store):
    week = listed.papers_on_days("2025-03-03", "2025-03-09", limit=10)
    assert ids(week) == ["2503.00005", "2503.00002", "2503.00004", "2503.00003", "2503.00001"]
    recent = listed.papers_on_days("2025-03-03", "2025-03-09", limit=10, recent_first=True)
    assert ids(recent)[:2] == ["2503.00005", "2503.00004"]
    mine = listed.papers_on_days("2025-03-01", "2025-03-31", limit=10, submitter="cywu")
    assert ids(mine) == ["2503.00004"]
    assert listed.count_on_days("2025-03-01", "2025-03-31", submitter="cywu") == 1


def test_neighbour_days_skip_empty_days_and_deleted_papers(listed: Store):
    assert listed.latest_day() == "2025-03-10"
    assert listed.neighbour_days("2025-03-07") == ("2025-03-03", "2025-03-10")
    assert listed.neighbour_days("2025-03-05") == ("2025-03-03", "2025-03-07")
    assert listed.neighbour_days("2025-03-10") == ("2025-03-07", None)
    assert listed.neighbour_days("2025-03-03") == (None, "2025-03-07")


def test_authors_match_whole_names_only(listed: Store):
    assert ids(listed.papers_by_author("Ann Lee", limit=10)) == [
        "2503.00006",
        "2503.00002",
        "2503.00001",
    ]
    assert ids(listed.papers_by_author("Ann Lee", limit=1, offset=1)) == ["2503.00002"]
    assert listed.papers_by_author("Nobody Here", limit=10) == []
    assert listed.papers_by_author('Ann "Lee', limit=10) == []


def test_newest_by_authors_reads_a_bounded_run_of_each_name(listed: Store):
    """Each name's papers newest first, at most ``per_author`` of them; names as readers
    type them, one entry per name however it is written, none for names of nobody."""
    found = listed.newest_by_authors(
        ["Ann Lee", "ANN  LEE", "Cy Wu", "Nobody Here", "", 'Ann "Lee'], per_author=2
    )
    assert found == {
        "ann lee": ["2503.00006", "2503.00002"],
        "cy wu": ["2503.00005", "2503.00004"],
        "nobody here": [],
        'ann "lee': [],
    }
    assert listed.newest_by_authors(["Ann Lee"], per_author=0) == {}
    assert listed.newest_by_authors([], per_author=5) == {}


def test_author_names_match_as_readers_type_them(store: Store):
    store.upsert_papers(
        [
            Paper(id="2503.00101", authors=["Zoë Ångström", "Li Wei"], listed="2025-03-02"),
            Paper(id="2503.00102", authors=["Zoe  ANGSTROM"], listed="2025-03-03"),
            Paper(id="2503.00103", authors=["Zoe Angstrom-Berg", "Wei Li"], listed="2025-03-04"),
        ]
    )
    for typed in ("zoe angstrom", "Zoë Ångström", " ZOË   ångström "):
        assert ids(store.papers_by_author(typed, limit=10)) == ["2503.00102", "2503.00101"]
    # Folding stops at case, accents and spaces: other names stay other people.
    assert ids(store.papers_by_author("Li Wei", limit=10)) == ["2503.00101"]
    assert ids(store.papers_by_author("Wei Li", limit=10)) == ["2503.00103"]


def test_author_and_category_pages_follow_updates_and_deletions(store: Store):
    store.upsert_papers(
        [Paper(id="2503.00201", authors=["Ann Lee"], categories=["cs.LG"], listed="2025-03-02")]
    )
    store.upsert_papers(
        [
            Paper(
                id="2503.00201",
                version=2,
                authors=["Bo Chen"],
                categories=["stat.ML"],
                listed="2025-03-02",
            )
        ]
    )
    assert store.papers_by_author("Ann Lee", limit=5) == []
    assert ids(store.papers_by_author("Bo Chen", limit=5)) == ["2503.00201"]
    assert store.papers_in_category("cs.LG", limit=5) == []
    assert ids(store.papers_in_category("stat.ML", limit=5)) == ["2503.00201"]
    store.upsert_papers([Paper(id="2503.00201", deleted=True)])
    assert store.papers_by_author("Bo Chen", limit=5) == []
    assert store.papers_in_category("stat.ML", limit=5) == []


def test_a_paper_is_listed_once_per_name_and_moves_with_its_day(store: Store):
    store.upsert_papers(
        [
            Paper(id="2503.00301", authors=["Ann Lee", "ANN LEE"], listed="2025-03-02"),
            Paper(id="2503.00302", authors=["Ann Lee"], categories=["cs.LG"], listed="2025-03-03"),
            Paper(id="2503.00303", authors=["Ann Lee"], categories=["cs.LG"]),  # no day: last
        ]
    )
    assert ids(store.papers_by_author("ann lee", limit=5)) == [
        "2503.00302",
        "2503.00301",
        "2503.00303",
    ]
    moved = Paper(id="2503.00301", version=2, authors=["Ann Lee"], categories=["cs.LG"])
    store.upsert_papers([replace(moved, submitted_on="2025-03-04")])
    assert ids(store.papers_by_author("ann lee", limit=5)) == [
        "2503.00301",
        "2503.00302",
        "2503.00303",
    ]
    assert ids(store.papers_in_category("cs.LG", limit=5)) == [
        "2503.00301",
        "2503.00302",
        "2503.00303",
    ]


def test_categories_include_cross_lists(listed: Store):
    assert ids(listed.papers_in_category("cs.LG", limit=10)) == ["2503.00003", "2503.00001"]
    assert ids(listed.papers_in_category("cs.CL", limit=10))[0] == "2503.00006"
    assert listed.papers_in_category("math.AG", limit=10) == []


def test_data_version_changes_on_every_write(listed: Store):
    before = listed.data_version()
    listed.upsert_papers([Paper(id="2503.00001", title="A", upvotes=1)])
    after = listed.data_version()
    assert after != before
    listed.upsert_papers([Paper(id="2503.00001", title="A", upvotes=1)])  # unchanged
    listed.upsert_papers([Paper(id="2503.00099", title="new", listed="2025-03-11")])
    assert listed.data_version() != after


@pytest.mark.parametrize("text", ["\x00", "Ann\x00Lee", '"', "()", "*", "a:b"])
def test_odd_names_and_ids_find_nothing_and_never_fail(listed: Store, text: str):
    """User text reaches these through URLs: NUL bytes and query syntax included."""
    assert listed.papers_by_author(text, limit=5) == []
    assert listed.papers_in_category(text, limit=5) == []
    assert listed.get_papers([text, "2503.00001"])[0].id == "2503.00001"
    assert listed.get_paper(text) is None
    assert listed.find_by_doi(text) is None
    assert listed.papers_on_days("2025-03-03", "2025-03-03", limit=5, submitter=text) == []
