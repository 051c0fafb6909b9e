"""What every part of the store builds on: an ``Engine`` and one way to read and to write.

A *part* is the typed slice of the store one area needs (papers, jobs, checkpoints, ...):
a class holding the store's engine, with queries written once in SQLAlchemy Core for both
backends. Where SQL really differs, it asks ``store/dialect.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from paperstand.errors import StoreError
from paperstand.store.engine import one_line, read_options, write_lock


class Part:
    def __init__(self, engine: Engine, where: str) -> None:
        self.engine = engine
        self.where = where  # the store, for messages (never a password)
        self._reader = engine.execution_options(**read_options(engine.dialect.name))
        self._writer = engine.execution_options(write=True)
        self._write_lock = write_lock(engine)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``: for ``store/dialect.py``, never for SQL strings."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads: each statement sees the latest committed data (no
        transaction around them, one round trip each on PostgreSQL)."""
        try:
            with self._reader.connect() as conn:
                yield conn
        except DBAPIError as exc:
            _raise_store_error(self.where, exc)
            raise

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in one transaction, committed when the block ends (rolled back on
        an exception). On SQLite it holds the one writer lock from the start (queued behind
        this process's other writers first: ``engine.write_lock``)."""
        try:
            with self._write_lock, self._writer.begin() as conn:
                yield conn
        except DBAPIError as exc:
            _raise_store_error(self.where, exc)
            raise


def _raise_store_error(where: str, exc: DBAPIError) -> None:
    """Lost connections and unreachable servers become one-line store errors; anything else
    (a bug in a query) keeps its traceback."""
    if exc.connection_invalidated or isinstance(exc.orig, _operational_errors()):
        raise StoreError(f"database {where}: {one_line(exc)}") from exc


def _operational_errors() -> tuple[type[BaseException], ...]:
    import sqlean

    errors: list[type[BaseException]] = [sqlean.OperationalError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the install
        return tuple(errors)
    return (*errors, psycopg.OperationalError)
