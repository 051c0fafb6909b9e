"""Daily, weekly, monthly and trending paper lists: what the home page, the daily-papers API
and the RSS/Atom feeds show.

Which day a paper belongs to is :attr:`Paper.day`: its Hugging Face daily-list day when it
was on that list, else its arXiv listing day, like on huggingface.co/papers.

A list is ranked by upvotes (none counts as 0), then the later day, then the later
publication time, then the larger id; for arXiv-only papers, which have no upvotes, that is
simply newest first.

Trending: ``score = (upvotes + 1) / (age_days + 2) ** 1.5`` (the Hacker News gravity
formula), where ``age_days`` counts from the paper's day to the store's latest day, not to
the wall clock, so a store of past papers still trends sensibly. Only the last
``TRENDING_DAYS`` days compete; upvotes still matter, but a fresh paper with a few votes
beats a week-old one with slightly more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from paperstand.dates import parse_day, parse_month, parse_week, week_label
from paperstand.errors import InvalidInput
from paperstand.models import Paper
from paperstand.store import Store

TRENDING_DAYS = 14
TRENDING_CANDIDATES = 500
GRAVITY = 1.5


@dataclass
class PaperList:
    """One page of a list of papers and where the neighbouring periods are."""

    kind: str  # "date", "week", "month", "trending" or "all"
    label: str  # e.g. "2025-03-18", "2025-W12", "2025-03"
    first: str | None  # first and last day covered
    last: str | None
    papers: list[Paper]
    total: int
    previous: str | None = None  # label of the nearest earlier period that has papers
    next: str | None = None


def latest_day(store: Store) -> str | None:
    return store.latest_day()


def day_list(
    store: Store,
    day: str,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
    recent_first: bool = False,
) -> PaperList:
    """The papers of one day, with the nearest earlier and later days that have papers."""
    parse_day(day)
    papers = store.papers_on_days(
        day, day, limit=limit, offset=offset, submitter=submitter, recent_first=recent_first
    )
    total = store.count_on_days(day, day, submitter=submitter)
    previous, following = store.neighbour_days(day)
    return PaperList("date", day, day, day, papers, total, previous, following)


def _period_list(
    store: Store,
    kind: str,
    label: str,
    first: date,
    last: date,
    labeller,
    **options,
) -> PaperList:
    lo, hi = first.isoformat(), last.isoformat()
    submitter = options.get("submitter")
    papers = store.papers_on_days(lo, hi, **options)
    total = store.count_on_days(lo, hi, submitter=submitter)
    before, _ = store.neighbour_days(lo)
    _, after = store.neighbour_days(hi)
    previous = labeller(date.fromisoformat(before)) if before else None
    following = labeller(date.fromisoformat(after)) if after else None
    return PaperList(kind, label, lo, hi, papers, total, previous, following)


def week_list(
    store: Store,
    week: str,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
    recent_first: bool = False,
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
    )


def month_list(
    store: Store,
    month: str,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
    recent_first: bool = False,
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
    )


def all_days(
    store: Store,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
) -> PaperList:
    """Every day's papers, the latest day first (each day ranked): the API's default."""
    first, last = "0000-00-00", "9999-99-99"
    papers = store.papers_on_days(
        first, last, limit=limit, offset=offset, submitter=submitter, recent_first=True
    )
    total = store.count_on_days(first, last, submitter=submitter)
    return PaperList("all", "all", None, None, papers, total)


def trending_score(paper: Paper, newest: date) -> float:
    day = paper.day
    age = max((newest - date.fromisoformat(day)).days, 0) if day else TRENDING_DAYS
    return ((paper.upvotes or 0) + 1) / (age + 2) ** GRAVITY


def rank_trending(papers: list[Paper], newest: date) -> list[Paper]:
    """``papers`` by trending score, best first (ties: the later day, then larger id)."""
    return sorted(
        papers,
        key=lambda p: (trending_score(p, newest), p.day or "", p.id),
        reverse=True,
    )


def trending(
    store: Store,
    *,
    limit: int = 50,
    offset: int = 0,
    submitter: str | None = None,
) -> PaperList:
    """The trending list over the store's last ``TRENDING_DAYS`` days."""
    newest = store.latest_day()
    if newest is None:
        return PaperList("trending", "trending", None, None, [], 0)
    last = date.fromisoformat(newest)
    first = (last - timedelta(days=TRENDING_DAYS - 1)).isoformat()
    candidates = store.papers_on_days(first, newest, limit=TRENDING_CANDIDATES, submitter=submitter)
    ranked = rank_trending(candidates, last)
    return PaperList(
        "trending", "trending", first, newest, ranked[offset : offset + limit], len(ranked)
    )


def daily_papers(
    store: Store,
    *,
    day: str | None = None,
    week: str | None = None,
    month: str | None = None,
    submitter: str | None = None,
    sort: str | None = None,
    limit: int = 50,
    offset: int = 0,
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
    if sort == "trending":
        if not given:
            return trending(store, limit=limit, offset=offset, submitter=submitter)
        found = daily_papers(
            store,
            day=day,
            week=week,
            month=month,
            submitter=submitter,
            limit=TRENDING_CANDIDATES,
        )
        newest = date.fromisoformat(found.last) if found.last else date.today()
        found.papers = rank_trending(found.papers, newest)[offset : offset + limit]
        return found
    options = {
        "limit": limit,
        "offset": offset,
        "submitter": submitter,
        "recent_first": sort == "publishedAt",
    }
    if day is not None:
        return day_list(store, day, **options)
    if week is not None:
        return week_list(store, week, **options)
    if month is not None:
        return month_list(store, month, **options)
    return all_days(store, limit=limit, offset=offset, submitter=submitter)
