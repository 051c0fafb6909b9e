"""``ingest``'s batches, written by a thread of their own while the next is read, on both
backends: in order, and a failed write is tried again by the flush after the error, as a
write in the reading thread was."""

from __future__ import annotations

import threading

from paperstand.errors import StoreError
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.sources.base import Checkpoint
from paperstand.store import Store


def papers(count: int) -> list[Paper]:
    return [
        Paper(id=f"2503.{n:05d}", title=f"Paper {n}", authors=["Ada Lovelace"])
        for n in range(count)
    ]


def test_batches_are_written_in_order_off_the_reading_thread(store: Store) -> None:
    reader = threading.get_ident()
    writers: set[int] = set()
    revisions: list[int] = []

    def written(batch: list[tuple[int, Paper, bool]]) -> None:
        writers.add(threading.get_ident())
        revisions.extend(rev for rev, _, _ in batch)

    items = [*papers(25), Checkpoint("listings", {"after": 25}), *papers(30)[25:]]
    report = ingest(store, items, batch_size=10, on_written=written)
    assert (report.written.added, report.error) == (30, None)
    assert revisions == list(range(1, 31))
    assert writers and reader not in writers
    assert store.get_checkpoint("listings") == {"after": 25}
    assert len(store.papers_by_author("ada lovelace", limit=50)) == 30


def test_a_failed_batch_is_written_again_with_what_was_read_after_it(store: Store) -> None:
    upsert, calls = store.upsert_papers, []

    def failing_once(batch, checkpoint=None):
        calls.append(len(batch))
        if len(calls) == 2:
            raise StoreError("database gone for a moment")
        return upsert(batch, checkpoint)

    store.upsert_papers = failing_once  # type: ignore[method-assign]
    report = ingest(store, papers(45), batch_size=10)
    assert report.error == "database gone for a moment"
    # The second batch failed; the flush after the error wrote it with the third, read
    # meanwhile, and the run stopped there: every paper read before the error is stored.
    assert calls == [10, 10, 20]
    assert report.written.added == 30
    assert store.stats()["papers"] == 30
    assert [p.id for p in store.get_papers([f"2503.{n:05d}" for n in range(30)])] == [
        f"2503.{n:05d}" for n in range(30)
    ]
