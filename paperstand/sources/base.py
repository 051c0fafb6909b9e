"""The seam every source plugs into: what a source yields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paperstand.models import Paper


@dataclass(frozen=True, slots=True)
class Malformed:
    """A record the source could not turn into a paper; ingestion counts it and goes on."""

    reason: str
    where: str  # e.g. "listings.jsonl:1234" or "oai page 3, record 7"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Resumable position of a source, committed in the same transaction as the papers
    yielded before it, so a killed run resumes exactly after the last committed page."""

    key: str
    value: dict[str, Any] | None  # None clears the checkpoint (the harvest finished)


Item = Paper | Malformed | Checkpoint
