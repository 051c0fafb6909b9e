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
        now = time.time()
        if next(self._hits) % PURGE_EVERY == 0:
            self.part.rate_purge(now)
        return self.part.rate_hit(key, float(expiry), amount, now)

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

    def hit(self, name: str, *, account: str | None = None, address: str | None = None) -> None:
        """Count one ``name`` action by ``account`` (a user id or, for log-in, the email
        tried) from ``address``; :class:`RateLimited` (429) when a limit is past, with the
        seconds until it frees up.

        Every rule is counted even when an earlier one already refused: a client that keeps
        hammering keeps its windows full.
        """
        if name not in NAMES:
            raise ValueError(f"unknown rate limit {name!r}: one of {', '.join(NAMES)}")
        refused: list[float] = []
        for per, who in (("account", account), ("ip", address)):
            rule = self.rules.get((name, per))
            if rule is None or not who:
                continue
            for item in rule.items:
                if not self.strategy.hit(item, name, per, who):
                    reset = self.strategy.get_window_stats(item, name, per, who).reset_time
                    refused.append(reset)
        if refused:
            wait = max(1, math.ceil(max(refused) - time.time()))
            raise RateLimited(f"too many {_NOUNS[name]}: try again in {wait} s", wait)


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
