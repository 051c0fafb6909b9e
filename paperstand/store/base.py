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

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from paperstand.errors import StoreError
from paperstand.store.accounts import AccountsStore
from paperstand.store.checkpoints import CheckpointStore
from paperstand.store.community import CommunityStore, community_version
from paperstand.store.digests import DigestStore
from paperstand.store.embeddings import BitCodeVectors, EmbeddingStore, HnswVectors
from paperstand.store.engine import migrate, one_line
from paperstand.store.follows import FollowsStore
from paperstand.store.jobs import JobStore
from paperstand.store.library import LibraryStore, library_version
from paperstand.store.papers import PaperStore, data_version
from paperstand.store.records import EmbeddingSource, Job, Schedule, UpsertResult
from paperstand.store.recs import RecsStore
from paperstand.store.topics import TopicsStore

__all__ = ["EmbeddingSource", "Job", "Schedule", "Store", "UpsertResult"]


# Both counters only grow, so their sum changes whenever either does.
_CACHE_VERSION = select(
    select(data_version.c.version).scalar_subquery()
    + select(community_version.c.version).scalar_subquery()
    + select(library_version.c.version).scalar_subquery()
)


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

    def cache_version(self) -> int:
        """A number that grows with every write to papers, the community or the library, by
        any process (the sum of :meth:`data_version`, ``community.version()`` and
        ``library.version()``, in one round trip): what cached answers are keyed on."""
        with self.read() as conn:
            return conn.execute(_CACHE_VERSION).scalar_one()

    def migrate(self) -> int:
        """Bring the schema up to date, with every index (see :meth:`bulk_load`); returns
        the schema version. Safe to call twice."""
        try:
            version = migrate(self.engine, self.where)
            self.ensure_indexes()
            return version
        except DBAPIError as exc:
            raise StoreError(f"cannot open {self.where}: {one_line(exc)}") from exc

    def compact(self) -> int:
        """Give the space of deleted rows and dropped tables back to the file system;
        returns the bytes the database file shrank by. SQLite keeps freed pages for reuse
        until a ``VACUUM``, which rewrites the file (needing as much free disk as the
        result, and holding the writer lock meanwhile: minutes for gigabytes).
        PostgreSQL returns a dropped table's files at once and reuses freed rows itself
        (autovacuum): 0."""
        if self.dialect == "postgresql":
            return 0
        with self._write_lock, self._reader.connect() as conn:
            size = "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size"
            before = conn.exec_driver_sql(size).scalar_one()
            conn.exec_driver_sql("VACUUM")
            return before - conn.exec_driver_sql(size).scalar_one()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
