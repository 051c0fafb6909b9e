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

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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
    gets what each committed upsert wrote (``UpsertResult.written``); ``on_loaded`` is
    called after the last one, before those indexes are built, so that work of the
    caller's can run beside the build."""
    report = IngestReport()
    batch: list[Paper] = []

    def flush(checkpoint: Checkpoint | None = None) -> None:
        if batch or checkpoint is not None:
            result = store.upsert_papers(batch, checkpoint)
            report.written += result
            batch.clear()
            if on_written:
                on_written(result.written)
            if on_batch:
                on_batch(report)

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
        except PaperstandError as exc:
            if not isinstance(exc, MalformedRecord):
                flush()
            report.error = str(exc)
        if on_loaded:
            on_loaded()
    return report


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
    committed before an error. ``progress`` is ``index build``'s staged callback. Tantivy
    commits its last segment while the store builds the indexes a bulk load deferred: the
    two ends of a load, each on one core, side by side."""
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
            on_loaded=feed.finish if feed is not None else None,
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
