"""Engines and migrations: how a store URL becomes a SQLAlchemy ``Engine`` with an
up-to-date schema, on either backend.

SQLite goes through ``sqlean`` (the stdlib ``sqlite3`` cannot load extensions; sqlean is the
same DB-API built with extension loading) with sqlite-vec loaded into every connection, in
WAL mode with 16 KiB pages. PostgreSQL goes through psycopg 3. JSON is (de)serialised by
orjson on both.

Migrations are Alembic revisions in ``store/migrations/versions``, run here without an
``alembic.ini``. Stores made by paperstand 0.1 (before Alembic; schema version 4 in SQLite's
``user_version`` or PostgreSQL's ``schema_version`` table) are stamped with the baseline
revision and then upgraded in place.
"""

from __future__ import annotations

import os
import threading
import weakref
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import orjson
import sqlean
import sqlite_vec
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

try:  # the writer lock across processes; elsewhere, SQLite's busy_timeout alone
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from paperstand.errors import StoreError

# The schema version that paperstand 0.1 wrote, the baseline revision stands for it.
LEGACY_VERSION = 4
BASELINE = "0001"
# PostgreSQL advisory lock key: several web processes may start at once, one migrates.
MIGRATE_LOCK = 0x6D69_6772_6174  # "migrat"


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def one_line(exc: BaseException) -> str:
    """Driver messages span several lines (libpq puts a hint on the second): one line."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    return " ".join(str(exc).split()) or type(exc).__name__


def _null(value: None) -> None:
    return value


def _fast_binding() -> None:
    """Bind None and bools to SQLite without the driver's slow path. The sqlite3 module
    passes ints, floats and strings straight through, but asks every other value (None,
    ``True``) whether it knows how to adapt itself, a failed attribute lookup that costs
    about 2 µs per value in sqlean's build: a paper row carries a dozen NULLs, which made
    binding cost more than writing the row (benchmarks/ingest.py). A registered adapter is
    one dictionary hit. Process-wide and idempotent; the values stored do not change."""
    sqlean.register_adapter(type(None), _null)
    sqlean.register_adapter(bool, int)


class WriterLock:
    """SQLite's one writer slot, queued for in this process and across processes.

    SQLite has one writer at a time. A writer that finds it taken waits inside SQLite, in
    its busy handler, which sleeps in growing steps (up to 100 ms) and wakes late: under
    many concurrent writes (votes, rate-limit counters) the slot then sits idle while the
    writers sleep. Queued here instead, the next writer starts the moment the last one
    commits: threads of one process on a re-entrant lock, processes (``serve --workers
    N``, a worker beside the web server) on an exclusive ``flock`` of a file beside the
    database, which the kernel hands to the next waiter at once. Where that file cannot
    be made (a read-only directory, a system without ``flock``), processes still wait
    through ``busy_timeout``, as before."""

    def __init__(self, lock_file: Path) -> None:
        self._threads = threading.RLock()
        self._depth = 0  # only changed by the thread holding ``_threads``
        self._fd: int | None = None
        if fcntl is not None:
            try:
                self._fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                self._fd = None

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._depth == 0 and self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# The writer lock of each SQLite engine (see :func:`write_lock`).
_WRITE_LOCKS: WeakKeyDictionary[Engine, WriterLock] = WeakKeyDictionary()


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    """What a writer holds around a write transaction: on SQLite the engine's
    :class:`WriterLock`, on PostgreSQL nothing (row locks do the work)."""
    lock = _WRITE_LOCKS.get(engine)
    return lock if lock is not None else nullcontext()


def read_options(dialect_name: str) -> dict[str, Any]:
    """Execution options of the connections a part reads with, where each statement sees
    the latest committed data, with no transaction around them. PostgreSQL: AUTOCOMMIT,
    one round trip per statement. SQLite: no ``BEGIN`` (the ``begin`` event skips it; the
    driver, set to ``isolation_level = None``, never begins one itself), which is the same
    but cheaper than SQLAlchemy's AUTOCOMMIT there: that one is undone when the connection
    goes back to the pool, with a ``PRAGMA read_uncommitted`` on every read."""
    if dialect_name == "sqlite":
        return {"reads": True}
    return {"isolation_level": "AUTOCOMMIT"}


def sqlite_engine(path: Path) -> Engine:
    """An engine on one SQLite file. Each connection is in WAL mode with sqlite-vec loaded.
    Transactions of a connection with the execution option ``write=True`` begin with ``BEGIN
    IMMEDIATE`` (SQLite's one writer lock, taken up front, so two writers never deadlock
    upgrading a read lock); others with a plain ``BEGIN``, a snapshot beside the writer."""
    _fast_binding()
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        module=sqlean,
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
        pool_size=20,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def configure(dbapi_conn: Any, _record: Any) -> None:
        # Transactions are begun explicitly (below), not by the driver's own heuristics.
        dbapi_conn.isolation_level = None
        for pragma in (
            "busy_timeout = 10000",
            # Only takes effect when the file is created. Rows carry whole abstracts, and
            # 16 KiB pages halve the cost of committing a batch (benchmarks/ingest.py).
            "page_size = 16384",
            "journal_mode = WAL",
            "cache_size = -32768",  # KiB: 32 MiB per connection
            "synchronous = NORMAL",
            "foreign_keys = ON",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")
        dbapi_conn.enable_load_extension(True)
        sqlite_vec.load(dbapi_conn)
        dbapi_conn.enable_load_extension(False)

    @event.listens_for(engine, "begin")
    def begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("reads"):
            return  # each statement on its own (see read_options)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write") else "BEGIN")

    # Re-entrant: a writer that (wrongly) nests a second write fails on SQLite's own lock
    # after busy_timeout, as it would without this one, instead of hanging.
    lock = WriterLock(path.with_name(path.name + "-writer"))
    _WRITE_LOCKS[engine] = lock
    weakref.finalize(engine, lock.close)
    return engine


def describe(url: str) -> str:
    """A PostgreSQL URL without its password, for messages."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the database"
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname', '')}"


def postgres_engine(url: str, *, max_connections: int = 10, connect_timeout: int = 10) -> Engine:
    """An engine on a PostgreSQL database (``postgresql://`` or ``postgres://`` URL),
    connected once to check it: libpq's reason (refused, no such socket, bad password) is the
    clearest message, and an unreachable server should fail here, not on first use."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    where = describe(url)
    try:
        conninfo_to_dict(url)
        parsed = make_url(url).set(drivername="postgresql+psycopg")
    except (psycopg.ProgrammingError, ArgumentError) as exc:
        raise StoreError(f"bad database URL: {one_line(exc)}") from exc
    args = {} if "connect_timeout" in parsed.query else {"connect_timeout": connect_timeout}
    engine = create_engine(
        parsed,
        connect_args=args,
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
        pool_size=max_connections,
        max_overflow=0,
        pool_timeout=60,
    )
    event.listen(engine, "connect", _nul_safe_text)
    try:
        engine.connect().close()
    except DBAPIError as exc:
        raise StoreError(f"cannot connect to {where}: {one_line(exc)}") from exc
    return engine


def _nul_safe_text(conn: Any, _record: Any) -> None:
    """Strings with NUL bytes as U+FFFD. PostgreSQL text cannot hold NUL, but user text (an
    id or a name pasted into a URL) may; no stored value contains U+FFFD, so such a lookup
    finds nothing instead of failing. Every text value a bulk load's ``COPY`` sends comes
    through here, so it encodes itself rather than through the parent's check for the NUL
    it has just replaced (half the cost)."""
    from psycopg.types.string import StrDumperUnknown

    class NulSafeStr(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return obj.replace("\x00", "\ufffd").encode(self._encoding)

    conn.adapters.register_dumper(str, NulSafeStr)


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def _legacy_version(conn: Connection) -> int:
    """The schema version paperstand 0.1 recorded (0 for a new, empty database)."""
    if conn.dialect.name == "sqlite":
        return conn.exec_driver_sql("PRAGMA user_version").scalar_one()
    exists = conn.exec_driver_sql("SELECT to_regclass('schema_version')").scalar()
    if exists is None:
        return 0
    return conn.exec_driver_sql("SELECT coalesce(max(version), 0) FROM schema_version").scalar()


def migrate(engine: Engine, where: str) -> int:
    """Bring the schema up to date (safe to call twice, and from several processes at once);
    returns the schema version reached, the number of the newest revision."""
    script = _script()
    head = script.get_current_head()
    assert head is not None
    with engine.execution_options(write=True).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
        current = MigrationContext.configure(conn).get_current_revision()
        if current is None:
            legacy = _legacy_version(conn)
            if legacy > LEGACY_VERSION:
                raise StoreError(
                    f"{where} has schema version {legacy}, newer than this paperstand: "
                    "upgrade paperstand"
                )
            if 0 < legacy < LEGACY_VERSION:
                raise StoreError(
                    f"{where} was made by a pre-release paperstand (schema version {legacy}): "
                    "make a new store and ingest again"
                )
            if legacy == LEGACY_VERSION:
                current = BASELINE
                command.stamp(_with(conn), BASELINE)
        elif current not in {rev.revision for rev in script.walk_revisions()}:
            raise StoreError(
                f"{where} has schema version {current}, newer than this paperstand "
                f"({head}): upgrade paperstand"
            )
        if current != head:
            command.upgrade(_with(conn), "head")
        # paperstand 0.1 reads these markers: it then refuses a store newer than itself.
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {int(head)}")
        elif _legacy_version(conn):
            conn.exec_driver_sql(
                f"INSERT INTO schema_version (version) VALUES ({int(head)}) ON CONFLICT DO NOTHING"
            )
    return int(head)


def _with(conn: Connection) -> Config:
    config = _config()
    config.attributes["connection"] = conn
    return config
