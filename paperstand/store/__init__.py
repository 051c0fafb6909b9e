"""Storage: the :class:`Store` contract and its backends. The only package that speaks SQL."""

from __future__ import annotations

from paperstand.errors import StoreError
from paperstand.store.base import Store, UpsertResult

__all__ = ["Store", "UpsertResult", "open_store"]


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store named by ``url``: ``sqlite:///PATH`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        from paperstand.store.sqlite import SQLiteStore

        store: Store = SQLiteStore(url.removeprefix("sqlite:///"))
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            from paperstand.store.postgres import PostgresStore
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise StoreError(f"PostgreSQL support is not installed: {exc}") from exc
        store = PostgresStore(url)
    else:
        raise StoreError(
            f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://..."
        )
    if migrate:
        store.migrate()
    return store
