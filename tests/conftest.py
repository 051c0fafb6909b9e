"""Shared fixtures. ``store`` runs a test once per storage backend."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperstand.store import Store, open_store
from tests.replay import Replay

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"  # every file a test reads; see tests/data/README.md

BACKENDS = ["sqlite", "postgres"]
# Where the schema version is recorded: never emptied between tests.
SCHEMA_TABLES = {"alembic_version", "schema_version"}


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/web/conftest.py: pytest reads options only from the top conftest.
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        help="save the browser tests' screenshots in DIR (default: a temporary directory); "
        "`make screenshots` passes docs/screenshots",
    )


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store of each backend."""
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'paperstand.sqlite3'}")
    else:  # pragma: no cover - other backends register themselves below
        opened = request.getfixturevalue(f"{request.param}_store")
    try:
        yield opened
    finally:
        opened.close()


# --- Network sources ------------------------------------------------------------------------


@pytest.fixture
def replay() -> Iterator[Replay]:
    """A local HTTP server replaying the recorded arXiv OAI-PMH, Atom and Hugging Face
    responses of ``tests/data``, with faults to inject (see ``tests/replay.py``)."""
    server = Replay(DATA).start()
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL (server mode) ---------------------------------------------------------------


@pytest.fixture(scope="session")
def pgserver_uri() -> Iterator[str]:
    """A private PostgreSQL 16 + pgvector server for the whole session (``pgserver``: unix
    socket only, no root, no network) with one migrated database, ``paperstand``, that
    ``postgres_url`` empties before each test. Durability is switched off: tests only.

    Its data directory is a temporary directory of its own, deleted at the end, not one under
    pytest's base directory: run as root, pgserver starts PostgreSQL as another user, who
    must traverse the parents, and every pytest session that starts makes
    ``/tmp/pytest-of-root`` private again, which took the files away from the server of any
    session running beside it."""
    import pgserver
    import psycopg

    server = pgserver.get_server(tempfile.mkdtemp(prefix="paperstand-pg-"), cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute("CREATE DATABASE paperstand")
    url = server.get_uri("paperstand")
    open_store(url).close()
    try:
        yield url
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def _pg_seed_rows(pgserver_uri: str) -> dict[str, list]:
    """Rows the migrations put in tables (e.g. counters), restored after each truncation."""
    import psycopg

    seeds = {}
    with psycopg.connect(pgserver_uri) as conn:
        for (table,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall():
            rows = conn.execute(f"SELECT to_jsonb(t) FROM {table} t").fetchall()
            if rows and table not in SCHEMA_TABLES:
                seeds[table] = [row[0] for row in rows]
    return seeds


@pytest.fixture
def postgres_url(pgserver_uri: str, _pg_seed_rows: dict[str, list]) -> str:
    """The session database, emptied to its freshly migrated state (much faster than a new
    database per test): ``postgresql://postgres:@/paperstand?host=SOCKET_DIR``."""
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(pgserver_uri) as conn:
        conn.execute("SET lock_timeout = '20s'")  # a store left open fails the test, no hang
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
            if row[0] not in SCHEMA_TABLES
        ]
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        for table, rows in _pg_seed_rows.items():
            conn.execute(
                f"INSERT INTO {table} SELECT * FROM jsonb_populate_recordset(NULL::{table}, %s)",
                (Jsonb(rows),),
            )
    return pgserver_uri


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Store]:
    """An empty, migrated PostgreSQL store (a database of its own)."""
    opened = open_store(postgres_url)
    try:
        yield opened
    finally:
        opened.close()


# --- Search (issue 4) -----------------------------------------------------------------------

from tests.search_corpus import corpus  # noqa: E402, F401 - a session corpus for search tests

# --- Accounts (issue 11) --------------------------------------------------------------------


@pytest.fixture
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with its cheapest parameters: real hashes, a thousandth of the CPU time, for
    tests that sign up and log in many times (the real parameters are tested on their own)."""
    from argon2 import PasswordHasher

    from paperstand.accounts import credentials

    monkeypatch.setattr(
        credentials, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    credentials._dummy_hash.cache_clear()
