"""Copy one store into another: SQLite to PostgreSQL (moving to server mode), back again
(a portable backup), or between two servers.

Only the :class:`Store` contract is used, so any pair of backends works, and papers are
merged into what the target already holds exactly as an ingest would merge them. Each batch
is written together with a checkpoint in the *target* (one transaction), so a copy that is
killed resumes after the last committed batch when run again; embeddings follow the papers
the same way. Source checkpoints of harvests are not copied: a harvest against the new
store starts its window again, which merges to the same papers.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from paperstand.errors import StoreError
from paperstand.sources.base import Checkpoint
from paperstand.store import Store

T = TypeVar("T")
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class CopyReport:
    papers: int = 0  # written by this run
    resumed_after: int = 0  # papers an interrupted earlier run had already copied
    embeddings: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        line = f"copied {self.papers} papers and {self.embeddings} embeddings"
        if self.resumed_after:
            line += f" (resumed after {self.resumed_after})"
        src, dst = self.source, self.target
        return (
            f"{line}; source {src['papers']} papers + {src['deleted']} deleted, "
            f"target {dst['papers']} + {dst['deleted']}"
        )


def copy_store(
    source: Store,
    target: Store,
    *,
    batch_size: int = 2000,
    on_progress: Progress | None = None,
) -> CopyReport:
    """Copy every paper (deleted ones included) and every embedding of ``source`` into
    ``target``; raises :class:`StoreError` when the counts do not add up afterwards."""
    # The key names the source without spelling its URL (it may hold a password).
    key = "db-copy:" + hashlib.sha256(source.url.encode()).hexdigest()[:16]
    state = target.get_checkpoint(key) or {"papers": 0, "embeddings": 0}
    report = CopyReport(resumed_after=state["papers"])
    before = source.stats()
    total = before["papers"] + before["deleted"]

    for done, fresh in _resume(source.iter_papers(batch_size), state["papers"]):
        target.upsert_papers(fresh, Checkpoint(key, {"papers": done, "embeddings": 0}))
        report.papers += len(fresh)
        if on_progress:
            on_progress("papers", done, total)
    state["papers"] = total

    for done, fresh in _resume(source.iter_embedding_sources(batch_size), state["embeddings"]):
        by_model: dict[str, dict[str, str]] = defaultdict(dict)
        for item in fresh:
            if item.model is not None and item.content_hash is not None:
                by_model[item.model][item.id] = item.content_hash
        for model, hashes in by_model.items():
            vectors = source.get_embeddings(model, list(hashes))
            target.save_embeddings(model, [(i, hashes[i], v) for i, v in vectors.items()])
            report.embeddings += len(vectors)
        target.upsert_papers([], Checkpoint(key, {**state, "embeddings": done}))
        if on_progress:
            on_progress("embeddings", done, before["papers"])

    target.upsert_papers([], Checkpoint(key, None))
    report.source, report.target = source.stats(), target.stats()
    _check_counts(source, target, report)
    return report


def _resume(batches: Iterable[Sequence[T]], skip: int) -> Iterator[tuple[int, Sequence[T]]]:
    """(items seen so far, the batch without its first items already copied) for each
    batch past the first ``skip`` items: the source's order is stable, so an interrupted
    copy picks up exactly where it stopped, even with another batch size."""
    seen = 0
    for batch in batches:
        start, seen = seen, seen + len(batch)
        if seen > skip:
            yield seen, batch[max(0, skip - start) :]


def _check_counts(source: Store, target: Store, report: CopyReport) -> None:
    """The target may hold more than the source (it had papers before), never fewer."""
    src, dst = report.source, report.target
    if dst["papers"] + dst["deleted"] < src["papers"] + src["deleted"]:
        raise StoreError(f"copy incomplete: {report.summary()}")
    have = target.embedding_counts()
    for model, count in source.embedding_counts().items():
        if have.get(model, 0) < count:
            raise StoreError(
                f"copy incomplete: {have.get(model, 0)} of {count} embeddings of {model}"
            )
