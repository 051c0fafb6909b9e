"""Write what a source yields into a store: batched, transactional, resumable, counted.

Every batch (and every checkpoint a source yields) is one transaction, so a run killed at
any point and run again ends with exactly the store an uninterrupted run makes: committed
batches come back as "unchanged", the rest is added.

:func:`ingest_and_index` is the service the CLI and the jobs call: it ingests and brings
the search's full-text index up to date, so new papers are searchable at once and the first
search after an ingest does not pay for indexing them. The papers go to the full-text index
as they are stored (tantivy analyses them on its own thread while this one writes the next
batch to the store), rather than being read back from the store afterwards. Embeddings wait
for ``index build`` (or ``serve --embed``, or an embed job): they take minutes where the full
text takes seconds.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from paperstand.errors import MalformedRecord, PaperstandError
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.sources.base import Checkpoint, Item, Malformed
from paperstand.store import Store, UpsertResult
from paperstand.store.jobs import JobStore

BATCH_SIZE = 2000
# The pacing slot every arXiv request of this installation reserves (see arxiv_pacer).
ARXIV_PACING = "arxiv"
_EXAMPLES_KEPT = 5


@dataclass
class IngestReport:
    written: UpsertResult = field(default_factory=UpsertResult)
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[Malformed] = field(default_factory=list)
    error: str | None = None
    indexed: int = 0  # papers (re)written to the full-text index afterwards

    @property
    def seen(self) -> int:
        w = self.written
        return w.added + w.updated + w.unchanged + sum(self.skipped.values())

    def summary(self) -> str:
        w = self.written
        line = f"added {w.added}, updated {w.updated}, unchanged {w.unchanged}"
        skipped = sum(self.skipped.values())
        line += f", skipped {skipped}"
        if skipped:
            reasons = "; ".join(f"{n}× {reason}" for reason, n in self.skipped.most_common(3))
            line += f" ({reasons})"
        return line

    def to_dict(self) -> dict[str, object]:
        w = self.written
        return {
            "added": w.added,
            "updated": w.updated,
            "unchanged": w.unchanged,
            "skipped": sum(self.skipped.values()),
            "skipped_reasons": dict(self.skipped),
            "indexed": self.indexed,
            "error": self.error,
        }


def ingest(
    store: Store,
    items: Iterable[Item],
    *,
    strict: bool = False,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[IngestReport], None] | None = None,
    on_written: Callable[[Sequence[tuple[int, Paper, bool]]], None] | None = None,
    on_loaded: Callable[[], None] | None = None,
) -> IngestReport:
    """Ingest ``items`` into ``store``. Source errors end the run with ``report.error`` set,
    after committing every good record read before them; they are not raised. Into an
    empty store, the indexes are built once at the end (``bulk_load``). ``on_written``
    gets what each committed upsert wrote (``UpsertResult.written``). ``on_loaded`` runs
    once every batch is committed, in a thread of its own while the store finishes the
    load (its deferred indexes, work of the database more than of this process); the
    ingest returns when both are done, and raises what either raised."""
    report = IngestReport()
    batch: list[Paper] = []
    # The batch being written, and its papers: a failed write puts them back in ``batch``,
    # so the flush after an error tries them again, as a write in this thread would.
    writing: tuple[Future[None], list[Paper]] | None = None

    def write(papers: list[Paper], checkpoint: Checkpoint | None) -> None:
        result = store.upsert_papers(papers, checkpoint)
        report.written += result
        if on_written:
            on_written(result.written)
        if on_batch:
            on_batch(report)

    def written() -> None:
        """Wait for the batch being written; raises what writing it raised."""
        nonlocal writing
        if writing is not None:
            (done, papers), writing = writing, None
            if done.exception() is not None:
                batch[:0] = papers
            done.result()

    def flush(checkpoint: Checkpoint | None = None) -> None:
        nonlocal writing
        written()
        if batch or checkpoint is not None:
            papers = batch.copy()
            batch.clear()
            writing = (writer.submit(write, papers, checkpoint), papers)

    loaded: Future[None] | None = None
    # One thread writes the batches, in order, while this one reads the next: the
    # database server works on a batch (PostgreSQL: in its own process) while the source
    # is parsed. It also runs ``on_loaded``.
    with _long_lived_frozen(), ThreadPoolExecutor(max_workers=1) as writer:
        with store.bulk_load():
            try:
                for item in items:
                    if isinstance(item, Paper):
                        batch.append(item)
                        if len(batch) >= batch_size:
                            flush()
                    elif isinstance(item, Checkpoint):
                        flush(item)
                    else:
                        if strict:
                            raise MalformedRecord(f"{item.where}: {item.reason}")
                        report.skipped[_reason_kind(item.reason)] += 1
                        if len(report.examples) < _EXAMPLES_KEPT:
                            report.examples.append(item)
                flush()
                written()
            except PaperstandError as exc:
                if not isinstance(exc, MalformedRecord):
                    flush()
                written()
                report.error = str(exc)
            finally:
                if writing is not None:  # an error: the batch in flight ends first
                    wait([writing[0]])
            if on_loaded is not None:
                loaded = writer.submit(on_loaded)
        if loaded is not None:
            loaded.result()
    return report


@contextmanager
def _long_lived_frozen() -> Iterator[None]:
    """Keep what exists when an ingest starts (imported modules, the store's compiled
    statements, tantivy's schema) out of the collector's full collections until it ends.
    A load allocates millions of short-lived containers (papers, rows, tuples), and each
    full collection they trigger walked every long-lived object again: 8% of the ingest
    process's CPU at 118,620 papers (see docs/benchmarks.md). Left alone when something
    froze them already (the web app does at start; an ingest job runs inside it)."""
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def ingest_and_index(
    store: Store,
    items: Iterable[Item],
    settings: Settings,
    *,
    strict: bool = False,
    on_batch: Callable[[IngestReport], None] | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> IngestReport:
    """:func:`ingest` with the full-text index of ``settings`` fed as papers are written,
    then brought up to date with anything the feed could not take, including the batches
    committed before an error. ``progress`` is ``index build``'s staged callback."""
    # Imported here: tantivy and the index modules are not needed by plain ingest.
    from paperstand.index.fulltext import FullTextIndex

    index = FullTextIndex(settings.fulltext_path)
    with index.feeding(store) as feed:
        report = ingest(
            store,
            items,
            strict=strict,
            on_batch=on_batch,
            on_written=feed.add if feed is not None else None,
            on_loaded=feed.commit if feed is not None else None,
        )
    if report.written.added or report.written.updated:
        from paperstand.index.build import sync_fulltext

        fed = feed.indexed if feed is not None else 0
        report.indexed = fed + sync_fulltext(store, settings, progress)
    return report


def arxiv_pacer(store: JobStore, interval: float) -> Callable[[], float]:
    """What a :class:`~paperstand.sources.http.Fetcher` calls before each arXiv request:
    reserves the next slot ``interval`` seconds after the last one reserved by any thread or
    process using this store, and returns how long to wait for it."""
    return partial(store.acquire_slot, ARXIV_PACING, interval)


def _reason_kind(reason: str) -> str:
    """Group reasons that differ only in detail, e.g. JSON error positions."""
    return reason.split(" (", 1)[0]
