"""The embedded store: one SQLite file in WAL mode, with FTS5 (and sqlite-vec for vectors).

The stdlib ``sqlite3`` here cannot load extensions, so the driver is ``sqlean`` (the same
DB-API, built with extension loading). Each thread gets its own connection: SQLite
connections must not be shared across threads, and WAL lets readers run beside one writer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import sqlean
from sqlalchemy.exc import DBAPIError

from paperstand.errors import StoreError
from paperstand.models import Paper
from paperstand.sources.base import Checkpoint
from paperstand.store.base import Job, Schedule, UpsertResult
from paperstand.store.engine import migrate, one_line, sqlite_engine
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

_INSERT = (
    f"INSERT INTO papers (pk, rev, {', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(COLUMNS) + 2))})"
)
_UPDATE = f"UPDATE papers SET rev = ?, {', '.join(f'{c} = ?' for c in COLUMNS[1:])} WHERE pk = ?"
_FTS_COLUMNS = ("title", "abstract", "authors")
_FTS_POSITIONS = tuple(COLUMNS.index(c) for c in _FTS_COLUMNS)
_FTS_INSERT = "INSERT INTO papers_fts (rowid, title, abstract, authors) VALUES (?, ?, ?, ?)"
_FTS_DELETE = (
    "INSERT INTO papers_fts (papers_fts, rowid, title, abstract, authors) "
    "VALUES ('delete', ?, ?, ?, ?)"
)
# SQLite allows 32,766 bound parameters; stay well below for IN (...) lists.
_CHUNK = 900


def _fts_values(pk: int, row: tuple) -> tuple:
    """(rowid, title, abstract, authors) of a papers row, as the FTS5 index holds them."""
    return (pk, *(row[i] for i in _FTS_POSITIONS))


class SQLiteStore(SQLStore):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._local = threading.local()
        if not self.path.parent.exists():
            raise StoreError(
                f"no such directory {self.path.parent}: run 'paperstand init' or check --home"
            )
        super().__init__(sqlite_engine(self.path), str(self.path))

    # --- connections --------------------------------------------------------------------

    @property
    def conn(self) -> sqlean.Connection:
        """This thread's connection (SQLite connections must not be shared across threads)."""
        held = getattr(self._local, "conn", None)
        if held is None:
            try:
                held = self.engine.raw_connection()
            except DBAPIError as exc:
                raise StoreError(f"cannot open {self.path}: {one_line(exc)}") from exc
            self._local.conn = held
        return held.driver_connection

    def close(self) -> None:
        held = getattr(self._local, "conn", None)
        if held is not None:
            held.close()
            self._local.conn = None
        self.engine.dispose()

    def migrate(self) -> int:
        try:
            return migrate(self.engine, str(self.path))
        except DBAPIError as exc:
            raise StoreError(f"cannot open {self.path}: {one_line(exc)}") from exc

    # --- papers -------------------------------------------------------------------------

    def upsert_papers(
        self, papers: Sequence[Paper], checkpoint: Checkpoint | None = None
    ) -> UpsertResult:
        # The full-text index and the revision numbers are written here rather than by
        # per-row triggers: set-wise writes from Python are several times faster, and bulk
        # ingestion speed is a feature. Both happen in the batch's own transaction.
        incoming = dedupe_batch(papers)
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            next_pk, rev = conn.execute(
                "SELECT coalesce(max(pk), 0) + 1, coalesce(max(rev), 0) + 1 FROM papers"
            ).fetchone()
            stored = self._select_by_ids(list(incoming))
            new, changed, result = plan_upsert(
                incoming, {paper_id: paper for paper_id, (_, paper) in stored.items()}
            )
            inserts, updates, fts_removed, fts_added = [], [], [], []
            for paper in new:
                row = to_row(paper)
                inserts.append((next_pk, rev, *row))
                fts_added.append(_fts_values(next_pk, row))
                next_pk += 1
                rev += 1
            for old, merged in changed:
                pk = stored[old.id][0]
                row = to_row(merged)
                updates.append((rev, *row[1:], pk))
                rev += 1
                old_text = _fts_values(pk, to_row(old))
                new_text = _fts_values(pk, row)
                if old_text != new_text:
                    fts_removed.append(old_text)
                    fts_added.append(new_text)
            if inserts:
                conn.executemany(_INSERT, inserts)
            if updates:
                conn.executemany(_UPDATE, updates)
            if fts_removed:
                conn.executemany(_FTS_DELETE, fts_removed)
            if fts_added:
                conn.executemany(_FTS_INSERT, fts_added)
            if checkpoint is not None:
                self._write_checkpoint(checkpoint)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        if checkpoint.value is None:
            self.conn.execute("DELETE FROM checkpoints WHERE key = ?", (checkpoint.key,))
        else:
            self.conn.execute(
                "INSERT INTO checkpoints (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (checkpoint.key, orjson.dumps(checkpoint.value).decode()),
            )

    def _select_by_ids(self, paper_ids: list[str]) -> dict[str, tuple[int, Paper]]:
        """Stored papers by id, each with its pk."""
        found: dict[str, tuple[int, Paper]] = {}
        for start in range(0, len(paper_ids), _CHUNK):
            chunk = paper_ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT pk, {', '.join(COLUMNS)} FROM papers WHERE id IN ({marks})", chunk
            ).fetchall()
            for row in rows:
                found[row[1]] = (row[0], from_row(row[1:]))
        return found

    def get_papers(self, paper_ids: Sequence[str]) -> list[Paper]:
        by_id = self._select_by_ids(list(dict.fromkeys(paper_ids)))
        return [by_id[i][1] for i in paper_ids if i in by_id]

    def find_by_doi(self, doi: str) -> Paper | None:
        row = self.conn.execute(
            f"{SELECT_PAPERS} WHERE lower(doi) = lower(?) LIMIT 1", (doi.strip(),)
        ).fetchone()
        return from_row(row) if row else None

    def iter_papers(self, batch_size: int = 1000) -> Iterator[list[Paper]]:
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT pk, {', '.join(COLUMNS)} FROM papers WHERE pk > ? ORDER BY pk LIMIT ?",
                (last, batch_size),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [from_row(row[1:]) for row in rows]

    def stats(self) -> dict[str, Any]:
        papers, deleted, latest = self.conn.execute(
            "SELECT count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE deleted), "
            "max(listed) FILTER (WHERE NOT deleted) FROM papers"
        ).fetchone()
        return {"papers": papers, "deleted": deleted, "latest_listing": latest}

    def get_checkpoint(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT value FROM checkpoints WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    # --- web: the backend's parts of the daily lists (the rest is in store/sql.py) ------

    _SUBMITTED_AT = "json_extract(extra, '$.submittedOnDailyAt')"

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def data_version(self) -> int:
        return self.revision()

    def papers_by_author(self, name: str, *, limit: int, offset: int = 0) -> list[Paper]:
        name = name.strip()
        if matches_nothing(name):
            return []
        # The full-text index narrows the candidates to papers with these name tokens; the
        # JSON test then keeps exact author matches only.
        phrase = '"' + name.replace('"', '""') + '"'
        rows = self.conn.execute(
            f"{SELECT_PAPERS} WHERE pk IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?) "
            "AND EXISTS (SELECT 1 FROM json_each(papers.authors) WHERE json_each.value = ?) "
            f"AND NOT deleted ORDER BY {self._DAY} DESC, id DESC LIMIT ? OFFSET ?",
            (f"authors : {phrase}", name, limit, offset),
        ).fetchall()
        return [from_row(row) for row in rows]

    def papers_in_category(self, category: str, *, limit: int, offset: int = 0) -> list[Paper]:
        rows = self.conn.execute(
            f"{SELECT_PAPERS} WHERE EXISTS (SELECT 1 FROM json_each(papers.categories) "
            "WHERE json_each.value = ?) AND NOT deleted "
            f"ORDER BY {self._DAY} DESC, id DESC LIMIT ? OFFSET ?",
            (category, limit, offset),
        ).fetchall()
        return [from_row(row) for row in rows]

    # --- search indexes: revisions and embeddings (issue 4) -----------------------------

    def save_embeddings(self, model: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        if not rows:
            return
        values = []
        for paper_id, content_hash, vector in rows:
            vector = np.ascontiguousarray(vector, dtype=np.float32)
            code = np.packbits(vector > 0, bitorder="little").tobytes()
            values.append((model, content_hash, vector.tobytes(), code, paper_id))
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO embeddings (pk, model, content_hash, vector, code) "
                "SELECT pk, ?, ?, ?, ? FROM papers WHERE id = ? "
                "ON CONFLICT (pk) DO UPDATE SET model = excluded.model, "
                "content_hash = excluded.content_hash, vector = excluded.vector, "
                "code = excluded.code",
                values,
            )
            conn.execute("UPDATE embeddings_version SET version = version + 1 WHERE id = 1")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def get_embeddings(self, model: str, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        wanted = list(dict.fromkeys(paper_ids))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = self.conn.execute(
                "SELECT p.id, e.vector FROM embeddings e JOIN papers p ON p.pk = e.pk "
                f"WHERE e.model = ? AND p.id IN ({', '.join('?' * len(chunk))})",
                (model, *chunk),
            ).fetchall()
            found.update((pid, np.frombuffer(blob, dtype=np.float32)) for pid, blob in rows)
        return found

    def delete_embeddings(self, paper_ids: Sequence[str]) -> int:
        deleted = 0
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            wanted = list(dict.fromkeys(paper_ids))
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                deleted += conn.execute(
                    "DELETE FROM embeddings WHERE pk IN (SELECT pk FROM papers "
                    f"WHERE id IN ({', '.join('?' * len(chunk))}))",
                    chunk,
                ).rowcount
            conn.execute("UPDATE embeddings_version SET version = version + 1 WHERE id = 1")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return deleted

    def embedding_counts(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT e.model, count(*) FROM embeddings e JOIN papers p ON p.pk = e.pk "
            "WHERE NOT p.deleted GROUP BY e.model"
        ).fetchall()
        return dict(rows)

    # SQLite only: what ``SQLiteVecIndex`` (paperstand/index/vectors.py) searches with.

    def embeddings_version(self) -> int:
        """Changes whenever any process writes embeddings: in-memory copies reload on it."""
        return self.conn.execute("SELECT version FROM embeddings_version WHERE id = 1").fetchone()[
            0
        ]

    def embedding_codes(
        self, model: str, *, with_vectors: bool = False
    ) -> tuple[list[int], list[str], bytes, bytes | None]:
        """Row keys, paper ids, the concatenated sign-bit codes and (``with_vectors``) the
        concatenated float32 vectors of ``model``'s embeddings of papers not deleted, in
        key order: one scan."""
        column = "e.vector" if with_vectors else "NULL"
        rows = self.conn.execute(
            f"SELECT e.pk, p.id, e.code, {column} FROM embeddings e "
            "JOIN papers p ON p.pk = e.pk WHERE e.model = ? AND NOT p.deleted ORDER BY e.pk",
            (model,),
        ).fetchall()
        vectors = b"".join(r[3] for r in rows) if with_vectors else None
        return [r[0] for r in rows], [r[1] for r in rows], b"".join(r[2] for r in rows), vectors

    def embedding_distances(
        self, model: str, vector: np.ndarray, keys: Sequence[int]
    ) -> list[tuple[int, float]]:
        """Exact cosine distances (sqlite-vec) from ``vector`` to the embeddings of these
        row keys: the re-scoring stage after the bit-code first stage."""
        query = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
        found: list[tuple[int, float]] = []
        wanted = list(keys)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found.extend(
                self.conn.execute(
                    "SELECT pk, vec_distance_cosine(vector, ?) FROM embeddings "
                    f"WHERE model = ? AND pk IN ({', '.join('?' * len(chunk))})",
                    (query, model, *chunk),
                ).fetchall()
            )
        return found

    # --- background jobs (issue 6) ------------------------------------------------------
    # Claims run under BEGIN IMMEDIATE (SQLite's one writer), so several worker processes
    # on this machine can share the queue too; servers use PostgreSQL.

    def enqueue_job(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        key: str | None = None,
        max_attempts: int = 3,
        delay: float = 0.0,
    ) -> int | None:
        row = self.conn.execute(
            "INSERT INTO jobs (kind, params, key, max_attempts, run_after, created_at) "
            f"VALUES (?, ?, ?, ?, {_later('?')}, {_NOW}) ON CONFLICT (key) DO NOTHING "
            "RETURNING id",
            (kind, orjson.dumps(params).decode(), key, max_attempts, _seconds(delay)),
        ).fetchone()
        return row[0] if row else None

    def claim_job(self, worker: str, kinds: Sequence[str], lease: float) -> Job | None:
        if not kinds:
            return None
        marks = ", ".join("?" * len(kinds))
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                f"UPDATE jobs SET status = 'failed', finished_at = {_NOW}, "
                "error = coalesce(error || '; ', '') || 'worker ' || worker || ' lost' "
                f"WHERE status = 'running' AND lease_until < {_NOW} "
                "AND attempts >= max_attempts"
            )
            row = conn.execute(
                f"UPDATE jobs SET error = CASE WHEN status = 'running' THEN "
                "coalesce(error || '; ', '') || 'worker ' || worker || ' lost' ELSE error END, "
                "status = 'running', attempts = attempts + 1, worker = ?, "
                f"lease_until = {_later('?')}, started_at = {_NOW} "
                f"WHERE id = (SELECT id FROM jobs WHERE kind IN ({marks}) AND "
                f"((status = 'queued' AND run_after <= {_NOW}) OR (status = 'running' "
                f"AND lease_until < {_NOW} AND attempts < max_attempts)) "
                f"ORDER BY run_after, id LIMIT 1) RETURNING {', '.join(JOB_COLUMNS)}",
                (worker, _seconds(lease), *kinds),
            ).fetchone()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return job_from_row(row) if row else None

    def renew_job_lease(self, job_id: int, worker: str, lease: float) -> bool:
        return (
            self.conn.execute(
                f"UPDATE jobs SET lease_until = {_later('?')} "
                "WHERE id = ? AND worker = ? AND status = 'running'",
                (_seconds(lease), job_id, worker),
            ).rowcount
            == 1
        )

    def finish_job(self, job_id: int, worker: str, result: dict[str, Any] | None) -> bool:
        return (
            self.conn.execute(
                f"UPDATE jobs SET status = 'done', finished_at = {_NOW}, lease_until = NULL, "
                "result = ? WHERE id = ? AND worker = ? AND status = 'running'",
                (orjson.dumps(result).decode() if result is not None else None, job_id, worker),
            ).rowcount
            == 1
        )

    def fail_job(self, job_id: int, worker: str, error: str, retry_in: float) -> bool:
        return (
            self.conn.execute(
                "UPDATE jobs SET status = CASE WHEN attempts < max_attempts THEN 'queued' "
                "ELSE 'failed' END, finished_at = CASE WHEN attempts < max_attempts THEN NULL "
                f"ELSE {_NOW} END, run_after = {_later('?')}, lease_until = NULL, error = ? "
                "WHERE id = ? AND worker = ? AND status = 'running'",
                (_seconds(retry_in), error, job_id, worker),
            ).rowcount
            == 1
        )

    def list_jobs(self, *, status: str | None = None, limit: int = 50) -> list[Job]:
        where = "WHERE status = ?" if status else ""
        rows = self.conn.execute(
            f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs {where} ORDER BY id DESC LIMIT ?",
            (status, limit) if status else (limit,),
        ).fetchall()
        return [job_from_row(row) for row in rows]

    def save_schedule(self, schedule: Schedule) -> None:
        self.conn.execute(
            "INSERT INTO schedules (name, kind, params, every_seconds) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, params = excluded.params, "
            "every_seconds = excluded.every_seconds",
            (
                schedule.name,
                schedule.kind,
                orjson.dumps(schedule.params).decode(),
                schedule.every_seconds,
            ),
        )

    def delete_schedule(self, name: str) -> bool:
        return self.conn.execute("DELETE FROM schedules WHERE name = ?", (name,)).rowcount == 1

    def list_schedules(self) -> list[Schedule]:
        rows = self.conn.execute(
            "SELECT name, kind, params, every_seconds FROM schedules ORDER BY name"
        ).fetchall()
        return [Schedule(name, kind, orjson.loads(data), every) for name, kind, data, every in rows]


# Job times: ISO 8601 UTC text from SQLite's clock, which sorts in time order.
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def _later(modifier: str) -> str:
    """SQL for now plus a modifier such as '+30.000 seconds' (bound as ``modifier``)."""
    return f"strftime('%Y-%m-%dT%H:%M:%fZ', 'now', {modifier})"


def _seconds(value: float) -> str:
    return f"{value:+.3f} seconds"
