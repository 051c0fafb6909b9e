"""Trending: which recent papers of the curated lists people are reading now.

The formula (parameters in settings, defaults in brackets)::

    score = (w_local * local_votes + w_hf * hf_upvotes + w_stars * star_growth + 1)
            / (age_days + 2) ** gravity

- ``local_votes``: upvotes given on this site; ``hf_upvotes``: upvotes imported from
  Hugging Face (stored apart, so neither counts twice); weights ``w_local`` [1.0] and
  ``w_hf`` [1.0] (``PAPERSTAND_TRENDING_WEIGHT_LOCAL``, ``..._HF``).
- ``star_growth``: GitHub stars the paper's repository gained within the window, from the
  daily snapshots of the ``github-stars`` job (0 where unknown: no repository, or no
  snapshot yet), weight ``w_stars`` [0.1] (``..._STARS``): ten new stars weigh one vote.
- ``age_days``: from the paper's curated day to the newest curated day (not the wall clock,
  so a store of past papers still trends sensibly); ``gravity`` [1.5]
  (``PAPERSTAND_TRENDING_GRAVITY``) is how fast age wins over votes (Hacker News' formula).
- Only the curated lists of the last ``PAPERSTAND_TRENDING_DAYS`` [14] days compete.

Ties go to the later day, then the larger id. Each ranked paper carries an
:class:`Explanation` with these numbers, which the trending page prints as "why is this here".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from paperstand.community import Entry, entries
from paperstand.settings import Settings
from paperstand.store import Store


@dataclass(frozen=True, slots=True)
class Explanation:
    local_votes: int
    hf_upvotes: int
    star_growth: int | None  # None: unknown
    age_days: int
    score: float

    def line(self, settings: Settings) -> str:
        """The numbers that placed the paper, as one readable line."""
        stars = "no star data" if self.star_growth is None else f"+{self.star_growth} stars"
        return (
            f"{self.local_votes} votes here, {self.hf_upvotes} on Hugging Face, {stars}, "
            f"{self.age_days} day{'s' * (self.age_days != 1)} old: "
            f"({settings.trending_weight_local:g}×{self.local_votes} "
            f"+ {settings.trending_weight_hf:g}×{self.hf_upvotes} "
            f"+ {settings.trending_weight_stars:g}×{max(self.star_growth or 0, 0)} + 1)"
            f" / ({self.age_days} + 2)^{settings.trending_gravity:g} = {self.score:.3f}"
        )


@dataclass(frozen=True, slots=True)
class Ranked:
    entry: Entry
    why: Explanation


def explain(entry: Entry, newest: date, settings: Settings) -> Explanation:
    """The score of one curated paper, with the numbers it is made of."""
    standing = entry.standing
    day = entry.listed.day
    age = max((newest - date.fromisoformat(day)).days, 0) if day else settings.trending_days
    growth = entry.listed.star_growth
    votes = (
        settings.trending_weight_local * standing.local_votes
        + settings.trending_weight_hf * standing.hf_votes
        + settings.trending_weight_stars * max(growth or 0, 0)
        + 1
    )
    score = votes / (age + 2) ** settings.trending_gravity
    return Explanation(standing.local_votes, standing.hf_votes, growth, age, score)


def trending(
    store: Store,
    settings: Settings,
    *,
    first: str | None = None,
    last: str | None = None,
    user_id: int | None = None,
) -> list[Ranked]:
    """Every curated paper of ``first``..``last`` (default: the last ``trending_days``
    days up to the newest curated day) by trending score, best first."""
    last = last or store.community.latest_curated_day()
    if last is None:
        return []
    newest = date.fromisoformat(last)
    if first is None:
        first = (newest - timedelta(days=settings.trending_days - 1)).isoformat()
    listed = store.community.trending_candidates(first, last, stars_since=first, user_id=user_id)
    ranked = [Ranked(entry, explain(entry, newest, settings)) for entry in entries(store, listed)]
    ranked.sort(
        key=lambda r: (r.why.score, r.entry.listed.day or "", r.entry.paper.id), reverse=True
    )
    return ranked
