"""Pacing slots: requests to a rate-limited service (arXiv) spaced out across every thread
and process that shares the store, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from paperstand.store import Store, open_store

# Long enough that the time the calls themselves take is small beside it: each reserved
# slot must then be one interval after another, whoever reserved it.
INTERVAL = 1000.0


def assert_spaced(waits: list[float], count: int) -> None:
    """``count`` slots, the first now, each about one interval after the one before."""
    waits = sorted(waits)
    assert len(waits) == count
    assert waits[0] < INTERVAL / 10
    gaps = [later - earlier for earlier, later in zip(waits, waits[1:], strict=False)]
    assert all(0.9 * INTERVAL < gap < 1.1 * INTERVAL for gap in gaps), gaps


def test_threads_get_distinct_slots_one_interval_apart(store: Store) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        waits = list(pool.map(lambda _: store.acquire_slot("arxiv", INTERVAL), range(12)))
    assert_spaced(waits, 12)


def test_keys_are_paced_apart(store: Store) -> None:
    assert store.acquire_slot("arxiv", INTERVAL) < INTERVAL / 10
    assert store.acquire_slot("other", INTERVAL) < INTERVAL / 10
    assert store.acquire_slot("arxiv", INTERVAL) > 0.9 * INTERVAL


def test_a_slot_in_the_past_is_not_owed(store: Store) -> None:
    store.acquire_slot("quick", 0.0)
    assert store.acquire_slot("quick", 0.0) == 0.0


CHILD = """
import json, sys
from paperstand.store import open_store
with open_store(sys.argv[1]) as store:
    print(json.dumps([store.acquire_slot("arxiv", float(sys.argv[2])) for _ in range(5)]))
"""


def test_two_processes_share_the_pacing(store: Store) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, store.url, str(INTERVAL)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    waits = [store.acquire_slot("arxiv", INTERVAL)]
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        waits += json.loads(out)
    assert_spaced(waits, 11)
    with open_store(store.url) as again:  # and the reservations outlive the processes
        assert again.acquire_slot("arxiv", INTERVAL) > 10 * 0.9 * INTERVAL
