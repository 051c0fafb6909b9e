"""A small in-process cache of rendered responses, invalidated by the store's data version.

Every entry is stored under ``(data_version, key)``. ``Store.data_version()`` changes on
every write to papers, by this process or any other (a database trigger bumps it, see
migration 0003), so the first request after an ingest misses and renders fresh pages; old
entries simply age out of the LRU. Entries may also carry a time to live, for answers that
depend on more than the papers table (search, whose indexes are built separately).

The cache is bounded by the bytes of the bodies it holds (least recently used go first), so
a crawler walking every paper cannot grow the server's memory without limit.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import NamedTuple

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class Cached(NamedTuple):
    body: bytes
    etag: str
    expires: float


class ResponseCache:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[Hashable, Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: int, key: Hashable) -> Cached | None:
        """The live entry for ``key`` at ``version``, or None."""
        full_key = (version, key)
        with self._lock:
            found = self._entries.get(full_key)
            if found is None or found.expires <= time.monotonic():
                return None
            self._entries.move_to_end(full_key)
            return found

    def put(
        self, version: int, key: Hashable, body: bytes, etag: str, ttl: float | None = None
    ) -> None:
        expires = time.monotonic() + ttl if ttl is not None else float("inf")
        full_key = (version, key)
        with self._lock:
            old = self._entries.pop(full_key, None)
            if old is not None:
                self.size -= len(old.body)
            self._entries[full_key] = Cached(body, etag, expires)
            self.size += len(body)
            while self.size > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self.size -= len(dropped.body)
