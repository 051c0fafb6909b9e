"""A small in-process cache of rendered responses, invalidated by the store's data version.

Every entry is stored under ``(data_version, key)``. ``Store.data_version()`` changes on
every write to papers, by this process or any other (a database trigger bumps it, see
migration 0003), so the first request after an ingest misses and renders fresh pages; old
entries simply age out of the LRU. Entries may also carry a time to live, for answers that
depend on more than the papers table (search, whose indexes are built separately).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class ResponseCache:
    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(
        self, version: int, key: Hashable, make: Callable[[], T], ttl: float | None = None
    ) -> T:
        """The cached value for ``key`` at ``version``, or ``make()`` stored for next time."""
        full_key = (version, key)
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(full_key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(full_key)
                return found[1]  # type: ignore[return-value]
        # Render outside the lock: two threads may both render a cold page, which is cheaper
        # than making every reader wait for one renderer.
        value = make()
        expires = now + ttl if ttl is not None else float("inf")
        with self._lock:
            self._entries[full_key] = (expires, value)
            self._entries.move_to_end(full_key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
