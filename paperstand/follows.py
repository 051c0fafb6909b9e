"""Follows and author claims, for every face (web pages, the JSON API, the recommendations).

**Follows.** An account follows an author (by name, matched as readers type it: case and
accents folded), an arXiv category, or a saved search (a query with its filters: since,
until, category, has_code). The Following page lists each follow's papers that arrived
since the last visit; the header counts those that arrived since this visit. "Arrived" is
the store's order of arrival (``store/follows.py``), so an ingest of new papers shows,
whatever their dates. A saved search's new papers are the new ones among its results
through the site's search (the caller passes the search: this module never loads indexes).

**Claims.** An account claims authorship of a paper by an author name on it; an admin
approves or rejects the claim. Approved claims link the account to the name: the author
page shows the account, its claimed papers first with their upvotes, and hides the papers
the claimed author chose to hide from it.

The recommendations read :func:`follows_of` and :func:`claimed_paper_ids`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any

import orjson

from paperstand import ids
from paperstand.dates import parse_day
from paperstand.errors import InvalidInput, NotFound, RuleBroken
from paperstand.models import Paper
from paperstand.store import Store
from paperstand.store.follows import KINDS, Claim, Follow
from paperstand.store.papers import matches_nothing, name_key

__all__ = [
    "KINDS",
    "Claim",
    "Follow",
    "FollowNews",
    "claim",
    "claimed_paper_ids",
    "follow",
    "follows_of",
    "following",
    "unseen_count",
]

# At most this many follows per account: a reading list of interests, not a crawler.
MAX_FOLLOWS = 200
# Longest author name, category and query accepted (a query as the search box takes it).
MAX_NAME = 300
MAX_QUERY = 250
# A follow lists at most this many new papers; a saved search looks this deep.
PER_FOLLOW = 50
SEARCH_DEPTH = 100
# arXiv categories: cs.LG, hep-th, astro-ph.CO, math.AG, ...
CATEGORY = re.compile(r"^[A-Za-z][A-Za-z-]{0,19}(?:\.[A-Za-z-]{1,19})?$")
FILTERS = ("since", "until", "category", "has_code")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# A saved search run through the site's search: (query, filters) → paper ids, best first.
Search = Callable[[str, dict[str, Any]], list[str]]


@dataclass(frozen=True, slots=True)
class FollowNews:
    """A follow and its papers that arrived since the last visit, newest first."""

    follow: Follow
    papers: list[Paper]


def _text(value: Any, what: str, longest: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > longest or _CONTROL.search(text):
        raise InvalidInput(f"{what} must be at most {longest} printable characters")
    return text


def _filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    """A saved search's filters, checked and without the empty ones."""
    given = dict(filters or {})
    unknown = sorted(set(given) - set(FILTERS))
    if unknown:
        raise InvalidInput(f"unknown search filter {unknown[0]!r}: use {', '.join(FILTERS)}")
    kept: dict[str, Any] = {}
    for name in ("since", "until"):
        if given.get(name):
            kept[name] = parse_day(str(given[name]), name).isoformat()
    if given.get("category"):
        kept["category"] = _category(given["category"])
    if given.get("has_code"):
        if not isinstance(given["has_code"], bool):
            raise InvalidInput("has_code must be true or false")
        kept["has_code"] = True
    return kept


def _category(value: Any) -> str:
    text = str(value or "").strip()
    if not CATEGORY.match(text):
        raise InvalidInput(f"not an arXiv category: {text[:50]!r} (e.g. cs.LG, hep-th)")
    return text


def normalise(
    kind: str, value: Any, filters: dict[str, Any] | None = None
) -> tuple[str, str, dict[str, Any]]:
    """(value, key, filters) of a follow as stored; :class:`InvalidInput` when unusable."""
    if kind == "author":
        name = _text(value, "an author name", MAX_NAME)
        if filters:
            raise InvalidInput("only a search follow has filters")
        return name, name_key(name), {}
    if kind == "category":
        if filters:
            raise InvalidInput("only a search follow has filters")
        category = _category(value)
        return category, category, {}
    if kind == "search":
        query = _text(value, "a query", MAX_QUERY)
        kept = _filters(filters)
        key = orjson.dumps({"q": query, **kept}, option=orjson.OPT_SORT_KEYS).decode()
        return query, key, kept
    raise InvalidInput(f"unknown kind {kind!r}: use {', '.join(KINDS)}")


# --- follows --------------------------------------------------------------------------------


def follow(
    store: Store, user_id: int, kind: str, value: Any, filters: dict[str, Any] | None = None
) -> tuple[Follow, bool]:
    """Follow an author, a category or a search; returns the follow and whether it is new
    (following twice is one follow). :class:`RuleBroken` past ``MAX_FOLLOWS``."""
    value, key, kept = normalise(kind, value, filters)
    part = store.follows
    known = part.find_follow(user_id, kind, key)
    if known is not None:
        return known, False
    if part.count_follows(user_id) >= MAX_FOLLOWS:
        raise RuleBroken(f"at most {MAX_FOLLOWS} follows per account: remove some first")
    return part.follow(user_id, kind, value, key, kept)


def find(
    store: Store, user_id: int, kind: str, value: Any, filters: dict[str, Any] | None = None
) -> Follow | None:
    """The account's follow of this author, category or search, if any (None as well for
    a value that could never be followed)."""
    try:
        _, key, _ = normalise(kind, value, filters)
    except InvalidInput:
        return None
    return store.follows.find_follow(user_id, kind, key)


def unfollow(store: Store, user_id: int, follow_id: int) -> None:
    store.follows.unfollow(user_id, follow_id)


def follows_of(store: Store, user_id: int) -> list[Follow]:
    """What the account follows, oldest first: ``kind`` is "author", "category" or
    "search", ``value`` the author name, the category or the query string (a search's
    filters are in ``filters``)."""
    return store.follows.follows_of(user_id)


def _news(
    store: Store, user_id: int, search: Search | None, *, unseen: bool
) -> list[tuple[Follow, list[str]]]:
    """Each follow with the ids of its papers that arrived after the last visit
    (``unseen``) or the visit before, newest first."""
    part = store.follows
    followed = part.follows_of(user_id)
    found = (
        part.new_papers(user_id, unseen=unseen, per_follow=PER_FOLLOW)
        if any(item.kind != "search" for item in followed)
        else {}
    )
    news = []
    for item in followed:
        if item.kind == "search":
            hits = search(item.value, item.filters) if search is not None else []
            mark = item.seen_pk if unseen else item.since_pk
            paper_ids = part.arrived_after(hits[:SEARCH_DEPTH], mark)[:PER_FOLLOW]
        else:
            paper_ids = found.get(item.id, [])
        news.append((item, paper_ids))
    return news


def following(store: Store, user_id: int, search: Search | None = None) -> list[FollowNews]:
    """The Following page: this is a visit, so it becomes the last visit; each follow comes
    with the papers that arrived since the visit before (a reload shows the same papers)."""
    store.follows.mark_seen(user_id)
    news = _news(store, user_id, search, unseen=False)
    papers = {p.id: p for p in store.get_papers([pid for _, found in news for pid in found])}
    return [
        FollowNews(item, [papers[pid] for pid in found if pid in papers and papers[pid].visible])
        for item, found in news
    ]


def unseen_count(store: Store, user_id: int, search: Search | None = None) -> int:
    """How many papers of the account's follows arrived since its last visit of the
    Following page (each paper once, however many follows it matches)."""
    return len({pid for _, found in _news(store, user_id, search, unseen=True) for pid in found})


# --- claims ---------------------------------------------------------------------------------


def _paper_id(reference: str) -> str:
    parsed = ids.parse_reference(reference or "")
    if parsed is None:
        raise NotFound(f"not a paper id: {str(reference)[:100]!r}")
    return parsed.id


def claim(store: Store, user_id: int, reference: str, author: str) -> Claim:
    """Claim authorship of a paper (by id, URL or DOI) as ``author``, a name on it: pending
    until an admin decides."""
    name = _text(author, "an author name", MAX_NAME)
    return store.follows.claim(user_id, _paper_id(reference), name)


def decide(store: Store, claim_id: int, *, approve: bool) -> Claim:
    return store.follows.decide(claim_id, approve=approve)


def claimed_paper_ids(store: Store, user_id: int) -> set[str]:
    """The papers of the account's approved claims."""
    return store.follows.claimed_paper_ids(user_id)


def hide_from_author(
    store: Store, user_id: int, author: str, reference: str, *, hidden: bool
) -> None:
    """A claimed author hides a paper from their author page (or shows it again)."""
    if matches_nothing(author):
        raise NotFound("no such author")
    store.follows.hide_from_author(user_id, author, _paper_id(reference), hidden)


@dataclass(frozen=True, slots=True)
class AuthorClaims:
    """What an author page shows of claims: the accounts linked to the name (public names)
    with the papers they claimed, and the papers hidden from the page."""

    accounts: list[str]
    claimed: list[str]  # paper ids, claimed ones first on the page
    hidden: set[str]


def author_claims(
    store: Store, author: str, claimed_names: Container[str] | None = None
) -> AuthorClaims:
    """The claims an author page shows. ``claimed_names`` (``store.follows.claimed_names()``,
    which a caller may keep until the next write) spares the queries for the many names
    nobody has claimed."""
    if matches_nothing(author) or (
        claimed_names is not None and name_key(author) not in claimed_names
    ):
        return AuthorClaims([], [], set())
    claimants = store.follows.claimants(author)
    hidden = store.follows.hidden_from_author(author)
    claimed = [pid for found in claimants.values() for pid in found if pid not in hidden]
    return AuthorClaims(list(claimants), list(dict.fromkeys(claimed)), hidden)
