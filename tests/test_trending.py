"""Trending on both backends: the documented formula, its settings, star growth and the
"why is this here" numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperstand import community
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.trending import trending
from tests.test_community import add_users


def paper(pid: str, day: str, **fields) -> Paper:
    return Paper(id=pid, title=f"Paper {pid}", submitted_on=day, **fields)


def test_votes_decay_with_age_and_both_kinds_count(store: Store, tmp_path: Path) -> None:
    store.upsert_papers(
        [
            paper("2604.00001", "2026-04-30", upvotes=2),  # fresh, few votes
            paper("2604.00002", "2026-04-25", upvotes=40),  # older, more votes
            paper("2604.00003", "2026-04-10", upvotes=500),  # outside the 14 days
            Paper(id="2604.00004", title="only listed", listed="2026-04-30"),
        ]
    )
    for user in add_users(store, 2):
        community.vote(store.community, user, "2604.00001", up=True)
    settings = Settings(home=tmp_path)
    ranked = trending(store, settings)
    assert [r.entry.paper.id for r in ranked] == ["2604.00002", "2604.00001"]
    fresh = ranked[1].why
    assert (fresh.local_votes, fresh.hf_upvotes, fresh.age_days) == (2, 2, 0)
    assert fresh.score == pytest.approx((2 + 2 + 1) / 2**1.5)
    assert ranked[0].why.score == pytest.approx(41 / 7**1.5)
    assert ranked[1].why.line(settings) == (
        "2 votes here, 2 on Hugging Face, no star data, 0 days old: "
        "(1×2 + 1×2 + 0.1×0 + 1) / (0 + 2)^1.5 = 1.768"
    )
    # Stronger gravity and local votes weighing more put the fresh paper first.
    heavier = settings.model_copy(update={"trending_gravity": 3.0, "trending_weight_local": 5})
    assert [r.entry.paper.id for r in trending(store, heavier)][0] == "2604.00001"


def test_github_star_growth_within_the_window(store: Store, tmp_path: Path) -> None:
    store.upsert_papers(
        [
            paper("2604.00010", "2026-04-29", github_stars=100),
            paper("2604.00011", "2026-04-29", github_stars=1000),
        ]
    )
    assert store.community.snapshot_stars("2026-04-28") == 2
    store.upsert_papers([Paper(id="2604.00010", github_stars=190)])
    settings = Settings(home=tmp_path)
    ranked = trending(store, settings)
    assert [(r.entry.paper.id, r.why.star_growth) for r in ranked] == [
        ("2604.00010", 90),
        ("2604.00011", 0),
    ]
    assert ranked[0].why.score == pytest.approx((0.1 * 90 + 1) / 2**1.5)
    assert "+90 stars" in ranked[0].why.line(settings)
    # A snapshot older than the window does not count.
    later = trending(store, settings.model_copy(update={"trending_days": 1}))
    assert [r.why.star_growth for r in later] == [None, None]


def test_an_empty_store_has_no_trending_papers(store: Store, tmp_path: Path) -> None:
    assert trending(store, Settings(home=tmp_path)) == []
