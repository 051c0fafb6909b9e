"""Plain records the store hands out (results, jobs, schedules) and the row bookkeeping
shared by every part: which columns a paper has, what an upsert writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from paperstand.models import Paper


@dataclass
class UpsertResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    # What one upsert wrote, in revision order: (revision, paper as stored, whether it was
    # new). Lets an index kept outside the database take the papers as they are written
    # instead of reading them back. Not summed by ``+=``: counts only.
    written: list[tuple[int, Paper, bool]] = field(default_factory=list, compare=False, repr=False)

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass
class EmbeddingSource:
    """What `index build` needs to decide whether a paper's embedding is stale."""

    id: str
    title: str
    abstract: str
    model: str | None  # of the stored embedding, None when there is none
    content_hash: str | None


@dataclass
class Job:
    """One unit of background work in the queue (see ``paperstand/jobs.py``). Times are
    ISO 8601 UTC strings, as the database's clock gave them."""

    id: int
    kind: str
    params: dict[str, Any]
    key: str | None  # unique: a job with a key is queued at most once, ever
    status: str  # queued, running, done or failed
    attempts: int
    max_attempts: int
    worker: str | None
    run_after: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None
    error: str | None


@dataclass
class Schedule:
    """A job queued once per ``every_seconds`` slot, whichever worker gets there first."""

    name: str
    kind: str
    params: dict[str, Any]
    every_seconds: int


# Columns of the papers table in a fixed order (pk excluded). primary_category is derived.
COLUMNS = (
    "id",
    "version",
    "title",
    "authors",
    "abstract",
    "categories",
    "primary_category",
    "comment",
    "journal_ref",
    "doi",
    "license",
    "published",
    "updated",
    "listed",
    "upvotes",
    "submitted_by",
    "submitted_on",
    "github_repo",
    "github_stars",
    "project_page",
    "ai_summary",
    "ai_keywords",
    "extra",
    "deleted",
)


def plan_upsert(
    incoming: Mapping[str, Paper], stored: Mapping[str, Paper]
) -> tuple[list[Paper], list[tuple[Paper, Paper]], UpsertResult]:
    """What an upsert writes, the same on every backend: the new papers, the (stored,
    merged) pairs that the merge changed, and the counts (unchanged papers are not written)."""
    result = UpsertResult()
    new: list[Paper] = []
    changed: list[tuple[Paper, Paper]] = []
    for paper_id, paper in incoming.items():
        old = stored.get(paper_id)
        if old is None:
            new.append(paper)
            continue
        merged = old.merged_with(paper)
        if merged != old:
            changed.append((old, merged))
    result.added = len(new)
    result.updated = len(changed)
    result.unchanged = len(incoming) - len(new) - len(changed)
    return new, changed, result


def dedupe_batch(papers: Sequence[Paper]) -> dict[str, Paper]:
    """One paper per id, later records of the same id merged into earlier ones."""
    by_id: dict[str, Paper] = {}
    for paper in papers:
        seen = by_id.get(paper.id)
        by_id[paper.id] = seen.merged_with(paper) if seen else paper
    return by_id


# Columns of the jobs table in the order :class:`Job` takes them.
JOB_COLUMNS = (
    "id",
    "kind",
    "params",
    "key",
    "status",
    "attempts",
    "max_attempts",
    "worker",
    "run_after",
    "created_at",
    "started_at",
    "finished_at",
    "result",
    "error",
)


def job_from_row(row: Sequence[Any]) -> Job:
    """A job from a row selected as ``JOB_COLUMNS`` (JSON as text or decoded, times as
    text or datetimes)."""
    data = dict(zip(JOB_COLUMNS, row, strict=True))
    for name in ("params", "result"):
        if isinstance(data[name], str | bytes):
            data[name] = orjson.loads(data[name])
    for name in ("run_after", "created_at", "started_at", "finished_at"):
        if isinstance(data[name], datetime):
            data[name] = data[name].astimezone(UTC).isoformat().replace("+00:00", "Z")
    return Job(**data)
