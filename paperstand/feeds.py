"""Daily, weekly, monthly and trending paper lists: what the home page, the daily-papers API
and the RSS/Atom feeds show.

**The daily list is the curated list** (``paperstand/community.py``): the papers submitted
here that day and those Hugging Face featured that day; everything arXiv listed is its own
view (``community.new_on_arxiv``). A week or a month is the union of its days' lists.

A list is ranked by upvotes (the votes given here plus those imported from Hugging Face),
then the later day, then the later publication time, then the larger id. Trending is
``paperstand/trending.py``: votes decayed by age, plus GitHub-star growth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from paperstand import community, trending
from paperstand.community import Entry
from paperstand.dates import parse_day, parse_month, parse_week, week_label
from paperstand.errors import InvalidInput
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store


@dataclass
class PaperList:
    """One page of a list of papers and where the neighbouring periods are."""

    kind: str  # "date", "week", "month", "trending" or "all"
    label: str  # e.g. "2025-03-18", "2025-W12", "2025-03"
    first: str | None  # first and last day covered
    last: str | None
    entries: list[Entry]
    total: int
    previous: str | None = None  # label of the nearest earlier period that has papers
    next: str | None = None
    # Trending lists: why each paper (by id) is there.
    why: dict[str, trending.Explanation] = field(default_factory=dict)

    @property
    def papers(self) -> list[Paper]:
        return [entry.paper for entry in self.entries]


def latest_day(store: Store) -> str | None:
    """The newest day with a curated list."""
    return store.community.latest_curated_day()


def day_list(
    store: Store,
    day: str,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
    recent_first: bool = False,
    user_id: int | None = None,
) -> PaperList:
    """The curated list of one day, with the nearest earlier and later days that have one."""
    first = parse_day(day)
    return _period_list(
        store,
        "date",
        day,
        first,
        first,
        date.isoformat,
        limit=limit,
        offset=offset,
        submitter=submitter,
        recent_first=recent_first,
        user_id=user_id,
    )


def _period_list(
    store: Store,
    kind: str,
    label: str,
    first: date,
    last: date,
    labeller: Callable[[date], str],
    **options,
) -> PaperList:
    lo, hi = first.isoformat(), last.isoformat()
    entries, total = community.curated(store, lo, hi, **options)
    before, after = store.community.curated_neighbours(lo, hi)
    previous = labeller(date.fromisoformat(before)) if before else None
    following = labeller(date.fromisoformat(after)) if after else None
    return PaperList(kind, label, lo, hi, entries, total, previous, following)


def week_list(
    store: Store,
    week: str,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
    recent_first: bool = False,
    user_id: int | None = None,
) -> PaperList:
    first, last = parse_week(week)
    return _period_list(
        store,
        "week",
        week,
        first,
        last,
        week_label,
        limit=limit,
        offset=offset,
        submitter=submitter,
        recent_first=recent_first,
        user_id=user_id,
    )


def month_list(
    store: Store,
    month: str,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
    recent_first: bool = False,
    user_id: int | None = None,
) -> PaperList:
    first, last = parse_month(month)
    return _period_list(
        store,
        "month",
        month,
        first,
        last,
        lambda d: d.strftime("%Y-%m"),
        limit=limit,
        offset=offset,
        submitter=submitter,
        recent_first=recent_first,
        user_id=user_id,
    )


def all_days(
    store: Store,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
    user_id: int | None = None,
) -> PaperList:
    """Every day's curated papers, the latest day first (each day ranked): the API's
    default."""
    entries, total = community.curated(
        store,
        "0000-00-00",
        "9999-99-99",
        limit=limit,
        offset=offset,
        submitter=submitter,
        recent_first=True,
        user_id=user_id,
    )
    return PaperList("all", "all", None, None, entries, total)


def trending_list(
    store: Store,
    settings: Settings,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
    first: str | None = None,
    last: str | None = None,
    user_id: int | None = None,
) -> PaperList:
    """The trending list (``paperstand/trending.py``), over the last
    ``PAPERSTAND_TRENDING_DAYS`` days unless ``first``..``last`` is given."""
    ranked = trending.trending(store, settings, first=first, last=last, user_id=user_id)
    if submitter is not None:
        ranked = [r for r in ranked if r.entry.paper.submitted_by == submitter]
    page = ranked[offset : offset + limit]
    days = [r.entry.listed.day for r in ranked if r.entry.listed.day]
    return PaperList(
        "trending",
        "trending",
        first or (min(days) if days else None),
        last or (max(days) if days else None),
        [r.entry for r in page],
        len(ranked),
        why={r.entry.paper.id: r.why for r in page},
    )


def daily_papers(
    store: Store,
    settings: Settings,
    *,
    day: str | None = None,
    week: str | None = None,
    month: str | None = None,
    submitter: str | None = None,
    sort: str | None = None,
    limit: int = 50,
    offset: int = 0,
    user_id: int | None = None,
) -> PaperList:
    """The list ``/api/daily_papers`` serves, with Hugging Face's parameters.

    At most one of ``day``/``week``/``month``; without one, every day, the latest first.
    ``sort`` is None (ranked by upvotes), ``"publishedAt"`` (latest day first) or
    ``"trending"`` (the trending score, within the period when one is given).
    """
    periods = (("date", day), ("week", week), ("month", month))
    given = [name for name, value in periods if value is not None]
    if len(given) > 1:
        raise InvalidInput(f"give only one of date, week, month (got {', '.join(given)})")
    if sort not in (None, "publishedAt", "trending"):
        raise InvalidInput(f"sort must be publishedAt or trending, got {sort!r}")
    options = {"limit": limit, "offset": offset, "submitter": submitter, "user_id": user_id}
    if sort == "trending":
        first = last = None
        if day is not None:
            first = last = parse_day(day).isoformat()
        elif week is not None or month is not None:
            lo, hi = parse_week(week) if week is not None else parse_month(month or "")
            first, last = lo.isoformat(), hi.isoformat()
        return trending_list(store, settings, first=first, last=last, **options)
    recent = sort == "publishedAt"
    if day is not None:
        return day_list(store, day, recent_first=recent, **options)
    if week is not None:
        return week_list(store, week, recent_first=recent, **options)
    if month is not None:
        return month_list(store, month, recent_first=recent, **options)
    return all_days(store, **options)
