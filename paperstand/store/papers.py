"""Papers: their table, the author and category tables that index them, and every query
of papers (upserts, lookups, daily lists, author and category pages, revisions).

A paper's *day* is ``coalesce(submitted_on, listed)``: the Hugging Face daily-list day when
the paper was on it, else its arXiv listing day. Deleted papers, and papers an admin hid
(``schema.visible``), never appear on lists; a paper read by id says whether it is hidden
(``Paper.hidden``), so the faces can answer 404 for it.

``paper_authors`` and ``paper_categories`` hold one row per author (category) of each paper
not deleted, with the paper's day and id beside it, so an author or category page is one
ordered index range (``name_key, day, paper_id``) however large the store grows. Author
names are matched the way readers type them: :func:`name_key` folds case, accents and
spacing, and nothing more, so two people whose names differ beyond that stay apart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    select,
    tuple_,
    update,
)

from paperstand.models import Cursor, Paper, Window
from paperstand.sources.base import Checkpoint
from paperstand.sources.text import squash
from paperstand.store.checkpoints import write_checkpoint
from paperstand.store.dialect import (
    POSTGRESQL,
    index_names,
    insert_rows,
    json_text,
    lock,
    update_rows,
)
from paperstand.store.part import Part
from paperstand.store.records import COLUMNS, UpsertResult, dedupe_batch, plan_upsert
from paperstand.store.schema import (
    Key,
    hidden_papers,
    is_hidden,
    metadata,
    pack_text,
    papers,
    visible,
)

# Writers of papers serialise on this lock (PostgreSQL; SQLite has one writer anyway): an
# upsert reads the stored records, merges and writes them back, and numbers the revisions.
PAPERS_LOCK = 0x7061_7065_7273  # "papers"
# At most this many bound values in one IN (...) list (SQLite allows 32,766 in all).
CHUNK = 900

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),  # 0 = first author
    Column("name", Text, nullable=False),  # as the source spelled it
    Column("name_key", Text, nullable=False),  # name_key(name)
    Column("day", Text),  # the paper's day and id: author pages read the index alone
    Column("paper_id", Text, nullable=False),
)
Index("paper_authors_name", paper_authors.c.name_key, paper_authors.c.day, paper_authors.c.paper_id)

paper_categories = Table(
    "paper_categories",
    metadata,
    Column("pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("category", Text, primary_key=True),
    Column("day", Text),
    Column("paper_id", Text, nullable=False),
)
Index(
    "paper_categories_day",
    paper_categories.c.category,
    paper_categories.c.day,
    paper_categories.c.paper_id,
)

data_version = Table(
    "data_version",
    metadata,
    # Bumped by every write to papers: the web app keys its caches on it, so an ingest by
    # any process on any machine invalidates every cached page at once.
    Column("id", Integer, CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)


def bump_data_version(conn: Connection) -> None:
    """Invalidate every cached page: what a page shows of papers has changed."""
    conn.execute(update(data_version).values(version=data_version.c.version + 1))


DAY = func.coalesce(papers.c.submitted_on, papers.c.listed)


def _deferred_indexes() -> list[Index]:
    """The indexes a bulk load into an empty store builds once at its end (one sort each)
    instead of entry by entry: every index of papers and of the author and category rows
    except what the load itself reads (the unique id, the revisions) and the primary keys.
    Entry by entry, they were half of what a paper cost to store, and they grow slower as
    the store grows (each insert lands on a random page)."""
    tables = (papers, paper_authors, paper_categories)
    return [
        i for t in tables for i in sorted(t.indexes, key=lambda i: i.name) if i.name != "papers_rev"
    ]


_COLUMNS = [papers.c[name] for name in COLUMNS]
# Reads of whole papers carry whether an admin hid each one, after the columns.
_SELECT = select(*_COLUMNS, is_hidden())
_ONE = _SELECT.where(papers.c.id == bindparam("paper_id"))
_BY_IDS = _SELECT.where(papers.c.id.in_(bindparam("ids", expanding=True)))
# Asked before every search (is the full-text index current?): built once, since building
# the statement and its cache key cost as much as running it.
_REVISION = select(func.coalesce(func.max(papers.c.rev), 0))


def name_key(name: str) -> str:
    """An author name as readers type it: accents and case folded, spaces collapsed
    ("Zoë  ÅNGSTRÖM" and "zoe angstrom" are the same key). Nothing else is merged.
    Runs once per author of every paper a bulk load writes, and nearly every name is
    ASCII, where ``lower`` folds as ``casefold`` does at a third of the cost. Not cached:
    most names of a load are seen once, and an LRU cache's misses cost more than the
    folding itself (benchmarks/ingest.py)."""
    if name.isascii():
        return squash(name.lower())
    decomposed = unicodedata.normalize("NFKD", name)
    return squash("".join(c for c in decomposed if not unicodedata.combining(c)).casefold())


def matches_nothing(value: str) -> bool:
    """True for user text (an author name or category from a URL) that no stored value can
    equal: empty, or holding a NUL byte, which PostgreSQL text cannot hold."""
    return not value.strip() or "\x00" in value


def _paper(row: Sequence[Any], hidden: bool = False) -> Paper:
    data = dict(zip(COLUMNS, row, strict=True))
    del data["primary_category"]
    data["deleted"] = bool(data["deleted"])
    return Paper(**data, hidden=bool(hidden))


def _read_paper(row: Sequence[Any]) -> Paper:
    """A paper from a row of :data:`_SELECT` (the columns, then whether it is hidden)."""
    return _paper(row[:-1], row[-1])


# Columns written by an insert, and by an update (all but the keys, then the pk).
_INSERTED = ("pk", "rev", *COLUMNS)
_UPDATED = (*COLUMNS[1:], "rev")
_AUTHOR_COLUMNS = ("pk", "position", "name", "name_key", "day", "paper_id")
_CATEGORY_COLUMNS = ("pk", "category", "day", "paper_id")


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _row(paper: Paper, pack: bool) -> tuple:
    """The values of ``COLUMNS`` as the driver takes them (JSON serialised, the abstract
    packed when ``pack``: SQLite, see ``schema.PackedText``). Spelled out field by field:
    this runs once per paper of a bulk load, and a loop over the column names with
    ``getattr`` cost three times as much."""
    p = paper
    return (
        p.id,
        p.version,
        p.title,
        _json(p.authors),
        pack_text(p.abstract) if pack else p.abstract,
        _json(p.categories),
        p.categories[0] if p.categories else None,
        p.comment,
        p.journal_ref,
        p.doi,
        p.license,
        p.published,
        p.updated,
        p.listed,
        p.upvotes,
        p.submitted_by,
        p.submitted_on,
        p.github_repo,
        p.github_stars,
        p.project_page,
        p.ai_summary,
        _json(p.ai_keywords),
        _json(p.extra),
        p.deleted,
    )


def _index_rows(pk: int, paper: Paper, authors: list[tuple], categories: list[tuple]) -> None:
    """Append the paper_authors and paper_categories rows of one paper (none when it is
    deleted) to ``authors`` and ``categories``."""
    if paper.deleted:
        return
    day, pid = paper.day, paper.id
    authors += [
        (pk, position, name, name_key(name), day, pid)
        for position, name in enumerate(paper.authors)
    ]
    categories += [(pk, category, day, pid) for category in dict.fromkeys(paper.categories)]


class PaperStore(Part):
    """Papers and everything read from them. Methods that write commit before they return
    (one transaction each)."""

    # --- writes -----------------------------------------------------------------------

    @contextmanager
    def bulk_load(self) -> Iterator[bool]:
        """Around many :meth:`upsert_papers`: when the store holds no papers yet, its
        secondary indexes are dropped first and built once when the block ends (on error
        too), which makes the load about twice as fast. Yields whether it did so. Every
        batch still commits as it comes; if the process dies before the end, the next
        :meth:`ensure_indexes` (run by every ``open_store``) builds them, so an interrupted
        load costs speed, never correctness. Readers see every committed paper all along,
        without the indexes until the end (a fresh store has no readers to speak of)."""
        with self.write() as conn:
            lock(conn, PAPERS_LOCK)
            empty = conn.execute(select(papers.c.pk).limit(1)).first() is None
            if empty:
                present = index_names(conn)
                for index in _deferred_indexes():
                    if index.name in present:
                        index.drop(conn)
        try:
            yield empty
        finally:
            if empty:
                self.ensure_indexes()

    def ensure_indexes(self) -> None:
        """Build any index of the papers that :meth:`bulk_load` left out (a load that did not
        finish, or one still running in another process, which then goes on with them)."""
        with self.read() as conn:
            present = index_names(conn)
        if any(index.name not in present for index in _deferred_indexes()):
            with self.write() as conn:
                lock(conn, PAPERS_LOCK)
                present = index_names(conn)
                for index in _deferred_indexes():
                    if index.name not in present:
                        index.create(conn)

    def upsert_papers(
        self, papers_in: Sequence[Paper], checkpoint: Checkpoint | None = None
    ) -> UpsertResult:
        """Insert new papers and merge the others into what is stored (``Paper.merged_with``),
        in one transaction together with ``checkpoint``. Unchanged papers are not written."""
        incoming = dedupe_batch(papers_in)
        with self.write() as conn:
            lock(conn, PAPERS_LOCK)
            stored = self._by_ids(conn, list(incoming)) if incoming else {}
            new, changed, result = plan_upsert(
                incoming, {paper_id: paper for paper_id, (_, paper) in stored.items()}
            )
            if new or changed:
                result.written = self._write(
                    conn, new, [(stored[old.id][0], old, m) for old, m in changed]
                )
            if checkpoint is not None:
                write_checkpoint(conn, checkpoint)
        return result

    def _write(
        self, conn: Connection, new: list[Paper], changed: list[tuple[int, Paper, Paper]]
    ) -> list[tuple[int, Paper, bool]]:
        """Write the planned rows; returns (revision, paper, is new) of each, in revision
        order. Keys and revisions are numbered here, under the writer lock, so revisions
        become visible in order: an index that saw revision N has seen every revision below
        it."""
        next_pk, rev = conn.execute(
            select(
                func.coalesce(func.max(papers.c.pk), 0) + 1,
                func.coalesce(func.max(papers.c.rev), 0) + 1,
            )
        ).one()
        inserts: list[tuple] = []
        updates: list[tuple] = []
        authors: list[tuple] = []
        categories: list[tuple] = []
        stale: list[int] = []
        written: list[tuple[int, Paper, bool]] = []
        pack = self.dialect != POSTGRESQL
        for paper in new:
            inserts.append((next_pk, rev, *_row(paper, pack)))
            _index_rows(next_pk, paper, authors, categories)
            written.append((rev, paper, True))
            next_pk += 1
            rev += 1
        for pk, old, merged in changed:
            updates.append((*_row(merged, pack)[1:], rev, pk))
            written.append((rev, merged, False))
            rev += 1
            if (old.authors, old.categories, old.day, old.deleted) != (
                merged.authors,
                merged.categories,
                merged.day,
                merged.deleted,
            ):
                stale.append(pk)
                _index_rows(pk, merged, authors, categories)
        if inserts:
            insert_rows(conn, papers, _INSERTED, inserts)
        if updates:
            update_rows(conn, papers, _UPDATED, "pk", updates)
        for start in range(0, len(stale), CHUNK):
            chunk = stale[start : start + CHUNK]
            conn.execute(delete(paper_authors).where(paper_authors.c.pk.in_(chunk)))
            conn.execute(delete(paper_categories).where(paper_categories.c.pk.in_(chunk)))
        if authors:
            insert_rows(conn, paper_authors, _AUTHOR_COLUMNS, authors)
        if categories:
            insert_rows(conn, paper_categories, _CATEGORY_COLUMNS, categories)
        bump_data_version(conn)
        return written

    # --- lookups ----------------------------------------------------------------------

    @staticmethod
    def _by_ids(conn: Connection, paper_ids: list[str]) -> dict[str, tuple[int, Paper]]:
        """Stored papers by id, each with its pk."""
        found: dict[str, tuple[int, Paper]] = {}
        query = select(papers.c.pk, *_COLUMNS)
        for start in range(0, len(paper_ids), CHUNK):
            chunk = paper_ids[start : start + CHUNK]
            for row in conn.execute(query.where(papers.c.id.in_(chunk))):
                found[row[1]] = (row[0], _paper(row[1:]))
        return found

    def _papers(self, query: Select) -> list[Paper]:
        """The papers of a query built on :data:`_SELECT`."""
        with self.read() as conn:
            return [_read_paper(row) for row in conn.execute(query)]

    def get_papers(self, paper_ids: Sequence[str]) -> list[Paper]:
        """The stored papers among ``paper_ids``, in the order asked; unknown ids are left
        out. Deleted and hidden papers are returned, marked: callers showing them to readers
        keep only ``Paper.visible`` ones."""
        wanted = list(dict.fromkeys(paper_ids))
        by_id: dict[str, Paper] = {}
        with self.read() as conn:
            for start in range(0, len(wanted), CHUNK):
                # The statement built once (a new one per call spent a quarter of a
                # search page's read on building it and its cache key), rows fetched at once.
                rows = conn.execute(_BY_IDS, {"ids": wanted[start : start + CHUNK]}).all()
                by_id.update((p.id, p) for p in map(_read_paper, rows))
        return [by_id[i] for i in paper_ids if i in by_id]

    def get_paper(self, paper_id: str) -> Paper | None:
        """One paper (deleted and hidden ones marked, as :meth:`get_papers`), by a
        statement built once: every read of a paper's page or API object starts here."""
        with self.read() as conn:
            row = conn.execute(_ONE, {"paper_id": paper_id}).first()
        return _read_paper(row) if row is not None else None

    def find_by_doi(self, doi: str) -> Paper | None:
        found = self._papers(
            _SELECT.where(func.lower(papers.c.doi) == func.lower(doi.strip())).limit(1)
        )
        return found[0] if found else None

    def iter_papers(self, batch_size: int = 1000) -> Iterator[list[Paper]]:
        """Every paper, deleted ones included, in a stable order, batch by batch."""
        for batch in self._batches(select(papers.c.pk, *_COLUMNS), papers.c.pk, batch_size):
            yield [_paper(row[1:]) for row in batch]

    def _batches(
        self, query: Select, key: Any, batch_size: int, after: int = 0
    ) -> Iterator[list[Any]]:
        """Rows of ``query`` with ``key`` (selected first) above ``after``, in ``key`` order,
        batch by batch; a connection per batch, as the caller may take its time between
        batches."""
        last = after
        while True:
            with self.read() as conn:
                rows = list(conn.execute(query.where(key > last).order_by(key).limit(batch_size)))
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def stats(self) -> dict[str, Any]:
        """At least ``papers`` (not deleted), ``deleted`` and ``latest_listing`` (or None)."""
        live = ~papers.c.deleted
        with self.read() as conn:
            count, deleted, latest = conn.execute(
                select(
                    func.count().filter(live),
                    func.count().filter(papers.c.deleted),
                    func.max(papers.c.listed).filter(live),
                )
            ).one()
        return {"papers": count, "deleted": deleted, "latest_listing": latest}

    # --- daily lists, author and category pages ----------------------------------------

    def data_version(self) -> int:
        """A number that changes on every write to papers, by any process; caches key on it."""
        with self.read() as conn:
            return conn.execute(select(data_version.c.version)).scalar_one()

    def _on_days(self, first: str, last: str, submitter: str | None) -> Any:
        where = and_(DAY.between(first, last), visible())
        if submitter is not None:
            where = and_(where, papers.c.submitted_by == submitter)
        return where

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
        """Papers whose day is within ``first``..``last`` (inclusive, ``YYYY-MM-DD``), most
        upvoted first (no upvotes counts as 0), then the later day, then the later
        ``published`` (unknown last), then the later ``extra["submittedOnDailyAt"]`` (unknown
        last; Hugging Face's own tie-break), then the larger id. ``recent_first`` puts the
        later day before the upvotes. ``submitter`` keeps the papers ``submitted_by`` that
        user."""
        votes, day = func.coalesce(papers.c.upvotes, 0).desc(), DAY.desc()
        submitted_at = json_text(self.dialect, papers.c.extra, "submittedOnDailyAt")
        return self._papers(
            _SELECT.where(self._on_days(first, last, submitter))
            .order_by(
                *((day, votes) if recent_first else (votes, day)),
                papers.c.published.desc().nulls_last(),
                submitted_at.desc().nulls_last(),
                papers.c.id.desc(),
            )
            .limit(limit)
            .offset(offset)
        )

    def count_on_days(self, first: str, last: str, *, submitter: str | None = None) -> int:
        """How many papers :meth:`papers_on_days` would list without a limit."""
        with self.read() as conn:
            return conn.execute(
                select(func.count())
                .select_from(papers)
                .where(self._on_days(first, last, submitter))
            ).scalar_one()

    def latest_day(self) -> str | None:
        """The latest day that has papers, or None for an empty store."""
        with self.read() as conn:
            return conn.execute(select(func.max(DAY)).where(visible())).scalar()

    def neighbour_days(self, day: str) -> tuple[str | None, str | None]:
        """The nearest days strictly before and after ``day`` that have papers."""
        live = visible()
        before = select(func.max(DAY)).where(DAY < day, live).scalar_subquery()
        after = select(func.min(DAY)).where(DAY > day, live).scalar_subquery()
        with self.read() as conn:
            found = conn.execute(select(before, after)).one()
        return found[0], found[1]

    def papers_by_author(self, name: str, *, limit: int, offset: int = 0) -> list[Paper]:
        """Papers with an author named ``name`` as readers type it (:func:`name_key`), latest
        day first, then larger id."""
        key = name_key(name)
        if matches_nothing(key):
            return []
        return self._listed(paper_authors, paper_authors.c.name_key == key, limit, offset)

    def papers_in_category(self, category: str, *, limit: int, offset: int = 0) -> list[Paper]:
        """Papers listing ``category`` (primary or cross-list), latest day first, then id."""
        if matches_nothing(category):
            return []
        return self._listed(
            paper_categories, paper_categories.c.category == category, limit, offset
        )

    def author_window(
        self,
        name: str,
        *,
        limit: int,
        before: Cursor | None = None,
        after: Cursor | None = None,
    ) -> Window:
        """A page of :meth:`papers_by_author`: the first, or the one older than ``before``
        or newer than ``after``, each one index range however deep it is."""
        key = name_key(name)
        if matches_nothing(key):
            return Window([])
        return self._window(paper_authors, key, limit, before, after)

    def category_window(
        self,
        category: str,
        *,
        limit: int,
        before: Cursor | None = None,
        after: Cursor | None = None,
    ) -> Window:
        """A page of :meth:`papers_in_category`, as :meth:`author_window` pages."""
        if matches_nothing(category):
            return Window([])
        return self._window(paper_categories, category, limit, before, after)

    def _window(
        self,
        table: Table,
        where: Any,
        limit: int,
        before: Cursor | None,
        after: Cursor | None,
    ) -> Window:
        """One page of the papers an index table lists in (day, id) order, latest first,
        by keyset: the keys strictly past a cursor are read from the index range, then
        the papers by key. One more key each way says whether there is a page beside it.
        Papers without a day come last; row-value comparisons skip them (NULL compares to
        nothing), so they are read by a second range when a page reaches them.

        ``where`` is the key column's value (an author's ``name_key``, a category). The
        statements are built once per shape (:func:`_window_keys`) with the values bound:
        building them cost more than SQLite takes to answer them."""
        name = table.name

        def keys(conn: Connection, shape: str, count: int, cursor: Cursor | None) -> list[Cursor]:
            values = {"value": where, "count": count}
            if cursor is not None:
                values.update(day=cursor.day, pid=cursor.paper_id)
            return [Cursor(d, i) for d, i in conn.execute(_window_keys(name, shape), values)]

        def older(conn: Connection, cursor: Cursor | None, count: int) -> list[Cursor]:
            if cursor is None:
                return keys(conn, "first", count, None)
            if cursor.day is None:
                return keys(conn, "dayless_older", count, cursor)
            found = keys(conn, "older", count, cursor)
            if len(found) < count:
                found += keys(conn, "dayless", count - len(found), None)
            return found

        def newer(conn: Connection, cursor: Cursor, count: int) -> list[Cursor]:
            if cursor.day is not None:
                return keys(conn, "newer", count, cursor)
            found = keys(conn, "dayless_newer", count, cursor)
            if len(found) < count:
                found += keys(conn, "oldest", count - len(found), None)
            return found

        with self.read() as conn:
            if after is not None:
                found = newer(conn, after, limit + 1)
                more_newer = len(found) > limit
                page = found[:limit][::-1]
                more_older = bool(page) and bool(older(conn, page[-1], 1))
            else:
                found = older(conn, before, limit + 1)
                more_older = len(found) > limit
                page = found[:limit]
                more_newer = bool(page) and before is not None and bool(newer(conn, page[0], 1))
            rows = conn.execute(_BY_IDS, {"ids": [c.paper_id for c in page]})
            by_id = {p.id: p for p in map(_read_paper, rows)}
        return Window(
            [by_id[c.paper_id] for c in page if c.paper_id in by_id],
            older=page[-1] if more_older else None,
            newer=page[0] if more_newer else None,
        )

    def _listed(self, table: Table, where: Any, limit: int, offset: int) -> list[Paper]:
        """One page of the papers an index table lists: the page's keys come from the
        index range alone, then the papers are fetched by key."""
        keys = (
            select(table.c.pk, table.c.day, table.c.paper_id)
            .where(
                where,
                ~select(hidden_papers.c.paper_pk)
                .where(hidden_papers.c.paper_pk == table.c.pk)
                .exists(),
            )
            .order_by(table.c.day.desc().nulls_last(), table.c.paper_id.desc())
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        return self._papers(
            _SELECT.join_from(keys, papers, papers.c.pk == keys.c.pk).order_by(
                keys.c.day.desc().nulls_last(), keys.c.paper_id.desc()
            )
        )

    # --- revisions: what indexes kept outside the database catch up from --------------

    def revision(self) -> int:
        """The highest paper revision; 0 for an empty store."""
        with self.read() as conn:
            return conn.execute(_REVISION).scalar_one()

    def iter_changed_papers(
        self, after: int, batch_size: int = 1000
    ) -> Iterator[list[tuple[int, Paper]]]:
        """Papers (deleted ones included) with a revision above ``after``, lowest first,
        each as (revision, paper)."""
        query = select(papers.c.rev, *_COLUMNS)
        for batch in self._batches(query, papers.c.rev, batch_size, after):
            yield [(row[0], _paper(row[1:])) for row in batch]


@lru_cache(maxsize=32)
def _window_keys(table_name: str, shape: str) -> Select:
    """The (day, id) keys of one step of ``PaperStore._window`` through the index table
    ``table_name`` (``paper_authors`` or ``paper_categories``), where its key column equals
    the bound ``value``, at most the bound ``count`` of them; ``day`` and ``pid`` bind the
    cursor. Shapes: ``first`` (latest first), ``older`` / ``newer`` (past a cursor with a
    day), ``dayless`` (the papers without a day), ``dayless_older`` / ``dayless_newer``
    (those past a cursor without a day), ``oldest`` (the oldest papers with a day)."""
    table = metadata.tables[table_name]
    column = table.c.name_key if table is paper_authors else table.c.category
    day, pid = table.c.day, table.c.paper_id
    shown = and_(
        column == bindparam("value"),
        ~select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk == table.c.pk).exists(),
    )
    cursor = tuple_(bindparam("day"), bindparam("pid"))
    newest_first = (day.desc().nulls_last(), pid.desc())
    dayless = and_(shown, day.is_(None))
    condition, order = {
        "first": (shown, newest_first),
        "older": (and_(shown, tuple_(day, pid) < cursor), newest_first),
        "newer": (and_(shown, tuple_(day, pid) > cursor), (day.asc(), pid.asc())),
        "dayless": (dayless, (pid.desc(),)),
        "dayless_older": (and_(dayless, pid < bindparam("pid")), (pid.desc(),)),
        "dayless_newer": (and_(dayless, pid > bindparam("pid")), (pid.asc(),)),
        "oldest": (and_(shown, day.is_not(None)), (day.asc().nulls_first(), pid.asc())),
    }[shape]
    return select(day, pid).where(condition).order_by(*order).limit(bindparam("count"))


def backfill_index_tables(conn: Connection, batch_size: int = 5000) -> None:
    """Fill ``paper_authors`` and ``paper_categories`` from the papers held (the migration
    that adds them runs it)."""
    query = select(papers.c.pk, *_COLUMNS).where(~papers.c.deleted).order_by(papers.c.pk)
    last = 0
    while True:
        rows = list(conn.execute(query.where(papers.c.pk > last).limit(batch_size)))
        if not rows:
            return
        last = rows[-1][0]
        authors: list[tuple] = []
        categories: list[tuple] = []
        for row in rows:
            _index_rows(row[0], _paper(row[1:]), authors, categories)
        if authors:
            insert_rows(conn, paper_authors, _AUTHOR_COLUMNS, authors)
        if categories:
            insert_rows(conn, paper_categories, _CATEGORY_COLUMNS, categories)
