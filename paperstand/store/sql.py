"""Queries that both SQL backends run alike, written once.

``SQLiteStore`` and ``PostgresStore`` differ in how a query is run (one connection per
thread, or a pool), in their placeholders and in their JSON syntax; the daily lists,
revisions and embedding sources are the same SQL. Shared queries are written with ``?``
placeholders and run through :meth:`SQLStore._query`, which each backend implements.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from paperstand.models import Paper
from paperstand.store.base import EmbeddingSource, Store
from paperstand.store.rows import COLUMNS, from_row

SELECT_PAPERS = f"SELECT {', '.join(COLUMNS)} FROM papers"


def matches_nothing(value: str) -> bool:
    """True for user text (an author name or category from a URL) that no stored value can
    equal: empty, or holding a NUL byte, which FTS5 queries and PostgreSQL's JSON reject."""
    return not value.strip() or "\x00" in value


class SQLStore(Store):
    # A paper's day on the daily lists (see Store.papers_on_days). It matches the expression
    # index papers_day (migration 0003), so day-range queries use it.
    _DAY = "coalesce(submitted_on, listed)"
    # The SQL expression of extra["submittedOnDailyAt"], the last tie-break of a daily list.
    _SUBMITTED_AT: str

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one read-only query written with ``?`` placeholders."""

    def _scalar_of(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._query(sql, params)
        return rows[0][0] if rows else None

    def _papers_of(self, sql: str, params: Sequence[Any] = ()) -> list[Paper]:
        return [from_row(row) for row in self._query(sql, params)]

    # --- daily lists ----------------------------------------------------------------------

    def _day_filter(self, first: str, last: str, submitter: str | None) -> tuple[str, list]:
        where = f"{self._DAY} BETWEEN ? AND ? AND NOT deleted"
        params: list[Any] = [first, last]
        if submitter is not None:
            where += " AND submitted_by = ?"
            params.append(submitter)
        return where, params

    def papers_on_days(
        self,
        first: str,
        last: str,
        *,
        limit: int,
        offset: int = 0,
        submitter: str | None = None,
        recent_first: bool = False,
    ) -> list[Paper]:
        where, params = self._day_filter(first, last, submitter)
        votes, day = "coalesce(upvotes, 0) DESC", f"{self._DAY} DESC"
        order = f"{day}, {votes}" if recent_first else f"{votes}, {day}"
        return self._papers_of(
            f"{SELECT_PAPERS} WHERE {where} ORDER BY {order}, published DESC NULLS LAST, "
            f"{self._SUBMITTED_AT} DESC NULLS LAST, id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    def count_on_days(self, first: str, last: str, *, submitter: str | None = None) -> int:
        where, params = self._day_filter(first, last, submitter)
        return self._scalar_of(f"SELECT count(*) FROM papers WHERE {where}", params)

    def latest_day(self) -> str | None:
        return self._scalar_of(f"SELECT max({self._DAY}) FROM papers WHERE NOT deleted")

    def neighbour_days(self, day: str) -> tuple[str | None, str | None]:
        before, after = self._query(
            f"SELECT (SELECT max({self._DAY}) FROM papers WHERE {self._DAY} < ? "
            f"AND NOT deleted), (SELECT min({self._DAY}) FROM papers WHERE {self._DAY} > ? "
            "AND NOT deleted)",
            (day, day),
        )[0]
        return before, after

    # --- search indexes: revisions and embedding sources ------------------------------------

    def revision(self) -> int:
        return self._scalar_of("SELECT coalesce(max(rev), 0) FROM papers")

    def iter_changed_papers(
        self, after: int, batch_size: int = 1000
    ) -> Iterator[list[tuple[int, Paper]]]:
        while True:
            rows = self._query(
                f"SELECT rev, {', '.join(COLUMNS)} FROM papers WHERE rev > ? ORDER BY rev LIMIT ?",
                (after, batch_size),
            )
            if not rows:
                return
            after = rows[-1][0]
            yield [(row[0], from_row(row[1:])) for row in rows]

    def iter_embedding_sources(self, batch_size: int = 1000) -> Iterator[list[EmbeddingSource]]:
        last = 0
        while True:
            rows = self._query(
                "SELECT p.pk, p.id, p.title, p.abstract, e.model, e.content_hash "
                "FROM papers p LEFT JOIN embeddings e ON e.pk = p.pk "
                "WHERE p.pk > ? AND NOT p.deleted ORDER BY p.pk LIMIT ?",
                (last, batch_size),
            )
            if not rows:
                return
            last = rows[-1][0]
            yield [EmbeddingSource(*row[1:]) for row in rows]
