"""The response cache: keyed by data version, bounded in bytes, with expiring entries."""

from __future__ import annotations

from paperstand.web.cache import ResponseCache


def test_entries_belong_to_one_data_version():
    cache = ResponseCache()
    cache.put(1, "page", b"old", '"1"')
    assert cache.get(1, "page").body == b"old"
    assert cache.get(2, "page") is None


def test_least_recently_used_bodies_go_first_when_full():
    cache = ResponseCache(max_bytes=10)
    cache.put(1, "a", b"aaaa", "a")
    cache.put(1, "b", b"bbbb", "b")
    assert cache.get(1, "a") is not None  # a is now the most recently used
    cache.put(1, "c", b"cccc", "c")
    assert cache.get(1, "b") is None and cache.get(1, "a") and cache.get(1, "c")
    assert cache.size == 8


def test_entries_with_a_time_to_live_expire():
    cache = ResponseCache()
    cache.put(1, "search", b"hits", "s", ttl=0.0)  # expired as soon as stored
    assert cache.get(1, "search") is None
