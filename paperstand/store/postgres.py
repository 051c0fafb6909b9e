"""The server store: PostgreSQL 16 with pgvector, for several web processes and workers.

Same contract and behaviour as :class:`~paperstand.store.sqlite.SQLiteStore`; the row mapping
is shared (``rows.py``). Connections come from a ``psycopg_pool`` pool, so one store object
serves every thread of a process. Writers of ``papers`` take one advisory lock per
transaction: an upsert reads the stored records, merges and writes them back, and two
processes merging the same paper at once must not both insert it (SQLite gets the same
effect from ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb
from psycopg.types.string import StrDumperUnknown
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

from paperstand.errors import StoreError
from paperstand.models import Paper
from paperstand.sources.base import Checkpoint
from paperstand.store.base import Job, Schedule, UpsertResult
from paperstand.store.engine import migrate, one_line, postgres_engine
from paperstand.store.rows import (
    COLUMNS,
    JOB_COLUMNS,
    dedupe_batch,
    from_row,
    job_from_row,
    plan_upsert,
    to_row,
)
from paperstand.store.sql import SELECT_PAPERS, SQLStore, matches_nothing

_COPY = f"COPY papers ({', '.join(COLUMNS)}) FROM STDIN"
_UPDATE = f"UPDATE papers SET {', '.join(f'{c} = %s' for c in COLUMNS[1:])} WHERE id = %s"
_DELETED = COLUMNS.index("deleted")
# Advisory lock keys (any constant bigint, unique within paperstand).
PAPERS_LOCK = 0x7061_7065_7273  # "papers"
EMBEDDINGS_LOCK = 0x656D_6265_6464  # "embedd"


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the database"
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname', '')}"


class _NulSafeStr(StrDumperUnknown):
    """Strings with NUL bytes as U+FFFD. PostgreSQL text cannot hold NUL, but user text (an
    id or a name pasted into a URL) may; no stored value contains U+FFFD, so such a lookup
    finds nothing instead of failing."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", "\ufffd"))


def _configure(conn: psycopg.Connection, _record: object) -> None:
    conn.adapters.register_dumper(str, _NulSafeStr)


class PostgresStore(SQLStore):
    def __init__(self, url: str, *, max_connections: int = 10, connect_timeout: int = 10) -> None:
        self.url = url
        self._where = describe(url)
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"bad database URL: {one_line(exc)}") from exc
        engine = postgres_engine(
            url, max_connections=max_connections, connect_timeout=connect_timeout
        )
        super().__init__(engine, self._where)
        event.listen(self.engine, "connect", _configure)
        # Connect once now: libpq's reason (refused, no such socket, bad password) is the
        # clearest message, and an unreachable server should fail here, not on first use.
        try:
            self.engine.connect().close()
        except DBAPIError as exc:
            raise StoreError(f"cannot connect to {self._where}: {one_line(exc)}") from exc

    # --- connections --------------------------------------------------------------------

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in autocommit mode: each statement commits by itself (a read
        is one round trip, no BEGIN and COMMIT around it)."""
        try:
            held = self.engine.raw_connection()
        except DBAPIError as exc:
            raise StoreError(f"database {self._where}: {one_line(exc)}") from exc
        conn = held.driver_connection
        try:
            conn.autocommit = True
            yield conn
        except psycopg.OperationalError as exc:
            raise StoreError(f"database {self._where}: {one_line(exc)}") from exc
        finally:
            if not conn.closed:
                conn.autocommit = False
            held.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in a transaction, committed when the block ends."""
        with self.connection() as conn, conn.transaction():
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def migrate(self) -> int:
        try:
            return migrate(self.engine, self._where)
        except DBAPIError as exc:
            raise StoreError(f"database {self._where}: {one_line(exc)}") from exc

    # --- papers -------------------------------------------------------------------------

    def upsert_papers(
        self, papers: Sequence[Paper], checkpoint: Checkpoint | None = None
    ) -> UpsertResult:
        incoming = dedupe_batch(papers)
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PAPERS_LOCK,))
            stored = {p.id: p for p in self._select_by_ids(conn, list(incoming))}
            new, changed, result = plan_upsert(incoming, stored)
            inserts = [_pg_row(paper) for paper in new]
            updates = [(*_pg_row(merged)[1:], merged.id) for _, merged in changed]
            with conn.cursor() as cur:
                if inserts:
                    with cur.copy(_COPY) as copy:
                        for row in inserts:
                            copy.write_row(row)
                if updates:
                    cur.executemany(_UPDATE, updates)
            if checkpoint is not None:
                _write_checkpoint(conn, checkpoint)
        return result

    @staticmethod
    def _select_by_ids(conn: psycopg.Connection, paper_ids: list[str]) -> list[Paper]:
        rows = conn.execute(f"{SELECT_PAPERS} WHERE id = ANY(%s)", (paper_ids,)).fetchall()
        return [from_row(row) for row in rows]

    def get_papers(self, paper_ids: Sequence[str]) -> list[Paper]:
        with self.connection() as conn:
            by_id = {p.id: p for p in self._select_by_ids(conn, list(dict.fromkeys(paper_ids)))}
        return [by_id[i] for i in paper_ids if i in by_id]

    def find_by_doi(self, doi: str) -> Paper | None:
        with self.connection() as conn:
            row = conn.execute(
                f"{SELECT_PAPERS} WHERE lower(doi) = lower(%s) AND doi IS NOT NULL LIMIT 1",
                (doi.strip(),),
            ).fetchone()
        return from_row(row) if row else None

    def iter_papers(self, batch_size: int = 1000) -> Iterator[list[Paper]]:
        last = 0
        while True:
            # A connection per batch: the caller may take its time between batches.
            with self.connection() as conn:
                rows = conn.execute(
                    f"SELECT pk, {', '.join(COLUMNS)} FROM papers WHERE pk > %s "
                    "ORDER BY pk LIMIT %s",
                    (last, batch_size),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [from_row(row[1:]) for row in rows]

    def stats(self) -> dict[str, Any]:
        with self.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE deleted), "
                "max(listed) FILTER (WHERE NOT deleted) FROM papers"
            ).fetchone()
        papers, deleted, latest = row if row else (0, 0, None)
        return {"papers": papers, "deleted": deleted, "latest_listing": latest}

    # --- source checkpoints -------------------------------------------------------------

    def get_checkpoint(self, key: str) -> dict[str, Any] | None:
        with self.connection() as conn:
            row = conn.execute("SELECT value FROM checkpoints WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    # --- web: the backend's parts of the daily lists (the rest is in store/sql.py) ------

    _SUBMITTED_AT = "extra->>'submittedOnDailyAt'"

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # The shared queries use no ``?`` operator of jsonb, so every ``?`` is a placeholder.
        with self.connection() as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()  # type: ignore[arg-type]

    def _papers(self, sql: str, params: Sequence[Any]) -> list[Paper]:
        with self.connection() as conn:
            rows = conn.execute(sql, params).fetchall()  # type: ignore[arg-type]
        return [from_row(row) for row in rows]

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.connection() as conn:
            row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None

    def data_version(self) -> int:
        return self._scalar("SELECT version FROM data_version WHERE id = 1")

    def papers_by_author(self, name: str, *, limit: int, offset: int = 0) -> list[Paper]:
        name = name.strip()
        if matches_nothing(name):
            return []
        return self._papers(
            f"{SELECT_PAPERS} WHERE authors @> %s AND NOT deleted "
            f"ORDER BY {self._DAY} DESC, id DESC LIMIT %s OFFSET %s",
            (Jsonb([name]), limit, offset),
        )

    def papers_in_category(self, category: str, *, limit: int, offset: int = 0) -> list[Paper]:
        if matches_nothing(category):
            return []
        return self._papers(
            f"{SELECT_PAPERS} WHERE categories @> %s AND NOT deleted "
            f"ORDER BY {self._DAY} DESC, id DESC LIMIT %s OFFSET %s",
            (Jsonb([category]), limit, offset),
        )

    # --- search indexes: revisions and embeddings (issue 4) -----------------------------

    def save_embeddings(self, model: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        if not rows:
            return
        dims = {len(vector) for _, _, vector in rows}
        values = [(content_hash, vector_text(v), pid) for pid, content_hash, v in rows]
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (EMBEDDINGS_LOCK,))
            for dim in dims:
                _ensure_vector_index(conn, model, dim)
            with conn.cursor() as cur:
                cur.executemany(
                    sql.SQL(
                        "INSERT INTO embeddings (pk, model, content_hash, vector) "
                        "SELECT pk, {}, %s, %s::vector FROM papers WHERE id = %s "
                        "ON CONFLICT (pk) DO UPDATE SET model = excluded.model, "
                        "content_hash = excluded.content_hash, vector = excluded.vector"
                    ).format(sql.Literal(model)),
                    values,
                )
            conn.execute("UPDATE embeddings_version SET version = version + 1 WHERE id = 1")

    def get_embeddings(self, model: str, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT p.id, e.vector::text FROM embeddings e JOIN papers p ON p.pk = e.pk "
                "WHERE e.model = %s AND p.id = ANY(%s)",
                (model, list(paper_ids)),
            ).fetchall()
        return {pid: parse_vector(text) for pid, text in rows}

    def delete_embeddings(self, paper_ids: Sequence[str]) -> int:
        with self.transaction() as conn:
            deleted = conn.execute(
                "DELETE FROM embeddings WHERE pk IN (SELECT pk FROM papers WHERE id = ANY(%s))",
                (list(paper_ids),),
            ).rowcount
            conn.execute("UPDATE embeddings_version SET version = version + 1 WHERE id = 1")
        return deleted

    def embedding_counts(self) -> dict[str, int]:
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT e.model, count(*) FROM embeddings e JOIN papers p ON p.pk = e.pk "
                "WHERE NOT p.deleted GROUP BY e.model"
            ).fetchall()
        return dict(rows)  # type: ignore[arg-type]

    # PostgreSQL only: what the pgvector ``VectorIndex`` searches with.

    def embeddings_version(self) -> int:
        """Changes whenever any process writes embeddings."""
        return self._scalar("SELECT version FROM embeddings_version WHERE id = 1")

    def has_embeddings(self, model: str) -> bool:
        """Whether any paper has an embedding of ``model`` (asked before every search)."""
        return self._scalar("SELECT EXISTS (SELECT 1 FROM embeddings WHERE model = %s)", (model,))

    def nearest_embeddings(
        self,
        model: str,
        vector: np.ndarray,
        limit: int,
        *,
        among: Sequence[str] | None = None,
        exact: bool = False,
    ) -> list[tuple[str, float]]:
        """The ``limit`` papers (not deleted) whose ``model`` embeddings are nearest to
        ``vector``, as (paper id, cosine distance), nearest first. Uses the model's HNSW
        index, unless ``exact`` (every row: for measuring the index's recall) or ``among``
        (only these papers, compared exactly)."""
        dim = sql.Literal(len(vector))
        distance = sql.SQL("e.vector::vector({dim}) <=> %(q)s::vector({dim})").format(dim=dim)
        if among is None:
            query = sql.SQL(
                "SELECT p.id, n.distance FROM (SELECT pk, {distance} AS distance "
                "FROM embeddings e WHERE model = {model} ORDER BY {distance} LIMIT %(k)s) n "
                "JOIN papers p ON p.pk = n.pk WHERE NOT p.deleted ORDER BY n.distance"
            )
        else:
            query = sql.SQL(
                "SELECT p.id, {distance} AS distance FROM embeddings e "
                "JOIN papers p ON p.pk = e.pk WHERE e.model = {model} AND p.id = ANY(%(among)s) "
                "AND NOT p.deleted ORDER BY distance LIMIT %(k)s"
            )
        query = query.format(distance=distance, model=sql.Literal(model))
        params = {"q": vector_text(vector), "k": limit, "among": list(among or ())}
        # One round trip for the settings and the query (pipeline mode).
        with self.connection() as conn, conn.pipeline(), conn.transaction():
            # HNSW returns at most ef_search rows; deleted papers are filtered after it.
            # 200: on 118k real papers, recall@10 against exact search for similar-paper
            # queries was 0.96 at 100 and 0.985 at 200; for short text queries 0.75 and
            # 0.85 (docs/benchmarks.md).
            conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(max(200, 2 * limit)))
            if exact:
                conn.execute("SET LOCAL enable_indexscan = off")
            rows = conn.execute(query, params).fetchall()
        return [(pid, float(d)) for pid, d in rows]

    # --- background jobs (issue 6) ------------------------------------------------------
    # FOR UPDATE SKIP LOCKED: workers on any number of machines claim different jobs
    # without waiting for each other.

    def enqueue_job(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        key: str | None = None,
        max_attempts: int = 3,
        delay: float = 0.0,
    ) -> int | None:
        with self.connection() as conn:
            row = conn.execute(
                "INSERT INTO jobs (kind, params, key, max_attempts, run_after) "
                "VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s)) "
                "ON CONFLICT (key) DO NOTHING RETURNING id",
                (kind, Jsonb(params), key, max_attempts, delay),
            ).fetchone()
        return row[0] if row else None

    def claim_job(self, worker: str, kinds: Sequence[str], lease: float) -> Job | None:
        with self.connection() as conn:
            conn.execute(
                "UPDATE jobs SET status = 'failed', finished_at = now(), "
                "error = coalesce(error || '; ', '') || 'worker ' || worker || ' lost' "
                "WHERE status = 'running' AND lease_until < now() AND attempts >= max_attempts"
            )
            row = conn.execute(
                "UPDATE jobs SET error = CASE WHEN status = 'running' THEN "
                "coalesce(error || '; ', '') || 'worker ' || worker || ' lost' ELSE error END, "
                "status = 'running', attempts = attempts + 1, worker = %s, "
                "lease_until = now() + make_interval(secs => %s), started_at = now() "
                "WHERE id = (SELECT id FROM jobs WHERE kind = ANY(%s) AND "
                "((status = 'queued' AND run_after <= now()) OR (status = 'running' "
                "AND lease_until < now() AND attempts < max_attempts)) "
                "ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                f"RETURNING {', '.join(JOB_COLUMNS)}",
                (worker, lease, list(kinds)),
            ).fetchone()
        return job_from_row(row) if row else None

    def _one_row_changed(self, sql_text: str, params: Sequence[Any]) -> bool:
        with self.connection() as conn:
            return conn.execute(sql_text, params).rowcount == 1  # type: ignore[arg-type]

    def renew_job_lease(self, job_id: int, worker: str, lease: float) -> bool:
        return self._one_row_changed(
            "UPDATE jobs SET lease_until = now() + make_interval(secs => %s) "
            "WHERE id = %s AND worker = %s AND status = 'running'",
            (lease, job_id, worker),
        )

    def finish_job(self, job_id: int, worker: str, result: dict[str, Any] | None) -> bool:
        return self._one_row_changed(
            "UPDATE jobs SET status = 'done', finished_at = now(), lease_until = NULL, "
            "result = %s WHERE id = %s AND worker = %s AND status = 'running'",
            (Jsonb(result) if result is not None else None, job_id, worker),
        )

    def fail_job(self, job_id: int, worker: str, error: str, retry_in: float) -> bool:
        return self._one_row_changed(
            "UPDATE jobs SET status = CASE WHEN attempts < max_attempts THEN 'queued' "
            "ELSE 'failed' END, finished_at = CASE WHEN attempts < max_attempts THEN NULL "
            "ELSE now() END, run_after = now() + make_interval(secs => %s), "
            "lease_until = NULL, error = %s WHERE id = %s AND worker = %s AND status = 'running'",
            (retry_in, error, job_id, worker),
        )

    def list_jobs(self, *, status: str | None = None, limit: int = 50) -> list[Job]:
        where = "WHERE status = %s" if status else ""
        with self.connection() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs {where} ORDER BY id DESC LIMIT %s",
                (status, limit) if status else (limit,),
            ).fetchall()
        return [job_from_row(row) for row in rows]

    def save_schedule(self, schedule: Schedule) -> None:
        with self.connection() as conn:
            conn.execute(
                "INSERT INTO schedules (name, kind, params, every_seconds) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
                "params = excluded.params, every_seconds = excluded.every_seconds",
                (schedule.name, schedule.kind, Jsonb(schedule.params), schedule.every_seconds),
            )

    def delete_schedule(self, name: str) -> bool:
        return self._one_row_changed("DELETE FROM schedules WHERE name = %s", (name,))

    def list_schedules(self) -> list[Schedule]:
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT name, kind, params, every_seconds FROM schedules ORDER BY name"
            ).fetchall()
        return [Schedule(*row) for row in rows]


def _pg_row(paper: Paper) -> tuple[Any, ...]:
    """``rows.to_row`` with ``deleted`` as a boolean (JSON text casts to jsonb by itself)."""
    row = list(to_row(paper))
    row[_DELETED] = paper.deleted
    return tuple(row)


def vector_text(vector: np.ndarray) -> str:
    """pgvector's text form. repr() of each float32 (as a Python float) parses back to the
    same float32, so vectors round-trip exactly."""
    return "[" + ",".join(map(repr, np.asarray(vector, dtype=np.float32).tolist())) + "]"


def parse_vector(text: str) -> np.ndarray:
    return np.array(text[1:-1].split(","), dtype=np.float32)


def _ensure_vector_index(conn: psycopg.Connection, model: str, dim: int) -> None:
    """One HNSW index (cosine) per model and dimension, on the model's rows only; the caller
    holds EMBEDDINGS_LOCK, so two workers cannot create it at once."""
    name = f"embeddings_hnsw_{hashlib.sha1(model.encode()).hexdigest()[:10]}_{dim}"
    if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None:
        return  # CREATE INDEX IF NOT EXISTS would still lock the table first
    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON embeddings "
            "USING hnsw ((vector::vector({dim})) vector_cosine_ops) WHERE model = {model}"
        ).format(name=sql.Identifier(name), dim=sql.Literal(dim), model=sql.Literal(model))
    )


def _write_checkpoint(conn: psycopg.Connection, checkpoint: Checkpoint) -> None:
    if checkpoint.value is None:
        conn.execute("DELETE FROM checkpoints WHERE key = %s", (checkpoint.key,))
    else:
        conn.execute(
            "INSERT INTO checkpoints (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (checkpoint.key, Jsonb(checkpoint.value)),
        )
