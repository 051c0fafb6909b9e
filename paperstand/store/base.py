"""The store: one class for both backends, made of typed parts that each write their
queries once in SQLAlchemy Core.

- :class:`~paperstand.store.papers.PaperStore`: papers, daily lists, author and category
  pages, revisions;
- :class:`~paperstand.store.embeddings.EmbeddingStore`: embeddings, and ``store.vectors``,
  the backend's nearest-neighbour search (chosen here, by the engine's dialect);
- :class:`~paperstand.store.jobs.JobStore`: the job queue, schedules and pacing slots;
- :class:`~paperstand.store.checkpoints.CheckpointStore`: where harvests resume;
- ``store.follows`` (:class:`~paperstand.store.follows.FollowsStore`): follows, author
  claims and the papers claimed authors hide from their pages;
- ``store.library`` (:class:`~paperstand.store.library.LibraryStore`): saved papers and
  reading lists.

A service that needs one area takes that part as its parameter type; ``Store`` is all of
them (the web app and the CLI hold one). ``tests/store/`` pins down the behaviour on both
backends.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from paperstand.errors import StoreError
from paperstand.store.accounts import AccountsStore
from paperstand.store.checkpoints import CheckpointStore
from paperstand.store.community import CommunityStore
from paperstand.store.digests import DigestStore
from paperstand.store.embeddings import BitCodeVectors, EmbeddingStore, HnswVectors
from paperstand.store.engine import migrate, one_line
from paperstand.store.follows import FollowsStore
from paperstand.store.jobs import JobStore
from paperstand.store.library import LibraryStore
from paperstand.store.papers import PaperStore
from paperstand.store.records import EmbeddingSource, Job, Schedule, UpsertResult
from paperstand.store.recs import RecsStore
from paperstand.store.topics import TopicsStore

__all__ = ["EmbeddingSource", "Job", "Schedule", "Store", "UpsertResult"]


class Store(PaperStore, EmbeddingStore, JobStore, CheckpointStore):
    """Every part of one store, on one engine. Methods that write commit before they
    return (one transaction each)."""

    def __init__(self, engine: Engine, where: str, url: str) -> None:
        super().__init__(engine, where)
        self.url = url
        self.vectors: BitCodeVectors | HnswVectors = (
            HnswVectors(engine, where)
            if self.dialect == "postgresql"
            else BitCodeVectors(engine, where)
        )
        self.accounts = AccountsStore(engine, where)
        self.digests = DigestStore(engine, where)
        self.topics = TopicsStore(engine, where)
        self.community = CommunityStore(engine, where)
        self.follows = FollowsStore(engine, where)
        self.library = LibraryStore(engine, where)
        self.recs = RecsStore(engine, where)

    def migrate(self) -> int:
        """Bring the schema up to date; returns the schema version. Safe to call twice."""
        try:
            return migrate(self.engine, self.where)
        except DBAPIError as exc:
            raise StoreError(f"cannot open {self.where}: {one_line(exc)}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
