"""The storage contract: the only way the rest of paperstand reads or writes data.

``SQLiteStore`` (embedded default) and the PostgreSQL store implement it. Services and faces
call these methods and never write SQL. ``tests/store/test_contract.py`` pins down the
behaviour every backend must share.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from paperstand.models import Paper
from paperstand.sources.base import Checkpoint


@dataclass
class UpsertResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


class Store(ABC):
    """A paper store. Methods that write commit before they return (one transaction each)."""

    url: str

    @abstractmethod
    def migrate(self) -> int:
        """Bring the schema up to date; returns the schema version. Safe to call twice."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- papers -------------------------------------------------------------------------

    @abstractmethod
    def upsert_papers(
        self, papers: Sequence[Paper], checkpoint: Checkpoint | None = None
    ) -> UpsertResult:
        """Insert new papers and merge the others into what is stored (``Paper.merged_with``),
        in one transaction together with ``checkpoint``. Unchanged papers are not written."""

    @abstractmethod
    def get_papers(self, paper_ids: Sequence[str]) -> list[Paper]:
        """The stored papers among ``paper_ids``, in the order asked; unknown ids are left out."""

    def get_paper(self, paper_id: str) -> Paper | None:
        found = self.get_papers([paper_id])
        return found[0] if found else None

    @abstractmethod
    def find_by_doi(self, doi: str) -> Paper | None: ...

    @abstractmethod
    def iter_papers(self, batch_size: int = 1000) -> Iterator[list[Paper]]:
        """Every paper, deleted ones included, in a stable order, batch by batch."""

    @abstractmethod
    def stats(self) -> dict[str, Any]:
        """At least ``papers`` (not deleted), ``deleted`` and ``latest_listing`` (or None)."""

    # --- source checkpoints -------------------------------------------------------------

    @abstractmethod
    def get_checkpoint(self, key: str) -> dict[str, Any] | None: ...
