"""The daily/weekly/monthly/trending lists service (``paperstand/feeds.py``)."""

from __future__ import annotations

from datetime import date

import pytest

from paperstand import feeds
from paperstand.errors import InvalidInput
from paperstand.models import Paper
from paperstand.store import Store


def test_trending_decays_upvotes_with_age():
    newest = date(2025, 3, 14)
    fresh = Paper(id="1", listed="2025-03-14", upvotes=3)
    older = Paper(id="2", submitted_on="2025-03-10", upvotes=8)
    ancient = Paper(id="3", listed="2025-03-01", upvotes=30)
    # (3+1)/2^1.5 = 1.41 > (8+1)/6^1.5 = 0.61 > (30+1)/15^1.5 = 0.53
    assert [p.id for p in feeds.rank_trending([ancient, older, fresh], newest)] == ["1", "2", "3"]


@pytest.fixture
def lists(store: Store) -> Store:
    store.upsert_papers(
        [
            Paper(id=f"2503.0000{n}", title=f"P{n}", listed=day, upvotes=votes)
            for n, (day, votes) in enumerate(
                [("2025-03-03", 1), ("2025-03-03", 4), ("2025-03-05", 0), ("2025-03-17", 2)]
            )
        ]
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


def test_daily_papers_dispatches_hugging_face_parameters(lists: Store):
    assert feeds.daily_papers(lists).papers[0].id == "2503.00003"
    ranked = feeds.daily_papers(lists, sort="trending")
    assert ranked.papers[0].id == "2503.00003"
    with pytest.raises(InvalidInput, match="week"):
        feeds.daily_papers(lists, day="2025-03-03", week="2025-W10")
    assert feeds.daily_papers(lists, day="2025-03-03", offset=10).papers == []
