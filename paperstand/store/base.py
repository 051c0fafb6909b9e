"""The storage contract: the only way the rest of paperstand reads or writes data.

``SQLiteStore`` (embedded default) and the PostgreSQL store implement it. Services and faces
call these methods and never write SQL. ``tests/store/test_contract.py`` pins down the
behaviour every backend must share.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paperstand.models import Paper
from paperstand.sources.base import Checkpoint
from paperstand.store.accounts import AccountsStore

if TYPE_CHECKING:  # numpy is only needed by callers that store vectors
    import numpy as np
    from sqlalchemy import Engine


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


class Store(ABC):
    """A paper store. Methods that write commit before they return (one transaction each).

    Typed parts of the store for newer areas are attributes made here (see the package
    docstring), all sharing the one engine."""

    url: str

    def __init__(self, engine: Engine, where: str) -> None:
        # Imported here: the parts' modules import this one (through store/rows.py).
        from paperstand.store.community import CommunityStore

        self.engine = engine
        self.where = where  # the store, for messages (never a password)
        self.community = CommunityStore(engine, where)
        self.accounts = AccountsStore(engine, where)

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

    # --- web: daily lists, browsing pages, cache version (issue 5) ----------------------
    # A paper's *day* is ``coalesce(submitted_on, listed)``: the Hugging Face daily-list day
    # when the paper was on it, else its arXiv listing day. Deleted papers never appear.
    # tests/store/test_daily_lists.py pins them down for every backend.

    @abstractmethod
    def data_version(self) -> int:
        """A number that changes on every write to papers, by any process; caches key on it."""

    @abstractmethod
    def papers_on_days(
        self,
        first: str,
        last: str,
        *,
        limit: int,
        offset: int = 0,
        submitter: str | None = None,
        recent_first: bool = False,
    ) -> list[Paper]:
        """Papers whose day is within ``first``..``last`` (inclusive, ``YYYY-MM-DD``), most
        upvoted first (no upvotes counts as 0), then the later day, then the later
        ``published`` (unknown last), then the later ``extra["submittedOnDailyAt"]`` (unknown
        last; Hugging Face's own tie-break), then the larger id. ``recent_first`` puts the
        later day before the upvotes. ``submitter`` keeps the papers ``submitted_by`` that
        user."""

    @abstractmethod
    def count_on_days(self, first: str, last: str, *, submitter: str | None = None) -> int:
        """How many papers :meth:`papers_on_days` would list without a limit."""

    @abstractmethod
    def latest_day(self) -> str | None:
        """The latest day that has papers, or None for an empty store."""

    @abstractmethod
    def neighbour_days(self, day: str) -> tuple[str | None, str | None]:
        """The nearest days strictly before and after ``day`` that have papers."""

    @abstractmethod
    def papers_by_author(self, name: str, *, limit: int, offset: int = 0) -> list[Paper]:
        """Papers with an author named exactly ``name``, latest day first, then larger id."""

    @abstractmethod
    def papers_in_category(self, category: str, *, limit: int, offset: int = 0) -> list[Paper]:
        """Papers listing ``category`` (primary or cross-list), latest day first, then id."""

    # --- search indexes: revisions and embeddings (issue 4) -----------------------------
    # Every insert or update of a paper gives it a new, higher *revision*, so an index kept
    # outside the store (the tantivy full text) catches up by asking only for what changed
    # after the last revision it saw. Each paper has at most one embedding, stored with the
    # model's name and a hash of the text embedded so `index build` can tell stale ones.
    # Vectors are float32, L2-normalised numpy arrays. The nearest-neighbour search itself is
    # a ``VectorIndex`` (paperstand/index/vectors.py), one per backend.

    @abstractmethod
    def revision(self) -> int:
        """The highest paper revision; 0 for an empty store."""

    @abstractmethod
    def iter_changed_papers(
        self, after: int, batch_size: int = 1000
    ) -> Iterator[list[tuple[int, Paper]]]:
        """Papers (deleted ones included) with a revision above ``after``, lowest first,
        each as (revision, paper)."""

    @abstractmethod
    def iter_embedding_sources(self, batch_size: int = 1000) -> Iterator[list[EmbeddingSource]]:
        """Every paper not deleted, with the model and content hash of its stored embedding
        (None when it has none), in a stable order."""

    @abstractmethod
    def save_embeddings(self, model: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Store (paper id, content hash, vector) rows of ``model``, replacing the papers'
        previous embeddings, in one transaction. Ids not in the store are ignored."""

    @abstractmethod
    def get_embeddings(self, model: str, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``model`` among ``paper_ids`` (others are left out)."""

    @abstractmethod
    def delete_embeddings(self, paper_ids: Sequence[str]) -> int:
        """Forget the embeddings of these papers; returns how many were deleted."""

    @abstractmethod
    def embedding_counts(self) -> dict[str, int]:
        """How many embeddings of papers not deleted each model has."""

    # --- background jobs (issue 6) ------------------------------------------------------
    # A queue shared by every worker process, on any machine, that reaches the database:
    # a job is handed to one worker at a time, under a lease the worker keeps renewing; a
    # job whose lease ran out (its worker died) is handed out again. Job times come from the
    # database's clock, so workers' clocks need not agree.

    @abstractmethod
    def enqueue_job(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        key: str | None = None,
        max_attempts: int = 3,
        delay: float = 0.0,
    ) -> int | None:
        """Queue a job to run after ``delay`` seconds; returns its id. With ``key``, a job is
        queued only if no job ever had that key: None then (scheduled slots rely on it)."""

    @abstractmethod
    def claim_job(self, worker: str, kinds: Sequence[str], lease: float) -> Job | None:
        """Hand the next due job of one of ``kinds`` to ``worker`` (oldest first), marked
        running for ``lease`` seconds, or None. Due: queued and its time has come, or running
        with an expired lease and attempts left (those without are marked failed)."""

    @abstractmethod
    def renew_job_lease(self, job_id: int, worker: str, lease: float) -> bool:
        """Extend ``worker``'s lease; False if the job is no longer running for it."""

    @abstractmethod
    def finish_job(self, job_id: int, worker: str, result: dict[str, Any] | None) -> bool:
        """Mark the job done; False (and no change) if it is no longer running for it."""

    @abstractmethod
    def fail_job(self, job_id: int, worker: str, error: str, retry_in: float) -> bool:
        """Record a failed attempt: queued again after ``retry_in`` seconds while attempts
        are left, else failed for good. False if the job is no longer running for it."""

    @abstractmethod
    def list_jobs(self, *, status: str | None = None, limit: int = 50) -> list[Job]:
        """The latest jobs, newest first, optionally only those with ``status``."""

    @abstractmethod
    def save_schedule(self, schedule: Schedule) -> None:
        """Create or replace the schedule of that name."""

    @abstractmethod
    def delete_schedule(self, name: str) -> bool: ...

    @abstractmethod
    def list_schedules(self) -> list[Schedule]: ...
