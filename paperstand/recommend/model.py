"""The personal model: how much a reader will want each candidate paper, and why.

Pure arithmetic over papers and their embeddings, with no store: the service
(``recommend/service.py``) feeds it a reader's signals and the new papers, and
``benchmarks/recs_quality.py`` feeds it the Hugging Face daily lists, so the figures in
``docs/benchmarks.md`` measure this very code.

A candidate's score adds five signals, each on a scale that means something on its own:

- **authors**: ``log(1 + n)``, where ``n`` counts the reader's liked papers sharing an author
  with the candidate (a followed author counts as :data:`FOLLOW_AS_LIKES` likes). People
  read their own group's and their colleagues' work first; on the Hugging Face lists, where
  most submitters post their own papers, this alone reaches an MRR of about 0.9. Its weight
  (1) is larger than the whole range of the content signal, so a shared author ranks a
  paper above any paper without one, and content orders the rest.
- **content**: the cosine similarity of the candidate's embedding to the reader's liked
  papers, half to the nearest one (a reader with two interests keeps both) and half to their
  centroid (what the reader mostly reads); minus the similarity to the nearest paper the
  reader turned down, so a thumbs down pushes its neighbourhood away.
- **categories**: the share of the reader's liked papers in the candidate's primary
  category, and a fixed bonus for a followed category.
- **saved searches**: a fixed bonus for a candidate among the results of a search the reader
  follows (a query with its filters): the reader asked for these in so many words. Half a
  followed author's weight: a query matches more loosely than a name.
- **popularity**: ``log(1 + upvotes)``, scaled small: a tie-breaker among papers the reader's
  history says nothing about.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse

from paperstand.models import Paper
from paperstand.store.papers import name_key

# A followed author weighs like this many liked papers of theirs.
FOLLOW_AS_LIKES = 3
# How close (cosine) a liked paper must be to a pick to be named as a reason after the
# nearest one, relative to the nearest: "because you liked A and B" only when B is about as
# close as A.
REASON_CLOSENESS = 0.9
MAX_REASONS = 3


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each signal counts (see the module docstring for the scales). Zero turns
    a signal off: the benchmark's ablation does exactly that."""

    authors: float = 1.0
    content: float = 1.0
    categories: float = 0.2
    popularity: float = 0.02
    searches: float = 0.5
    dislikes: float = 0.5
    # Maximal-marginal-relevance penalty when ranking a feed: each pick loses this times
    # its similarity to the picks above it, so one topic cannot fill the whole feed.
    diversity: float = 0.15


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class Item:
    """A paper as the model sees it."""

    id: str
    title: str
    authors: tuple[str, ...]  # names as printed
    categories: tuple[str, ...] = ()  # primary first
    upvotes: int = 0
    # The authors as name keys, computed once: every reader's scoring asks for them.
    author_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "author_keys", frozenset(name_key(n) for n in self.authors))

    @classmethod
    def of(cls, paper: Paper, upvotes: int | None = None) -> Item:
        """The paper as an item; ``upvotes`` when the caller counts them (local votes
        plus imported ones), else the imported count."""
        return cls(
            id=paper.id,
            title=paper.title,
            authors=tuple(paper.authors),
            categories=tuple(paper.categories),
            upvotes=(paper.upvotes or 0) if upvotes is None else upvotes,
        )


@dataclass(slots=True)
class Profile:
    """What the model knows about one reader."""

    liked: list[Item]
    liked_vectors: np.ndarray  # (len(liked), dim), L2-normalised rows
    disliked_vectors: np.ndarray  # (n, dim)
    author_likes: Counter[str] = field(default_factory=Counter)  # name key -> weight
    author_names: dict[str, str] = field(default_factory=dict)  # name key -> as printed
    followed_authors: frozenset[str] = frozenset()  # name keys
    category_share: dict[str, float] = field(default_factory=dict)
    followed_categories: frozenset[str] = frozenset()
    centroid: np.ndarray | None = None
    followed_searches: tuple[str, ...] = ()  # the queries of the reader's saved searches
    search_hits: dict[str, str] = field(default_factory=dict)  # paper id -> matching query

    @property
    def empty(self) -> bool:
        """True when there is nothing to go on: the reader needs onboarding."""
        return not (
            self.liked
            or self.followed_authors
            or self.followed_categories
            or self.followed_searches
        )


def build_profile(
    liked: Sequence[Item],
    liked_vectors: np.ndarray,
    *,
    dim: int,
    disliked_vectors: np.ndarray | None = None,
    followed_authors: Iterable[str] = (),
    followed_categories: Iterable[str] = (),
    followed_searches: Iterable[str] = (),
    search_hits: dict[str, str] | None = None,
) -> Profile:
    """A reader's profile from their liked papers (with their vectors, in the same order),
    the vectors of papers they turned down, and what they follow (``search_hits``: the
    candidates their saved searches found, each with the query that found it)."""
    author_likes: Counter[str] = Counter()
    names: dict[str, str] = {}
    for item in liked:
        for name in item.authors:
            key = name_key(name)
            names.setdefault(key, name)
        author_likes.update(item.author_keys)
    followed = frozenset(name_key(name) for name in followed_authors)
    for name in followed_authors:
        names.setdefault(name_key(name), name)
    for key in followed:
        author_likes[key] += FOLLOW_AS_LIKES
    primaries = Counter(item.categories[0] for item in liked if item.categories)
    share = {cat: n / len(liked) for cat, n in primaries.items()} if liked else {}
    vectors = np.asarray(liked_vectors, dtype=np.float32).reshape(-1, dim)
    centroid = None
    if len(vectors):
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        centroid = mean / norm if norm > 0 else None
    down = np.zeros((0, dim), np.float32) if disliked_vectors is None else disliked_vectors
    return Profile(
        liked=list(liked),
        liked_vectors=vectors,
        disliked_vectors=np.asarray(down, dtype=np.float32).reshape(-1, dim),
        author_likes=author_likes,
        author_names=names,
        followed_authors=followed,
        category_share=share,
        followed_categories=frozenset(followed_categories),
        centroid=centroid,
        followed_searches=tuple(followed_searches),
        search_hits=dict(search_hits or {}),
    )


@dataclass(frozen=True, slots=True)
class Scores:
    """Each signal's contribution per candidate (already weighted), and their sum."""

    authors: np.ndarray
    content: np.ndarray
    categories: np.ndarray
    popularity: np.ndarray
    searches: np.ndarray
    similarity: np.ndarray  # (candidates, liked): cosine to each liked paper, for reasons

    @property
    def total(self) -> np.ndarray:
        return self.authors + self.content + self.categories + self.popularity + self.searches


@dataclass(frozen=True, slots=True)
class Pool:
    """What scoring needs of a set of candidates that does not depend on the reader,
    computed once for every reader who is shown them: a feed's week of new papers is the
    same for everyone, and per reader only sparse and dense products are left."""

    rows: dict[str, int]  # paper id -> row (ids are unique in a pool)
    author_columns: dict[str, int]  # author name key -> column of ``authors``
    authors: sparse.csr_matrix  # (items, author keys): 1 where the paper has the author
    category_columns: dict[str, int]
    categories: sparse.csr_matrix  # (items, categories): 1 where the paper has it
    primaries: np.ndarray  # column of each paper's primary category, -1 for none
    log_upvotes: np.ndarray  # log(1 + upvotes), float32

    @classmethod
    def of(cls, items: Sequence[Item]) -> Pool:
        def incidence(keys_of: list[Iterable[str]]) -> tuple[dict[str, int], sparse.csr_matrix]:
            columns: dict[str, int] = {}
            indptr, indices = [0], []
            for keys in keys_of:
                indices.extend(columns.setdefault(key, len(columns)) for key in keys)
                indptr.append(len(indices))
            matrix = sparse.csr_matrix(
                (np.ones(len(indices)), indices, indptr), shape=(len(keys_of), len(columns))
            )
            return columns, matrix

        author_columns, authors = incidence([item.author_keys for item in items])
        category_columns, categories = incidence([set(item.categories) for item in items])
        primaries = np.array(
            [category_columns[i.categories[0]] if i.categories else -1 for i in items], np.intp
        )
        upvotes = np.fromiter((max(item.upvotes, 0) for item in items), np.float32, len(items))
        return cls(
            rows={item.id: row for row, item in enumerate(items)},
            author_columns=author_columns,
            authors=authors,
            category_columns=category_columns,
            categories=categories,
            primaries=primaries,
            log_upvotes=np.log1p(upvotes),
        )

    def weights_of(self, columns: dict[str, int], values: dict[str, float]) -> np.ndarray:
        """``values`` (by key) as a vector over ``columns``; keys no paper has are dropped."""
        out = np.zeros(len(columns))
        for key, value in values.items():
            column = columns.get(key)
            if column is not None:
                out[column] = value
        return out


def score(
    profile: Profile,
    items: Sequence[Item],
    vectors: np.ndarray,
    weights: Weights = DEFAULT_WEIGHTS,
    pool: Pool | None = None,
) -> Scores:
    """Score ``items`` (their vectors row by row, L2-normalised) for the reader; ``pool``
    is :meth:`Pool.of` the items, made once when many readers are scored."""
    n = len(items)
    pool = Pool.of(items) if pool is None else pool
    vectors = np.asarray(vectors, dtype=np.float32).reshape(n, -1)
    authors = np.zeros(n, np.float32)
    if weights.authors and profile.author_likes:
        # Each paper's count of liked papers sharing an author with it, summed over its
        # authors: a sparse product (counts are whole numbers, exact in float64).
        shared = pool.authors @ pool.weights_of(pool.author_columns, profile.author_likes)
        found = shared > 0
        authors[found] = weights.authors * np.log1p(shared[found])
    similarity = (
        vectors @ profile.liked_vectors.T
        if len(profile.liked_vectors)
        else np.zeros((n, 0), np.float32)
    )
    content = np.zeros(n, np.float32)
    if weights.content and similarity.shape[1]:
        content += 0.5 * similarity.max(axis=1)
        if profile.centroid is not None:
            content += 0.5 * (vectors @ profile.centroid)
        content *= weights.content
    if weights.dislikes and len(profile.disliked_vectors):
        content -= weights.dislikes * (vectors @ profile.disliked_vectors.T).max(axis=1)
    categories = np.zeros(n, np.float32)
    if weights.categories and (profile.category_share or profile.followed_categories):
        # The share of liked papers in the paper's primary category (the extra last
        # entry, 0, is what papers without a category read), plus 1 for a followed one.
        share = np.append(pool.weights_of(pool.category_columns, profile.category_share), 0.0)
        value = share[pool.primaries]
        if profile.followed_categories:
            followed = dict.fromkeys(profile.followed_categories, 1.0)
            value += pool.categories @ pool.weights_of(pool.category_columns, followed) > 0
        categories[:] = weights.categories * value
    popularity = weights.popularity * pool.log_upvotes
    searches = np.zeros(n, np.float32)
    if weights.searches and profile.search_hits:
        rows = [pool.rows[paper] for paper in profile.search_hits if paper in pool.rows]
        searches[rows] = weights.searches
    return Scores(authors, content, categories, popularity, searches, similarity)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a paper was picked: a liked paper near it, an author, a category, or a saved
    search."""

    kind: str  # "liked", "author", "category" or "search"
    value: str  # the liked paper's id, the author's name, the category, the search's query
    title: str = ""  # the liked paper's title
    followed: bool = False  # an author, category or search the reader follows


@dataclass(frozen=True, slots=True)
class Pick:
    item: Item
    score: float
    reasons: tuple[Reason, ...]


def reasons_for(profile: Profile, item: Item, similarity: np.ndarray) -> tuple[Reason, ...]:
    """The one to three liked papers nearest to ``item`` (``similarity``: its cosine to each
    liked paper), then the authors and categories it shares with the reader and the saved
    search that found it."""
    found: list[Reason] = []
    # A liked paper without a vector (similarity 0) or pointing away explains nothing.
    if len(similarity) and float(similarity.max()) > 0:
        order = np.argsort(-similarity)[:MAX_REASONS]
        best = float(similarity[order[0]])
        for rank, j in enumerate(order):
            if rank and float(similarity[j]) < REASON_CLOSENESS * best:
                break
            liked = profile.liked[int(j)]
            found.append(Reason("liked", liked.id, liked.title))
    shared = [key for key in item.author_keys if profile.author_likes.get(key)]
    shared.sort(key=lambda key: (key not in profile.followed_authors, -profile.author_likes[key]))
    for key in shared[:MAX_REASONS]:
        followed = key in profile.followed_authors
        found.append(Reason("author", profile.author_names.get(key, key), followed=followed))
    for category in item.categories:
        if category in profile.followed_categories:
            found.append(Reason("category", category, followed=True))
            break
    query = profile.search_hits.get(item.id)
    if query is not None:
        found.append(Reason("search", query, followed=True))
    # A followed author, category or search explains a pick better than a distant liked
    # paper.
    found.sort(key=lambda reason: not reason.followed)
    return tuple(found)


def rank(
    profile: Profile,
    items: Sequence[Item],
    vectors: np.ndarray,
    *,
    limit: int,
    weights: Weights = DEFAULT_WEIGHTS,
    exclude: Iterable[str] = (),
    pool: Pool | None = None,
) -> list[Pick]:
    """The reader's top ``limit`` of ``items``, best first, each with its reasons
    (``pool``: :meth:`Pool.of` the items, made once for many readers).

    Greedy maximal marginal relevance: after the first pick, each next one is the best
    score minus ``weights.diversity`` times its similarity to the nearest pick already
    made, a little exploration that keeps a feed from collapsing into one topic."""
    pool = Pool.of(items) if pool is None else pool
    vectors = np.asarray(vectors, dtype=np.float32)
    scores = score(profile, items, vectors, weights, pool)
    keep = np.ones(len(items), bool)
    keep[[pool.rows[paper] for paper in set(exclude) if paper in pool.rows]] = False
    rows = np.flatnonzero(keep)
    if not len(rows) or limit <= 0:
        return []
    total = scores.total.astype(np.float64)[rows]
    # Only papers within ``diversity`` of the limit-th best score can ever be picked (a
    # penalty never exceeds it), so the greedy loop looks at those alone.
    if len(total) > limit:
        floor = np.partition(total, len(total) - limit)[len(total) - limit] - weights.diversity
        near = np.flatnonzero(total >= floor)
        rows, total = rows[near], total[near]
    picked = _diverse(total, vectors[rows], min(limit, len(total)), weights.diversity)
    return [
        Pick(
            items[rows[i]],
            float(total[i]),
            reasons_for(profile, items[rows[i]], scores.similarity[rows[i]]),
        )
        for i in picked
    ]


def _diverse(total: np.ndarray, vectors: np.ndarray, count: int, diversity: float) -> list[int]:
    """The greedy maximal-marginal-relevance order of the first ``count`` of ``total``
    (ties to the lower index), computed lazily: a paper's adjusted score only falls as
    picks are made, so its last computed value bounds it from above; the best bound is
    brought up to date against the picks made since, and taken when it still beats every
    other bound. The same picks as recomputing every score after each pick, with a few
    dot products per pick instead of a product over all the papers."""
    heap = [(-float(value), i, 0) for i, value in enumerate(total)]  # (-bound, index, picks seen)
    heapq.heapify(heap)
    nearest = np.zeros(len(total))  # similarity to the nearest pick so far, at least 0
    picked: list[int] = []
    while len(picked) < count:
        _, i, seen = heapq.heappop(heap)
        if seen < len(picked):
            nearest[i] = max(nearest[i], float((vectors[picked[seen:]] @ vectors[i]).max()))
            fresh = (-(float(total[i]) - diversity * nearest[i]), i, len(picked))
            if heap and fresh > heap[0]:
                heapq.heappush(heap, fresh)
                continue
        picked.append(i)
    return picked


def without(weights: Weights, signal: str) -> Weights:
    """``weights`` with one signal turned off (for the ablation)."""
    return replace(weights, **{signal: 0.0})
