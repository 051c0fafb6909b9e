"""Named rate limits (sign-up, log-in, reset, digest subscription, submit, vote, comment,
follow, claim), counted per account and per client address, with the ``limits`` package.

Each name has two settings in the notation of ``limits`` (``"10/minute;50/day"``):
``PAPERSTAND_RATE_<NAME>`` per account and ``PAPERSTAND_RATE_<NAME>_IP`` per address; an
empty setting (or one that does not exist, like ``rate_signup``) means no limit of that kind.

Counters use the fixed-window strategy and live, by default, in the store
(:class:`StoreCounters`): every worker process of ``serve --workers N``, and every machine
serving one PostgreSQL database, count together, which a per-process memory counter cannot
do (N processes would allow N times the limit). A hit is one small upsert, a write
transaction. ``PAPERSTAND_RATE_STORAGE`` may name any storage of ``limits`` instead, e.g.
``memory://`` for a single process that should not write to the database.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import NoReturn

from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from paperstand.errors import InvalidInput, RateLimited, StoreError
from paperstand.settings import Settings
from paperstand.store import Store

NAMES = ("signup", "login", "reset", "subscribe", "submit", "vote", "comment", "follow", "claim")
# Expired counters are deleted after every this many hits of one process.
PURGE_EVERY = 1000


class StoreCounters(Storage):
    """A ``limits`` storage over the store's ``rate_limits`` table (``store/accounts.py``)."""

    STORAGE_SCHEME = None  # made from a Store, never from a URI

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.part = store.accounts
        self._hits = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception]:
        return StoreError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.incr_many([(key, expiry, amount)])[0]

    def incr_many(self, hits: list[tuple[str, int, int]]) -> list[int]:
        """Several :meth:`incr` in one store transaction (see :meth:`Limiter.hit`)."""
        self.maybe_purge()
        return self.part.rate_hits(
            [(key, float(e), amount) for key, e, amount in hits], time.time()
        )

    def maybe_purge(self) -> None:
        """Delete the expired counters, once every :data:`PURGE_EVERY` hits."""
        if next(self._hits) % PURGE_EVERY == 0:
            self.part.rate_purge(time.time())

    def get(self, key: str) -> int:
        return self.part.rate_count(key, time.time())

    def get_expiry(self, key: str) -> float:
        return self.part.rate_expiry(key, time.time()) or time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        return self.part.rate_clear()

    def clear(self, key: str) -> None:
        self.part.rate_clear(key)


@dataclass(frozen=True)
class Rule:
    name: str
    per: str  # "account" or "ip"
    items: tuple[RateLimitItem, ...]


def _rules(settings: Settings) -> dict[tuple[str, str], Rule]:
    rules = {}
    for name in NAMES:
        for per, setting in (("account", f"rate_{name}"), ("ip", f"rate_{name}_ip")):
            text = getattr(settings, setting, "") or ""
            if not text.strip():
                continue
            try:
                items = tuple(parse_many(text))
            except ValueError as exc:
                raise InvalidInput(
                    f"PAPERSTAND_{setting.upper()}={text!r} is not a rate limit "
                    "(write e.g. '10/minute' or '10/minute;100/day')"
                ) from exc
            rules[(name, per)] = Rule(name, per, items)
    return rules


class Limiter:
    """The named limits of ``settings`` over one counter storage."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.rules = _rules(settings)
        if settings.rate_storage == "store":
            storage: Storage = StoreCounters(store)
        else:
            try:
                storage = storage_from_string(settings.rate_storage)
            except ConfigurationError as exc:
                raise InvalidInput(f"PAPERSTAND_RATE_STORAGE: {exc}") from exc
        self.strategy = FixedWindowRateLimiter(storage)

    def _counted(
        self, name: str, account: str | None, address: str | None
    ) -> list[tuple[RateLimitItem, tuple[str, str, str]]]:
        """The windows one ``name`` action by ``account`` from ``address`` counts in."""
        if name not in NAMES:
            raise ValueError(f"unknown rate limit {name!r}: one of {', '.join(NAMES)}")
        return [
            (item, (name, per, who))
            for per, who in (("account", account), ("ip", address))
            if who and (rule := self.rules.get((name, per))) is not None
            for item in rule.items
        ]

    def hit(self, name: str, *, account: str | None = None, address: str | None = None) -> None:
        """Count one ``name`` action by ``account`` (a user id or, for log-in, the email
        tried) from ``address``; :class:`RateLimited` (429) when a limit is past, with the
        seconds until it frees up.

        Every rule is counted even when an earlier one already refused: a client that keeps
        hammering keeps its windows full.
        """
        counted = self._counted(name, account, address)
        if not counted:
            return
        storage = self.strategy.storage
        if isinstance(storage, StoreCounters):
            # The fixed window of ``limits`` (incr, then compare), all windows in one
            # write transaction: the store's writes are what a limited request costs.
            hits = storage.incr_many([(i.key_for(*who), i.get_expiry(), 1) for i, who in counted])
            allowed = [count <= item.amount for count, (item, _) in zip(hits, counted, strict=True)]
        else:
            allowed = [self.strategy.hit(item, *who) for item, who in counted]
        self._refuse(name, [c for ok, c in zip(allowed, counted, strict=True) if not ok])

    def counting(
        self, name: str, *, account: str | None = None, address: str | None = None
    ) -> Counting | None:
        """:meth:`hit`, left for the store to count in the transaction of the action it
        limits (``CommunityStore.vote``): a vote then costs one commit, not two. None when
        there is nothing left to count: no rule applies, or the counters are not in the
        store (then they were counted here, as :meth:`hit` does)."""
        counted = self._counted(name, account, address)
        if not counted:
            return None
        storage = self.strategy.storage
        if not isinstance(storage, StoreCounters):
            self.hit(name, account=account, address=address)
            return None
        storage.maybe_purge()
        return Counting(self, name, counted)

    def _refuse(self, name: str, refused: list[tuple[RateLimitItem, tuple[str, str, str]]]) -> None:
        if refused:
            reset = max(
                self.strategy.get_window_stats(item, *who).reset_time for item, who in refused
            )
            wait = max(1, math.ceil(reset - time.time()))
            raise RateLimited(f"too many {_NOUNS[name]}: try again in {wait} s", wait)


@dataclass(frozen=True)
class Counting:
    """One request's windows of a named limit, to be counted by the store in the same
    transaction as the action they limit (see :meth:`Limiter.counting`)."""

    limiter: Limiter
    name: str
    counted: list[tuple[RateLimitItem, tuple[str, str, str]]]

    def hits(self) -> list[tuple[str, float, int, int]]:
        """(key, window seconds, amount, most allowed) per window, as the store takes them."""
        return [
            (item.key_for(*who), float(item.get_expiry()), 1, item.amount)
            for item, who in self.counted
        ]

    def refuse(self) -> NoReturn:
        """:class:`RateLimited`, with the wait until the windows past their limit free up
        (call it when the store said one is past)."""
        storage = self.limiter.strategy.storage
        past = [
            (item, who)
            for item, who in self.counted
            if storage.get(item.key_for(*who)) > item.amount
        ]
        self.limiter._refuse(self.name, past)
        # The window ended between the count and now: the next try may pass.
        raise RateLimited(f"too many {_NOUNS[self.name]}: try again in 1 s", 1)


_NOUNS = {
    "signup": "sign-ups",
    "login": "log-in attempts",
    "reset": "password-reset requests",
    "submit": "submissions",
    "vote": "votes",
    "comment": "comments",
    "subscribe": "digest subscriptions",
    "follow": "follows",
    "claim": "author claims",
}
