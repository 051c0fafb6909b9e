"""The few places where SQLite and PostgreSQL SQL really differ, each named once.

Every other query is written once in SQLAlchemy Core and compiled for either backend. A
part asks here (with ``self.dialect``) for: an INSERT that can say ``ON CONFLICT``, the
database's clock, a JSON field as text, how a writer serialises with other writers, and
the few steps of a bulk load that PostgreSQL does its own way (commits, emptying and
filling tables).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

POSTGRESQL = "postgresql"


def insert(dialect: str, table: Table) -> Any:
    """``INSERT`` with ``on_conflict_do_update`` / ``on_conflict_do_nothing`` (the same API
    on both backends). Typed ``Any``: the two classes share the methods, not a base."""
    return (postgresql.insert if dialect == POSTGRESQL else sqlite.insert)(table)


def now(dialect: str) -> ColumnElement[Any]:
    """The database's clock: ``timestamptz`` on PostgreSQL, ISO 8601 UTC text on SQLite,
    so times written by workers on different machines agree."""
    return later(dialect, 0.0)


def later(dialect: str, seconds: Any) -> ColumnElement[Any]:
    """The database's clock plus ``seconds`` (a number or a bound expression)."""
    if dialect == POSTGRESQL:
        return func.now() + func.make_interval(0, 0, 0, 0, 0, 0, seconds)
    modifier = func.printf("%+.3f seconds", seconds)
    return func.strftime("%Y-%m-%dT%H:%M:%fZ", "now", modifier)


def json_text(dialect: str, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
    """``column[key]`` of a JSON object, as text (NULL when absent)."""
    if dialect == POSTGRESQL:
        return column.op("->>")(literal_column(f"'{_plain(key)}'"))
    return func.json_extract(column, f"$.{_plain(key)}")


def _plain(key: str) -> str:
    if not key.replace("_", "").isalnum():
        raise ValueError(f"not a plain JSON key: {key!r}")
    return key


def lock(conn: Connection, key: int) -> None:
    """Serialise this write transaction with every other holding ``key``, until it ends.
    SQLite needs nothing: a write transaction there holds the one writer lock from its
    ``BEGIN IMMEDIATE``. PostgreSQL takes a transaction-scoped advisory lock."""
    if conn.dialect.name == POSTGRESQL:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def commit_without_waiting(conn: Connection) -> None:
    """Let this transaction's commit return before its WAL reaches the disk: for the
    batches of a bulk ingest, whose source can be read again. PostgreSQL's
    ``synchronous_commit = off`` for this transaction only: a server crash may then lose
    the last few commits (at most about three times ``wal_writer_delay``, 0.6 s by
    default), never corrupt the database or keep half a transaction. An ingest commits its
    checkpoint in the same transaction as its papers, so a resumed ingest reads again what
    was lost. SQLite in WAL mode with ``synchronous = NORMAL`` (engine.py) already commits
    without syncing."""
    if conn.dialect.name == POSTGRESQL:
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")


def keys_wait(dialect: str) -> bool:
    """Whether a bulk load into an empty store may write a table's rows while its primary
    key is dropped (:func:`drop_key`) and build the key once at the end (:func:`add_key`,
    one sort): PostgreSQL, whose tables are heaps beside their indexes. SQLite's tables
    without rowid are their key, so its loads stage such rows elsewhere instead."""
    return dialect == POSTGRESQL


def drop_key(conn: Connection, table: Table) -> None:
    """Drop ``table``'s primary key if it has one (PostgreSQL: see :func:`keys_wait`)."""
    if conn.dialect.name == POSTGRESQL:
        quote = conn.dialect.identifier_preparer.quote
        name, key = quote(table.name), quote(str(table.primary_key.name))
        conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT IF EXISTS {key}")


def add_key(conn: Connection, table: Table) -> None:
    """Build ``table``'s primary key, which :func:`drop_key` dropped: one sort of its rows
    (PostgreSQL; SQLite's keys are never dropped)."""
    if conn.dialect.name == POSTGRESQL:
        quote = conn.dialect.identifier_preparer.quote
        name, key = quote(table.name), quote(str(table.primary_key.name))
        keys = ", ".join(quote(column.name) for column in table.primary_key.columns)
        conn.exec_driver_sql(f"ALTER TABLE {name} ADD CONSTRAINT {key} PRIMARY KEY ({keys})")


def insert_sorted(conn: Connection, table: Table, columns: Sequence[str], rows: Select) -> None:
    """``INSERT INTO table (columns) rows``, where ``rows`` come in ``table``'s primary-key
    order. Into an empty table on PostgreSQL, the primary key is dropped first and built
    again at the end, in this transaction: one pass over rows already in order instead of
    a descent of the index for each row (about a fifth of the move of a bulk load's staged
    author rows). SQLite's tables without rowid are their key: a plain insert, appended."""
    if keys_wait(conn.dialect.name) and not holds_rows(conn, table):
        drop_key(conn, table)
        conn.execute(table.insert().from_select(columns, rows))
        add_key(conn, table)
        return
    conn.execute(table.insert().from_select(columns, rows))


def empty_table(conn: Connection, table: Table) -> None:
    """Delete every row of ``table`` in this transaction. PostgreSQL's ``TRUNCATE`` gives
    the files back at once instead of marking each row dead for a vacuum to find later
    (it takes the table's exclusive lock until the commit: for tables only a writer holding
    the papers lock touches); SQLite's ``DELETE`` without ``WHERE`` already drops the
    table's pages in one step."""
    if conn.dialect.name == POSTGRESQL:
        quote = conn.dialect.identifier_preparer.quote
        conn.exec_driver_sql(f"TRUNCATE {quote(table.name)}")
    else:
        conn.execute(table.delete())


def holds_rows(conn: Connection, table: Table) -> bool:
    """Whether ``table`` has any row: one row read, whatever its size."""
    return conn.execute(select(literal_column("1")).select_from(table).limit(1)).first() is not None


def index_names(conn: Connection) -> set[str]:
    """The names of the indexes in the database (SQLAlchemy's reflection skips SQLite's
    indexes on expressions, so it cannot tell whether those exist)."""
    if conn.dialect.name == POSTGRESQL:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    return set(conn.exec_driver_sql(query).scalars())


def refresh_statistics(conn: Connection, tables: Sequence[Table]) -> None:
    """Have the planner's statistics of ``tables`` describe what they hold now: after a bulk
    load, whose indexes were built at its end. PostgreSQL plans from sampled statistics,
    which autovacuum gathers only some while after a load, and has none at all for an
    index on an expression (the papers' day) until then; ``ANALYZE`` samples a fixed number
    of rows, about a second at 2.7 million papers. SQLite plans from the indexes' shapes
    and needs nothing."""
    if conn.dialect.name == POSTGRESQL:
        quote = conn.dialect.identifier_preparer.quote
        conn.exec_driver_sql("ANALYZE " + ", ".join(quote(t.name) for t in tables))


def among(dialect: str, column: ColumnElement[Any], query: Select[Any]) -> ColumnElement[bool]:
    """``column IN (query)`` in a form the database answers from ``column``'s index when
    it is one arm of an OR. SQLite does so for ``IN (SELECT ...)``; PostgreSQL does not (it
    tests each row against the subquery's hashed result, so the OR became a scan of every
    paper: 3.4 s at 1.6 million), but it reads the index for ``= ANY(ARRAY(SELECT ...))``,
    the subquery run once first, and combines the OR's arms as a ``BitmapOr``."""
    if dialect == POSTGRESQL:
        return column == any_(func.array(query.scalar_subquery()))
    return column.in_(query)


def is_in(dialect: str, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``. PostgreSQL gets ``= ANY(array)``, one bound value: psycopg
    parses a statement of more than 50 parameters anew each time it runs (its cache of
    parsed statements stops there), which cost five times the lookup of a bulk load's
    ids. SQLite binds each value (at most 32,766 in all)."""
    if dialect == POSTGRESQL:
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def clock(dialect: str) -> ColumnElement[float]:
    """The database's clock in seconds since the epoch, the same throughout a statement."""
    if dialect == POSTGRESQL:
        return func.extract("epoch", func.statement_timestamp())
    return (func.julianday("now") - 2440587.5) * 86400.0


def greatest(dialect: str, *values: Any) -> ColumnElement[Any]:
    """The largest of ``values`` (SQLite's many-argument ``max``)."""
    return (func.greatest if dialect == POSTGRESQL else func.max)(*values)


def _statement_parts(conn: Connection, table: Table, columns: Sequence[str]) -> tuple[str, list]:
    quote = conn.dialect.identifier_preparer.quote
    mark = "%s" if conn.dialect.name == POSTGRESQL else "?"
    return quote(table.name), [(quote(name), mark) for name in columns]


@contextmanager
def _copy_into(conn: Connection, table: Table, columns: Sequence[str]) -> Iterator[Any]:
    """PostgreSQL's ``COPY table (columns) FROM STDIN`` in this transaction: psycopg's
    ``Copy``, which takes rows (``write_row``) or ``COPY`` text already formatted
    (``write``)."""
    name, parts = _statement_parts(conn, table, columns)
    names = ", ".join(column for column, _ in parts)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
        yield copy


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple]
) -> None:
    """``INSERT`` plain tuples of ``columns`` as the driver takes them: JSON already
    serialised, no per-row processing. Bulk ingestion's hot path, where SQLAlchemy's per-row
    parameter handling would cost more than the database's own work. SQLite gets one
    ``executemany``; PostgreSQL a ``COPY ... FROM STDIN`` in the same transaction, which
    the server parses in one stream instead of statement by statement."""
    if conn.dialect.name == POSTGRESQL:
        with _copy_into(conn, table, columns) as copy:
            for row in rows:
                copy.write_row(row)
        return
    name, parts = _statement_parts(conn, table, columns)
    names = ", ".join(column for column, _ in parts)
    marks = ", ".join(mark for _, mark in parts)
    conn.exec_driver_sql(f"INSERT INTO {name} ({names}) VALUES ({marks})", rows)


def insert_plain_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple]
) -> None:
    """:func:`insert_rows` for rows of text and integers only (no NULL, no other type),
    such as a bulk load's author and category rows. On PostgreSQL the ``COPY`` text is
    formatted here in one pass, then checked: a value holding a tab, a line break, a
    backslash or a NUL (which the ``COPY`` format would need escaped) sends the rows
    through the driver's per-value formatting instead, as :func:`insert_rows` does. A
    quarter of the client's CPU for these rows (``benchmarks/ingest.py``)."""
    if conn.dialect.name != POSTGRESQL or not rows:
        insert_rows(conn, table, columns, rows)
        return
    line = "\t".join(["%s"] * len(columns)) + "\n"
    data = "".join([line % row for row in rows])
    if (
        data.count("\n") != len(rows)
        or data.count("\t") != len(rows) * (len(columns) - 1)
        or any(c in data for c in "\\\r\x00")
    ):
        insert_rows(conn, table, columns, rows)
        return
    with _copy_into(conn, table, columns) as copy:
        copy.write(data)


def update_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    key: str,
    rows: Sequence[tuple],
) -> None:
    """``UPDATE table SET columns WHERE key`` for plain tuples (the values of ``columns``
    then the key), with one ``executemany``: see :func:`insert_rows`."""
    name, parts = _statement_parts(conn, table, [*columns, key])
    *sets, (where, mark) = parts
    assignments = ", ".join(f"{column} = {m}" for column, m in sets)
    conn.exec_driver_sql(f"UPDATE {name} SET {assignments} WHERE {where} = {mark}", rows)


def json_array_has(dialect: str, column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    """True where the JSON array ``column`` holds the string ``value`` (PostgreSQL's
    ``@>`` uses the GIN index on papers.categories; SQLite scans the array)."""
    if dialect == POSTGRESQL:
        return column.op("@>")(func.jsonb_build_array(value))
    each = func.json_each(column).table_valued("value")
    return select(literal_column("1")).select_from(each).where(each.c.value == value).exists()
