"""Storage: the only package that speaks SQL. SQLite (embedded default) and PostgreSQL +
pgvector (server mode) run the same SQLAlchemy Core queries over one schema.

Layout:

- ``schema.py``: the shared ``MetaData`` (``metadata``), the types that differ per backend
  (``Json``, ``Stamp``, ``Key``) and the ``papers`` table every area refers to.
- One module per area, holding its tables and its typed part (a :class:`~paperstand.store.
  part.Part`): ``papers.py`` (papers, authors, categories, daily lists, revisions),
  ``embeddings.py`` (embeddings; ``BitCodeVectors`` / ``HnswVectors``, the backend's
  nearest-neighbour search), ``jobs.py`` (job queue, schedules, pacing slots),
  ``checkpoints.py``. ``base.py`` puts them together as :class:`Store`.
- ``engine.py``: a URL to an ``Engine`` (sqlean + sqlite-vec, WAL, 16 KiB pages; psycopg)
  and ``migrate``, which runs the Alembic revisions of ``migrations/versions``.
- ``part.py``: ``Part``, the base of every part (an engine, ``read()`` and ``write()``
  connections); ``dialect.py``: the few SQL differences between the backends, named once.

Adding tables for a feature (say ``community``: users, votes, comments):

1. Tables: ``paperstand/store/community.py`` declares ``Table("users", metadata, ...)`` on
   ``paperstand.store.schema.metadata`` with its types (``Json``, ``Stamp``, ``Key``);
   refer to papers with ``ForeignKey("papers.pk", ondelete="CASCADE")``.
2. Migration: copy the newest file of ``store/migrations/versions/`` to
   ``NNNN_community.py``, set ``revision = "NNNN"`` and ``down_revision`` to the previous
   number, and write ``op.create_table(...)``/``op.create_index(...)`` (same code for both
   backends). ``open_store`` and ``paperstand db migrate`` apply it.
3. Queries: in the same module, ``class CommunityStore(Part)`` with methods written once in
   Core (``with self.write() as conn: conn.execute(insert(self.dialect, users)...)``).
4. Access: add ``self.community = CommunityStore(self.engine, self.where)`` to
   ``Store.__init__`` (``store/base.py``); a service takes the part it needs
   (``def vote(community: CommunityStore, ...)``), called as ``vote(store.community, ...)``.
"""

from __future__ import annotations

from pathlib import Path

from paperstand.errors import StoreError
from paperstand.store.base import Store, UpsertResult
from paperstand.store.engine import describe, postgres_engine, sqlite_engine

__all__ = ["Store", "UpsertResult", "open_store"]


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store named by ``url``: ``sqlite:///PATH`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.parent.exists():
            raise StoreError(
                f"no such directory {path.parent}: run 'paperstand init' or check --home"
            )
        store = Store(sqlite_engine(path), str(path), url)
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            engine = postgres_engine(url)
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise StoreError(f"PostgreSQL support is not installed: {exc}") from exc
        store = Store(engine, describe(url), url)
    else:
        raise StoreError(
            f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://..."
        )
    if migrate:
        store.migrate()
    return store
