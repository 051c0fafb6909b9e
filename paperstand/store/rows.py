"""Mapping between :class:`Paper` and a table row, shared by every SQL backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from paperstand.models import Paper
from paperstand.store.base import Job, UpsertResult

JSON_COLUMNS = ("authors", "categories", "ai_keywords", "extra")

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


def to_row(paper: Paper) -> tuple[Any, ...]:
    values = []
    for name in COLUMNS:
        if name == "primary_category":
            values.append(paper.primary_category)
        elif name in JSON_COLUMNS:
            values.append(orjson.dumps(getattr(paper, name)).decode())
        elif name == "deleted":
            values.append(int(paper.deleted))
        else:
            values.append(getattr(paper, name))
    return tuple(values)


def from_row(row: Sequence[Any]) -> Paper:
    """A paper from a row selected as ``COLUMNS`` (JSON columns as text or already decoded)."""
    data = dict(zip(COLUMNS, row, strict=True))
    del data["primary_category"]
    for name in JSON_COLUMNS:
        value = data[name]
        if isinstance(value, str | bytes):
            data[name] = orjson.loads(value)
    data["deleted"] = bool(data["deleted"])
    return Paper(**data)


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
