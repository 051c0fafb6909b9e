"""The "for you" service: a reader's signals from the store, the new papers of the last days
ranked for them by :mod:`paperstand.recommend.model`, thumbs, onboarding and feed tokens.

Signals, all read when the feed is asked for (a profile is a few dozen vectors, cheaper to
rebuild than to keep fresh, so feedback counts at the next page load, with no training job):

- liked: the reader's upvotes, thumbs up (onboarding picks and pasted ids are thumbs up),
  saved papers and reading lists, and the papers of their approved authorship claims;
- turned down: thumbs down (pushes a paper's neighbourhood down, and the paper out);
- followed authors (each weighs like three liked papers of theirs) and categories;
- saved searches (a followed query with its filters): the new papers among a search's
  results rank up and say "matches your saved search". The caller passes the site's search
  (this module never loads indexes, as in ``follows``); each saved search is asked for the
  feed's days only, so its results are the new papers it finds, not its best of all time.

The candidates are the papers whose day falls within the last ``days`` days up to the
store's latest day (so a store fed from an archive still has a feed); they and their vectors
are read once per store version and kept in memory, which is what keeps one reader's feed
within its time budget (``benchmarks/recs_speed.py``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from threadpoolctl import ThreadpoolController

from paperstand import follows, ids, library
from paperstand.accounts.credentials import new_token, token_digest
from paperstand.errors import InvalidInput
from paperstand.models import Paper
from paperstand.recommend.model import (
    DEFAULT_WEIGHTS,
    Item,
    Pick,
    Pool,
    Profile,
    build_profile,
    rank,
)
from paperstand.store import Store

DEFAULT_DAYS = 7
MAX_DAYS = 31
DEFAULT_LIMIT = 30
MAX_LIMIT = 200
# Enough new papers for a month of arXiv's busiest lists; older ones are not "new".
MAX_CANDIDATES = 20_000
MIN_PICKS = 5
ONBOARDING_DAYS = 30
ONBOARDING_SIZE = 12
FEED_TOKEN_PREFIX = "psf_"


@dataclass(frozen=True, slots=True)
class Signals:
    """What the reader told us, as paper ids (liked in the order given, oldest first)."""

    liked: list[str]
    disliked: set[str]
    followed_authors: list[str]
    followed_categories: list[str]
    followed_searches: list[tuple[str, dict]] = field(default_factory=list)  # query, filters

    @property
    def seen(self) -> set[str]:
        """Papers not to recommend again."""
        return set(self.liked) | self.disliked


@dataclass(frozen=True, slots=True)
class Recommendation:
    paper: Paper
    score: float
    reasons: tuple


@dataclass(frozen=True, slots=True)
class ForYou:
    """A reader's feed: picks best first, or ``onboarding`` when nothing is known yet."""

    first: str | None
    last: str | None
    picks: list[Recommendation]
    onboarding: bool


def signals(store: Store, user_id: int) -> Signals:
    """The reader's signals, read from the store now."""
    thumbs = store.recs.feedback(user_id)
    disliked = {paper for paper, value in thumbs.items() if value < 0}
    liked = (
        store.recs.upvoted(user_id)
        + [p for p, value in thumbs.items() if value > 0]
        + sorted(library.saved_paper_ids(store, user_id))
        + sorted(follows.claimed_paper_ids(store, user_id))
    )
    followed = follows.follows_of(store, user_id)
    return Signals(
        liked=[p for p in dict.fromkeys(liked) if p not in disliked],
        disliked=disliked,
        followed_authors=[f.value for f in followed if f.kind == "author"],
        followed_categories=[f.value for f in followed if f.kind == "category"],
        followed_searches=[(f.value, f.filters) for f in followed if f.kind == "search"],
    )


def search_hits(
    found: Signals, search: follows.Search | None, first: str, last: str
) -> dict[str, str]:
    """The papers of ``first``..``last`` that the reader's saved searches find, each with the
    query of the first search that found it. A search's own date filters still hold."""
    hits: dict[str, str] = {}
    if search is None:
        return hits
    for query, filters in found.followed_searches:
        since = max(filters.get("since") or first, first)
        until = min(filters.get("until") or last, last)
        if since > until:
            continue
        for paper_id in search(query, {**filters, "since": since, "until": until}):
            hits.setdefault(paper_id, query)
    return hits


@dataclass(frozen=True, slots=True)
class Candidates:
    """The new papers of a window, with their vectors (zero rows where a paper has none:
    it can still be picked for its authors or category)."""

    papers: list[Paper]
    items: list[Item]
    vectors: np.ndarray
    prepared: Pool  # what scoring needs of them for every reader, made once


class _CandidateCache:
    """The last few windows' candidates, keyed by the store versions they were read at."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._items: OrderedDict[tuple, Candidates] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Candidates | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple, value: Candidates) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_cache = _CandidateCache()
_threads = ThreadpoolController()


def _one_blas_thread():  # noqa: ANN202 (threadpoolctl's limiter has no public type)
    """A context in which numpy's BLAS runs on one thread. A reader's products are small
    (a week's papers times a few dozen liked ones): OpenBLAS's worker threads wait for work
    by spinning, and on a loaded machine that spinning cost 5x the CPU of the arithmetic
    itself (``docs/benchmarks.md``); one thread per feed, and two feeds in parallel, use
    the cores better."""
    return _threads.limit(limits=1, user_api="blas")


def window(store: Store, days: int) -> tuple[str, str] | None:
    """The first and last day of the last ``days`` days that the store has papers for."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}")
    last = store.latest_day()
    if last is None:
        return None
    first = (date.fromisoformat(last[:10]) - timedelta(days=days - 1)).isoformat()
    return first, last[:10]


def candidates(store: Store, model: str, first: str, last: str) -> Candidates:
    """The papers of ``first``..``last`` and their vectors of ``model`` (cached until the
    papers or the embeddings change)."""
    key = (store.url, model, first, last, *store.recs.versions())
    found = _cache.get(key)
    if found is not None:
        return found
    hidden = store.community.hidden_paper_ids()
    papers = [
        p
        for p in store.papers_on_days(first, last, limit=MAX_CANDIDATES, recent_first=True)
        if p.id not in hidden
    ]
    items = [Item.of(p) for p in papers]
    found = Candidates(papers, items, _vectors(store, model, papers), Pool.of(items))
    _cache.put(key, found)
    return found


def _vectors(store: Store, model: str, papers: Sequence[Paper]) -> np.ndarray:
    stored = store.get_embeddings(model, [p.id for p in papers])
    dim = len(next(iter(stored.values()))) if stored else 1
    out = np.zeros((len(papers), dim), np.float32)
    for i, paper in enumerate(papers):
        vector = stored.get(paper.id)
        if vector is not None and len(vector) == dim:
            out[i] = vector
    return out


def profile(
    store: Store,
    model: str,
    found: Signals,
    dim: int,
    known: tuple[dict[str, Paper], dict[str, np.ndarray]] | None = None,
    hits: dict[str, str] | None = None,
) -> Profile:
    """The reader's model profile from their signals (``hits``: what their saved searches
    found, from :func:`search_hits`); ``known`` (papers and vectors read beforehand for many
    readers) saves reading them again."""
    wanted = found.liked + sorted(found.disliked)
    if known is None:
        known = (
            {p.id: p for p in store.get_papers(wanted)},
            store.get_embeddings(model, wanted),
        )
    papers, stored = known
    zero = np.zeros(dim, np.float32)

    def vectors(chosen: list[Paper]) -> np.ndarray:
        rows = [stored.get(p.id) for p in chosen]
        return np.stack([v if v is not None and len(v) == dim else zero for v in rows] or [zero])

    liked = [papers[p] for p in found.liked if p in papers]
    down = [papers[p] for p in sorted(found.disliked) if p in papers]
    return build_profile(
        [Item.of(p) for p in liked],
        vectors(liked)[: len(liked)],
        dim=dim,
        disliked_vectors=vectors(down)[: len(down)],
        followed_authors=found.followed_authors,
        followed_categories=found.followed_categories,
        followed_searches=[query for query, _ in found.followed_searches],
        search_hits=hits,
    )


def for_you(
    store: Store,
    model: str,
    user_id: int,
    *,
    days: int = DEFAULT_DAYS,
    limit: int = DEFAULT_LIMIT,
    search: follows.Search | None = None,
) -> ForYou:
    """The reader's "for you" feed: the new papers of the last ``days`` days, best first,
    each with its reasons; ``onboarding`` (and no picks) when the reader gave no signal.
    ``search`` runs the reader's saved searches (none without it)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    span = window(store, days)
    if span is None:
        return ForYou(None, None, [], onboarding=not signals(store, user_id).liked)
    return between(store, model, user_id, *span, limit=limit, search=search)


def between(
    store: Store,
    model: str,
    user_id: int,
    first: str,
    last: str,
    *,
    limit: int,
    search: follows.Search | None = None,
) -> ForYou:
    """The reader's picks among the papers of ``first``..``last`` (a digest's period)."""
    found = signals(store, user_id)
    pool = candidates(store, model, first, last)
    hits = search_hits(found, search, first, last)
    reader = profile(store, model, found, pool.vectors.shape[1], hits=hits)
    if reader.empty:
        return ForYou(first, last, [], onboarding=True)
    with _one_blas_thread():
        picks = recommend(reader, pool, limit, seen=found.seen)
    return ForYou(first, last, picks, onboarding=False)


def recommend(
    reader: Profile, pool: Candidates, limit: int, *, seen: set[str]
) -> list[Recommendation]:
    """The reader's top ``limit`` of ``pool``, leaving out papers they have seen."""
    by_id = {p.id: p for p in pool.papers}
    picks: list[Pick] = rank(
        reader,
        pool.items,
        pool.vectors,
        limit=limit,
        weights=DEFAULT_WEIGHTS,
        exclude=seen,
        pool=pool.prepared,
    )
    return [Recommendation(by_id[pick.item.id], pick.score, pick.reasons) for pick in picks]


def for_many(
    store: Store,
    model: str,
    user_ids: Sequence[int],
    *,
    days: int,
    limit: int,
    search: follows.Search | None = None,
) -> dict[int, list[Recommendation]]:
    """Feeds of many readers at once (a nightly batch): the candidates, and the papers and
    vectors of everything the readers liked, are read once for all of them."""
    span = window(store, days)
    if span is None:
        return {user: [] for user in user_ids}
    pool = candidates(store, model, *span)
    found = {user: signals(store, user) for user in user_ids}
    every = sorted({p for s in found.values() for p in s.liked + sorted(s.disliked)})
    known = ({p.id: p for p in store.get_papers(every)}, store.get_embeddings(model, every))
    out: dict[int, list[Recommendation]] = {}
    with _one_blas_thread():
        for user, told in found.items():
            hits = search_hits(told, search, *span)
            reader = profile(store, model, told, pool.vectors.shape[1], known, hits)
            out[user] = [] if reader.empty else recommend(reader, pool, limit, seen=told.seen)
    return out


# --- feedback and onboarding --------------------------------------------------------------


def thumb(store: Store, user_id: int, reference: str, value: int) -> None:
    """Thumbs up (1), down (-1) or neither (0) on a paper, by id or arXiv URL."""
    if value not in (-1, 0, 1):
        raise InvalidInput("a thumb is 1 (up), -1 (down) or 0 (take it back)")
    store.recs.set_feedback(user_id, _paper_id(reference), value)


def _paper_id(reference: str) -> str:
    """The canonical id of a paper named by id, URL or DOI; :class:`InvalidInput` else."""
    parsed = ids.parse_reference(reference.strip())
    if parsed is None:
        raise InvalidInput(f"not a paper id: {reference[:80]!r}")
    return parsed.id


def onboarding_sample(store: Store, *, size: int = ONBOARDING_SIZE) -> list[Paper]:
    """A diverse sample of recent papers for a new reader to pick from: the most upvoted
    recent paper of each topic cluster, largest clusters first; by primary category when
    there is no topic map; topped up with the most upvoted recent papers."""
    last = store.latest_day()
    if last is None:
        return []
    first = (date.fromisoformat(last[:10]) - timedelta(days=ONBOARDING_DAYS - 1)).isoformat()
    hidden = store.community.hidden_paper_ids()
    recent = [p for p in store.papers_on_days(first, last[:10], limit=2000) if p.id not in hidden]
    points = store.topics.points(paper_ids=[p.id for p in recent])
    cluster_of = {point.paper_id: point.cluster for point in points}
    sizes = {cluster.id: cluster.size for cluster in store.topics.clusters()}

    def group(paper: Paper) -> tuple[int, object]:
        if paper.id in cluster_of:
            return -sizes.get(cluster_of[paper.id], 0), cluster_of[paper.id]
        return 0, paper.categories[0] if paper.categories else None

    best: dict[object, Paper] = {}
    for paper in recent:  # most upvoted first
        best.setdefault(group(paper), paper)
    sample = [best[key] for key in sorted(best, key=lambda key: (key[0], str(key[1])))][:size]
    chosen = {p.id for p in sample}
    sample += [p for p in recent if p.id not in chosen][: size - len(sample)]
    return sample


@dataclass(frozen=True, slots=True)
class Onboarded:
    recorded: list[str]
    unknown: list[str]
    problems: list[tuple[str, str]] = field(default_factory=list)  # (BibTeX entry, why)


# One BibTeX onboarding at most: a researcher's own papers, not a library.
MAX_BIBTEX_ENTRIES = 2_000


def onboard(
    store: Store, user_id: int, picks: Sequence[str], pasted: str = "", bibtex: str = ""
) -> Onboarded:
    """Record a new reader's picks (ids from the sample), pasted arXiv ids (any text with
    ids separated by spaces, commas or lines) and the papers of a BibTeX file of their own
    papers (entries naming a paper by eprint, DOI or arXiv URL, read as the library import
    reads them) as thumbs up. At least :data:`MIN_PICKS` picks, or pasted ids or BibTeX
    entries of papers in the store; unknown pasted ids, and each BibTeX entry not used with
    why, are reported back."""
    chosen = list(dict.fromkeys(_paper_id(p) for p in picks if p.strip()))
    typed = list(dict.fromkeys(_paper_id(p) for p in pasted.replace(",", " ").split()))
    if len(typed) > MAX_LIMIT:
        raise InvalidInput(f"paste at most {MAX_LIMIT} ids at once")
    from_file, problems = _bibtex_papers(store, bibtex) if bibtex.strip() else ([], [])
    if not typed and not bibtex.strip() and len(chosen) < MIN_PICKS:
        raise InvalidInput(
            f"pick at least {MIN_PICKS} papers, or paste arXiv ids, or give a BibTeX file"
        )
    known = {p.id for p in store.get_papers(chosen + typed)}
    unknown = [p for p in typed if p not in known]
    recorded = list(dict.fromkeys([p for p in chosen + typed if p in known] + from_file))
    if not recorded:
        left_out = unknown[:10] + [f"{where}: {why}" for where, why in problems[:10]]
        raise InvalidInput("none of these papers is in this store: " + "; ".join(left_out))
    store.recs.add_feedback([(user_id, paper, 1) for paper in recorded])
    return Onboarded(recorded, unknown, problems)


def _bibtex_papers(store: Store, bibtex: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The ids of the stored, visible papers a BibTeX file's entries name, and (entry, why)
    for each entry that names none of them."""
    entries, problems = library.bibtex_references(bibtex)
    if len(entries) > MAX_BIBTEX_ENTRIES:
        raise InvalidInput(
            f"at most {MAX_BIBTEX_ENTRIES:,} BibTeX entries ({len(entries):,} given)"
        )
    parsed = [(where, ids.parse_reference(reference)) for where, reference in entries]
    stored = {p.id: p for p in store.get_papers([found.id for _, found in parsed if found])}
    found_ids = []
    for where, found in parsed:
        if found is None:
            problems.append((where, "not an arXiv id, arXiv link or DOI"))
            continue
        paper = stored.get(found.id)
        if paper is None and found.kind == "doi":
            paper = store.find_by_doi(found.id.removeprefix("doi:"))
        if paper is None or not paper.visible:
            problems.append((where, f"{found.id} is not in this store"))
            continue
        found_ids.append(paper.id)
    return found_ids, problems


def new_feed_token(store: Store, user_id: int) -> str:
    """A new private token for the reader's RSS feed (the old one stops working)."""
    token = new_token(FEED_TOKEN_PREFIX)
    store.recs.set_feed_token(user_id, token_digest(token))
    return token


def feed_owner(store: Store, token: str) -> int | None:
    """The reader a feed token belongs to, or None."""
    if not token.startswith(FEED_TOKEN_PREFIX) or len(token) > 200:
        return None
    return store.recs.user_for_feed_token(token_digest(token))
