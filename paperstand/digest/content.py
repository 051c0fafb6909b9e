"""What one digest holds: the papers of a period for one subscriber, in sections.

Everything a period's digests draw from is fetched once per run (:class:`Contents`): the
curated daily list and trending come from the feeds service, the period's papers are indexed
by category and author once, and each saved search runs once however many subscribers saved
it. Composing 10,000 digests is then a few dictionary look-ups each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from paperstand import feeds
from paperstand.dates import parse_week, week_label
from paperstand.models import Paper
from paperstand.recommend import service as recommend
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.store.digests import Subscriber

DAILY_LIMIT = 15
TRENDING_LIMIT = 10
FOLLOWS_LIMIT = 25
FOR_YOU_LIMIT = 10
# The period's papers considered for follows (a day of arXiv cs is about a thousand).
FOLLOW_CANDIDATES = 20000


@dataclass(frozen=True)
class Period:
    """A day (``day:2026-04-30``) or an ISO week (``week:2026-W18``)."""

    kind: str
    label: str
    first: str
    last: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.label}"

    @property
    def title(self) -> str:
        if self.kind == "day":
            return date.fromisoformat(self.first).strftime("%a %d %b %Y")
        return f"week {self.label}"

    @classmethod
    def day(cls, day: date) -> Period:
        return cls("day", day.isoformat(), day.isoformat(), day.isoformat())

    @classmethod
    def week(cls, day: date) -> Period:
        label = week_label(day)
        first, last = parse_week(label)
        return cls("week", label, first.isoformat(), last.isoformat())


def periods_of(day: date, settings: Settings) -> list[Period]:
    """The periods whose digests go out on ``day``: the day itself, and its ISO week when
    ``day`` is the weekly day."""
    periods = [Period.day(day)]
    if day.weekday() == settings.digest_weekly_day:
        periods.append(Period.week(day))
    return periods


def is_due(subscriber: Subscriber, period: Period) -> bool:
    """Whether ``subscriber`` gets the digest of ``period``: weekly readers get weeks,
    daily readers get weekdays, and Saturdays and Sundays only when they asked."""
    if subscriber.weekly:
        return period.kind == "week"
    if period.kind != "day":
        return False
    return subscriber.weekends or date.fromisoformat(period.first).weekday() < 5


@dataclass
class Section:
    key: str
    title: str
    papers: list[Paper]


@dataclass
class Digest:
    period: Period
    sections: list[Section]

    @property
    def count(self) -> int:
        return sum(len(s.papers) for s in self.sections)


class Contents:
    """The material of one period's digests, fetched once."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        period: Period,
        search: Callable[[str, Period], list[str]] | None = None,
    ) -> None:
        self.store = store
        self.period = period
        self.model = settings.embedding_model
        self._search = search
        self._searched: dict[str, list[Paper]] = {}
        if period.kind == "day":
            listed = feeds.day_list(store, period.first, limit=DAILY_LIMIT * 4).papers
        else:
            listed = feeds.week_list(store, period.label, limit=DAILY_LIMIT * 4).papers
        # Day and week lists are the curated lists (submitted here or featured by Hugging Face).
        self.daily = listed[:DAILY_LIMIT]
        self.trending = feeds.trending_list(
            store, settings, limit=TRENDING_LIMIT, last=period.last
        ).papers
        self._papers = store.papers_on_days(period.first, period.last, limit=FOLLOW_CANDIDATES)
        self._rank = {p.id: n for n, p in enumerate(self._papers)}
        self._by_category: dict[str, list[Paper]] = defaultdict(list)
        self._by_author: dict[str, list[Paper]] = defaultdict(list)
        for paper in self._papers:
            for category in paper.categories:
                self._by_category[category].append(paper)
            for author in paper.authors:
                self._by_author[author.casefold()].append(paper)

    def searched(self, query: str) -> list[Paper]:
        if query not in self._searched:
            ids = self._search(query, self.period) if self._search else []
            self._searched[query] = [p for p in self.store.get_papers(ids) if p.visible]
        return self._searched[query]

    def follows(self, subscriber: Subscriber) -> list[Paper]:
        """The period's papers in the subscriber's categories, by their authors or found by
        their saved searches, best ranked first (the day lists' order)."""
        found: dict[str, Paper] = {}
        for category in subscriber.categories:
            found.update((p.id, p) for p in self._by_category.get(category, ()))
        for author in subscriber.authors:
            found.update((p.id, p) for p in self._by_author.get(author.casefold(), ()))
        ranked = sorted(found.values(), key=lambda p: self._rank[p.id])
        for query in subscriber.searches:
            ranked += [p for p in self.searched(query) if p.id not in found]
            found.update((p.id, p) for p in self.searched(query))
        return ranked[:FOLLOWS_LIMIT]

    def for_you(self, subscriber: Subscriber) -> list[Paper]:
        """The period's papers the personal model picks for the subscriber's account (none
        without an account or any signal); the candidates are read once per period."""
        if subscriber.user_id is None:
            return []
        found = recommend.between(
            self.store,
            self.model,
            subscriber.user_id,
            self.period.first,
            self.period.last,
            limit=FOR_YOU_LIMIT,
        )
        return [pick.paper for pick in found.picks]

    def digest_for(self, subscriber: Subscriber) -> Digest:
        """The subscriber's digest; a paper shows once, in the first section holding it."""
        seen: set[str] = set()
        sections = []
        for key in subscriber.sections:
            if key not in SECTIONS:
                continue
            title, build = SECTIONS[key]
            papers = [p for p in build(self, subscriber) if p.id not in seen]
            seen.update(p.id for p in papers)
            if papers:
                sections.append(Section(key, title, papers))
        return Digest(self.period, sections)


# Each section: its heading and how it is drawn.
SECTIONS: dict[str, tuple[str, Callable[[Contents, Subscriber], list[Paper]]]] = {
    "for_you": ("For you", Contents.for_you),
    "daily": ("The daily list", lambda contents, _: contents.daily),
    "trending": ("Trending", lambda contents, _: contents.trending),
    "follows": ("From what you follow", Contents.follows),
}


def fulltext_search(store: Store, settings: Settings) -> Callable[[str, Period], list[str]]:
    """Saved searches through the site's search, limited to the period's listing days."""
    searcher = None

    def search(query: str, period: Period) -> list[str]:
        nonlocal searcher
        if searcher is None:
            from paperstand.search import Searcher

            searcher = Searcher(store, settings)
        result = searcher.search(query, limit=FOLLOWS_LIMIT, since=period.first, until=period.last)
        return [hit.paper.id for hit in result.hits]

    return search
