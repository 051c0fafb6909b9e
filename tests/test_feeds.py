"""The daily/weekly/monthly/trending lists service (``paperstand/feeds.py``): curated lists,
papers submitted here or featured by Hugging Face (trending itself: tests/test_trending.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperstand import feeds
from paperstand.errors import InvalidInput
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from tests.test_community import add_users


@pytest.fixture
def lists(store: Store) -> Store:
    store.upsert_papers(
        [
            Paper(id=f"2503.0000{n}", title=f"P{n}", submitted_on=day, upvotes=votes)
            for n, (day, votes) in enumerate(
                [("2025-03-03", 1), ("2025-03-03", 4), ("2025-03-05", 0), ("2025-03-17", 2)]
            )
        ]
        # Listed by arXiv only: on "New on arXiv", never on a curated list.
        + [Paper(id="2503.00009", title="P9", listed="2025-03-05", upvotes=50)]
    )
    return store


def test_day_week_and_month_lists_know_their_neighbours(lists: Store):
    day = feeds.day_list(lists, "2025-03-05")
    assert [p.id for p in day.papers] == ["2503.00002"]
    assert (day.previous, day.next, day.total) == ("2025-03-03", "2025-03-17", 1)
    week = feeds.week_list(lists, "2025-W10")
    assert [p.id for p in week.papers] == ["2503.00001", "2503.00000", "2503.00002"]
    assert (week.previous, week.next) == (None, "2025-W12")
    month = feeds.month_list(lists, "2025-03", limit=2)
    assert month.total == 4 and len(month.papers) == 2 and month.next is None


def test_daily_papers_dispatches_hugging_face_parameters(lists: Store, tmp_path: Path):
    settings = Settings(home=tmp_path)
    assert feeds.daily_papers(lists, settings).papers[0].id == "2503.00003"
    ranked = feeds.daily_papers(lists, settings, sort="trending")
    assert ranked.papers[0].id == "2503.00003"
    assert set(ranked.why) == {p.id for p in ranked.papers}
    in_week = feeds.daily_papers(lists, settings, week="2025-W10", sort="trending")
    assert [p.id for p in in_week.papers] == ["2503.00001", "2503.00000", "2503.00002"]
    with pytest.raises(InvalidInput, match="week"):
        feeds.daily_papers(lists, settings, day="2025-03-03", week="2025-W10")
    assert feeds.daily_papers(lists, settings, day="2025-03-03", offset=10).papers == []


def test_local_votes_count_on_the_lists_beside_imported_ones(lists: Store):
    voters = add_users(lists, 4)
    for user in voters:
        lists.community.vote(user, "2503.00000", up=True)
    day = feeds.day_list(lists, "2025-03-03", user_id=voters[1])
    assert [p.id for p in day.papers] == ["2503.00000", "2503.00001"]
    first = day.entries[0].standing
    assert (first.upvotes, first.local_votes, first.hf_votes, first.upvoted) == (5, 4, 1, True)
