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
from collections.abc import Hashable
from typing import Any


class ResponseCache:
    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: int, key: Hashable) -> Any:
        """The value stored for ``key`` at ``version``, or None."""
        full_key = (version, key)
        with self._lock:
            found = self._entries.get(full_key)
            if found is None or found[0] <= time.monotonic():
                return None
            self._entries.move_to_end(full_key)
            return found[1]

    def put(self, version: int, key: Hashable, value: Any, ttl: float | None = None) -> None:
        expires = time.monotonic() + ttl if ttl is not None else float("inf")
        with self._lock:
            self._entries[(version, key)] = (expires, value)
            self._entries.move_to_end((version, key))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
