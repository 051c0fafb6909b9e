"""Papers: their table, the author and category tables that index them, and every query
of papers (upserts, lookups, daily lists, author and category pages, revisions).

A paper's *day* is ``coalesce(submitted_on, listed)``: the Hugging Face daily-list day when
the paper was on it, else its arXiv listing day. Deleted papers, and papers an admin hid
(``schema.visible``), never appear on lists; a paper read by id says whether it is hidden
(``Paper.hidden``), so the faces can answer 404 for it.

``paper_authors`` and ``paper_categories`` hold one row per author name (category) of each
paper not deleted, keyed by (``name_key`` or ``category``, day, paper pk) and clustered on
that key (SQLite ``WITHOUT ROWID``; PostgreSQL reads its primary-key index alone), so an
author or category page is one ordered range of the table itself however large the store
grows: the latest day first, a day's latest arrival (the larger pk) first. (A PostgreSQL
table filled by a bulk load into an empty store keeps its rows in the order the papers
came, beside its key: the page is still one range of the key, each row then fetched from
wherever the paper's rows lie.) They are a third of the database at 2.7 million papers, so
their rows are lean: the day is a number (:func:`day_number`), the pk four bytes (the
tables' own; ``papers.pk`` is eight on PostgreSQL), the paper's id is read from papers by
pk where a page or a follow needs it (a page's cursor names its paper by id, whose pk is
one lookup of the unique id), an author's name as spelled is read from the paper when a
claim needs it, and an author named twice on one paper (the same key) is one row. Dropping
the id and the four pk bytes took PostgreSQL's rows from 70 to 53 bytes (authors) and 65 to
46 (categories) and their keys from 51 to 42 and 43 to 34 (docs/benchmarks.md). The
columns' order does not change a row's size: PostgreSQL pads the whole row to 8 bytes.
Rows are found for deletion by the key rebuilt from the stored paper. Author names are
matched the way readers type them: :func:`name_key` folds case, accents and spacing, and
nothing more, so two people whose names differ beyond that stay apart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
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
    add_key,
    commit_without_waiting,
    drop_key,
    empty_table,
    holds_rows,
    index_names,
    insert_plain_rows,
    insert_rows,
    insert_sorted,
    is_in,
    json_text,
    keys_wait,
    lock,
    refresh_statistics,
    update_rows,
)
from paperstand.store.part import Part
from paperstand.store.records import COLUMNS, UpsertResult, dedupe_batch, plan_upsert
from paperstand.store.schema import (
    hidden_papers,
    is_hidden,
    metadata,
    papers,
    text_packer,
    visible,
)

# Writers of papers serialise on this lock (PostgreSQL; SQLite has one writer anyway): an
# upsert reads the stored records, merges and writes them back, and numbers the revisions.
PAPERS_LOCK = 0x7061_7065_7273  # "papers"
# At most this many bound values in one IN (...) list (SQLite allows 32,766 in all).
CHUNK = 900

# A paper's day as these tables keep it: days since 1970-01-01 (two bytes in SQLite until
# 2059, against eleven for the text), and NO_DAY for a paper without one, below every real
# day so that it comes last on a page that lists the latest first, as it must be part of the
# key (a key column cannot be NULL).
EPOCH = date(1970, 1, 1).toordinal()
NO_DAY = -EPOCH

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("name_key", Text, nullable=False),  # name_key() of the name as the paper spells it
    Column("day", Integer, nullable=False, autoincrement=False),  # day_number(paper.day)
    # The paper's pk, four bytes (papers.pk is eight on PostgreSQL; 2.1 billion papers is
    # far beyond arXiv): it identifies the paper, whose id is read from papers by it.
    Column("pk", Integer, nullable=False, autoincrement=False),
    PrimaryKeyConstraint("name_key", "day", "pk", name="paper_authors_key"),
    sqlite_with_rowid=False,
)

paper_categories = Table(
    "paper_categories",
    metadata,
    Column("category", Text, nullable=False),
    Column("day", Integer, nullable=False, autoincrement=False),
    Column("pk", Integer, nullable=False, autoincrement=False),
    PrimaryKeyConstraint("category", "day", "pk", name="paper_categories_key"),
    sqlite_with_rowid=False,
)


def _load_table(table: Table, column: str) -> Table:
    """Where a bulk load into an empty store puts ``table``'s rows until its end, keyed by
    the paper's pk so that they are appended in order: the rows then move to ``table`` in
    one sorted pass. Written straight into the clustered table, each row would land on a
    random page of it (at 2.7 million papers, a batch would rewrite most of the table)."""
    return Table(
        f"{table.name}_load",
        metadata,
        Column("pk", Integer, primary_key=True, autoincrement=False),
        Column(column, Text, primary_key=True),
        Column("day", Integer, nullable=False),
        sqlite_with_rowid=False,
    )


# (table, where a bulk load stages its rows)
_INDEX_TABLES = (
    (paper_authors, _load_table(paper_authors, "name_key")),
    (paper_categories, _load_table(paper_categories, "category")),
)


def _pk_index(table: Table) -> Index:
    """An index of ``table``'s rows by paper, kept only while a bulk load writes them
    without their key (:func:`dialect.keys_wait`), and only once it meets a paper written
    again: the old rows of that paper are then found by it instead of by a scan of every
    row. Not part of the schema (its table is a copy in a metadata of its own)."""
    copy = Table(table.name, MetaData(), Column("pk", Integer))
    return Index(f"{table.name}_loading_pk", copy.c.pk)


_PK_INDEXES = {table: _pk_index(table) for table, _ in _INDEX_TABLES}

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
    instead of entry by entry: every index of papers and of the category rows except what
    the load itself reads (the unique id, the revisions) and the primary keys (the author
    and category rows wait in their load tables instead: :func:`_load_table`). Entry by
    entry, they were half of what a paper cost to store, and they grow slower as the store
    grows (each insert lands on a random page)."""
    tables = (papers, paper_categories)
    return [
        i for t in tables for i in sorted(t.indexes, key=lambda i: i.name) if i.name != "papers_rev"
    ]


_COLUMNS = [papers.c[name] for name in COLUMNS]
# Reads of whole papers carry whether an admin hid each one, after the columns.
_SELECT = select(*_COLUMNS, is_hidden())
_ONE = _SELECT.where(papers.c.id == bindparam("paper_id"))
_BY_IDS = _SELECT.where(papers.c.id.in_(bindparam("ids", expanding=True)))
# Papers by pk, each after its pk: the papers of an author's or a category's page.
_BY_PKS = select(papers.c.pk, *_SELECT.selected_columns).where(
    papers.c.pk.in_(bindparam("pks", expanding=True))
)
# A page cursor's paper (named by id in URLs) as the author and category rows name it.
_PK_OF = select(papers.c.pk).where(papers.c.id == bindparam("paper_id"))
# Above every pk those rows can hold (a four-byte integer): a cursor whose id no paper has
# stands for the end of its day.
_PAST_EVERY_PK = 2**31 - 1
# The highest pk: a bulk load into an empty store reads it to know that no other writer
# has added papers since its last batch (pks are numbered max + 1 under the writer lock).
_TOP_PK = select(func.coalesce(func.max(papers.c.pk), 0))
# The next pk and revision a write numbers from: each max() in a subquery of its own, which
# the database answers from one end of its index. Side by side in one SELECT, SQLite
# answered both by a scan of the whole revision index, in every upsert: 43 ms at 712,000
# papers and 170 ms at 2.7 million, a load's cost growing with the square of its size.
# Asked before every search (is the full-text index current?): built once, since building
# the statement and its cache key cost as much as running it.
_REVISION = select(func.coalesce(func.max(papers.c.rev), 0))
_NEXT_KEYS = select(_TOP_PK.scalar_subquery() + 1, _REVISION.scalar_subquery() + 1)


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
# The columns of the rows :func:`_index_rows` makes, in their order.
_INDEX_COLUMNS = {
    paper_authors: ("name_key", "day", "pk"),
    paper_categories: ("category", "day", "pk"),
}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _row(paper: Paper, pack: Callable[[str], str | bytes]) -> tuple:
    """The values of ``COLUMNS`` as the driver takes them (JSON serialised, the abstract
    packed by ``pack``: ``schema.text_packer``). Spelled out field by field:
    this runs once per paper of a bulk load, and a loop over the column names with
    ``getattr`` cost three times as much."""
    p = paper
    return (
        p.id,
        p.version,
        p.title,
        _json(p.authors),
        pack(p.abstract),
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


@lru_cache(maxsize=65536)
def day_number(day: str | None) -> int:
    """A paper's day (``YYYY-MM-DD``) as the author and category rows keep it: days since
    1970-01-01, or :data:`NO_DAY` for none (or for text that is not a day, which the day
    ranges of the daily lists would not find either). Cached: a store has a few thousand
    distinct days and a bulk load asks once per row."""
    if day is None:
        return NO_DAY
    try:
        return date.fromisoformat(day).toordinal() - EPOCH
    except ValueError:
        return NO_DAY


@lru_cache(maxsize=65536)
def day_text(number: int) -> str | None:
    """The ``YYYY-MM-DD`` of a :func:`day_number` (None for :data:`NO_DAY`)."""
    return None if number == NO_DAY else date.fromordinal(number + EPOCH).isoformat()


def _index_rows(pk: int, paper: Paper, authors: list[tuple], categories: list[tuple]) -> None:
    """Append the paper_authors and paper_categories rows of one paper (none when it is
    deleted; one per distinct name key and category) to ``authors`` and ``categories``."""
    if paper.deleted:
        return
    day = day_number(paper.day)
    authors += [(key, day, pk) for key in dict.fromkeys(map(name_key, paper.authors))]
    categories += [(category, day, pk) for category in dict.fromkeys(paper.categories)]


def _delete_index_rows(conn: Connection, stale: list[tuple[int, Paper]], keyless: bool) -> None:
    """Delete the author and category rows of papers about to be written again, each as
    :func:`_index_rows` made it from the stored paper (the tables are keyed by name, day
    and pk, not by paper first), and any a bulk load staged for them. While a bulk load writes
    the rows without their keys (``keyless``), they are found by paper instead, through
    :func:`_pk_index`, built when the first such paper comes."""
    if not stale:
        return
    pks = [pk for pk, _ in stale]
    if keyless:
        for table, _ in _INDEX_TABLES:
            _PK_INDEXES[table].create(conn, checkfirst=True)
            _delete_by_paper(conn, table, pks)
        return
    authors: list[tuple] = []
    categories: list[tuple] = []
    for pk, old in stale:
        _index_rows(pk, old, authors, categories)
    for (table, load), rows in zip(_INDEX_TABLES, (authors, categories), strict=True):
        key, day, pk = (table.c[c] for c in _INDEX_COLUMNS[table])
        if rows:
            conn.execute(
                delete(table).where(
                    key == bindparam("k"), day == bindparam("d"), pk == bindparam("p")
                ),
                [{"k": k, "d": d, "p": p} for k, d, p in rows],
            )
        _delete_by_paper(conn, load, pks)


def _delete_by_paper(conn: Connection, table: Table, pks: list[int]) -> None:
    """Delete the rows of ``table`` (author or category rows, staged or not) whose paper's
    pk is in ``pks``."""
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start : start + CHUNK]
        conn.execute(delete(table).where(is_in(conn.dialect.name, table.c.pk, chunk)))


class _LoadedIds:
    """The ids a bulk load into an empty store has written so far, as one bit per hash in a
    fixed bitmap (16 MiB): an id whose bit is clear is not stored, so its lookup is skipped;
    a set bit may be another id's (about 2% of bits at 2.7 million papers), which costs
    only a lookup that finds nothing. A set of the ids themselves would hold about 0.3 GB
    at that size. ``top_pk`` is the highest pk once the last batch committed: when the
    table's is higher, another writer added papers and the bitmap no longer tells."""

    _MASK = (1 << 27) - 1

    def __init__(self) -> None:
        self._bits = bytearray((self._MASK + 1) >> 3)
        self.top_pk = 0

    def add(self, paper_ids: Iterable[str]) -> None:
        bits, mask = self._bits, self._MASK
        for h in map(hash, paper_ids):
            h &= mask
            bits[h >> 3] |= 1 << (h & 7)

    def maybe(self, paper_ids: Iterable[str]) -> list[str]:
        """The ids of ``paper_ids`` that may be stored."""
        bits, mask = self._bits, self._MASK
        return [i for i in paper_ids if bits[(h := hash(i) & mask) >> 3] >> (h & 7) & 1]


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
        without the indexes until the end (a fresh store has no readers to speak of).

        The author and category rows, which are clustered on their keys, are written once
        on PostgreSQL, into their tables with the primary keys dropped
        (:func:`dialect.keys_wait`): each key is then one sort at the end. Until then an
        author or category page reads the whole table. SQLite's tables are their keys, so
        its rows wait in load tables (:func:`_load_table`), and those pages are empty,
        until the end.

        Into any store, the batches of the block commit without waiting for the disk
        (:func:`dialect.commit_without_waiting`): a crash of the database server may lose
        the last few of them, whole, and an ingest resumed from its checkpoint, committed
        with them, reads them again."""
        keyless = keys_wait(self.dialect)
        with self.write() as conn:
            lock(conn, PAPERS_LOCK)
            empty = not holds_rows(conn, papers)
            if empty:
                present = index_names(conn)
                for index in _deferred_indexes():
                    if index.name in present:
                        index.drop(conn)
                if keyless:
                    for table, _ in _INDEX_TABLES:
                        drop_key(conn, table)
        self._staging, self._keyless = empty and not keyless, empty and keyless
        self._bulk = True
        self._loaded = _LoadedIds() if empty else None
        try:
            yield empty
        finally:
            self._staging = self._keyless = self._bulk = False
            self._loaded = None
            if empty:
                self.ensure_indexes()

    _staging = False  # True while this process bulk-loads an empty store into load tables
    _keyless = False  # True while it bulk-loads an empty store into tables without keys
    _bulk = False  # True while this process bulk-loads any store
    _loaded: _LoadedIds | None = None  # what a bulk load into an empty store has written

    def ensure_indexes(self) -> None:
        """Move the author and category rows a bulk load staged into their tables, in one
        sorted pass each, build their primary keys where a bulk load dropped them and any
        index of the papers that :meth:`bulk_load` left out (a load that did not finish, or
        one still running in another process, which then goes on with them), and then the
        planner's statistics of the tables (:func:`dialect.refresh_statistics`)."""
        with self.read() as conn:
            present = index_names(conn)
            staged = [load for _, load in _INDEX_TABLES if holds_rows(conn, load)]
        keys = [table.primary_key.name for table, _ in _INDEX_TABLES]
        loading = [index.name for index in _PK_INDEXES.values()]
        if (
            staged
            or any(index.name not in present for index in _deferred_indexes())
            or (keys_wait(self.dialect) and not present.issuperset(keys))
            or present.intersection(loading)
        ):
            with self.write() as conn:
                lock(conn, PAPERS_LOCK)
                for table, load in _INDEX_TABLES:
                    if load in staged:
                        columns = _INDEX_COLUMNS[table]
                        rows = select(*(load.c[c] for c in columns)).order_by(*columns)
                        insert_sorted(conn, table, columns, rows)
                        empty_table(conn, load)
                present = index_names(conn)
                for table, _ in _INDEX_TABLES:
                    if _PK_INDEXES[table].name in present:
                        _PK_INDEXES[table].drop(conn)
                    if keys_wait(self.dialect) and table.primary_key.name not in present:
                        add_key(conn, table)
                for index in _deferred_indexes():
                    if index.name not in present:
                        index.create(conn)
                refresh_statistics(conn, (papers, paper_authors, paper_categories))

    def upsert_papers(
        self, papers_in: Sequence[Paper], checkpoint: Checkpoint | None = None
    ) -> UpsertResult:
        """Insert new papers and merge the others into what is stored (``Paper.merged_with``),
        in one transaction together with ``checkpoint``. Unchanged papers are not written."""
        incoming = dedupe_batch(papers_in)
        with self.write() as conn:
            if self._bulk:
                commit_without_waiting(conn)
            lock(conn, PAPERS_LOCK)
            stored = self._stored(conn, list(incoming)) if incoming else {}
            new, changed, result = plan_upsert(
                incoming, {paper_id: paper for paper_id, (_, paper) in stored.items()}
            )
            if new or changed:
                result.written = self._write(
                    conn, new, [(stored[old.id][0], old, m) for old, m in changed]
                )
            if self._loaded is not None:
                self._loaded.add(paper.id for paper in new)
                self._loaded.top_pk += len(new)
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
        next_pk, rev = conn.execute(_NEXT_KEYS).one()
        inserts: list[tuple] = []
        updates: list[tuple] = []
        authors: list[tuple] = []
        categories: list[tuple] = []
        stale: list[tuple[int, Paper]] = []  # (pk, stored paper) whose rows are rewritten
        written: list[tuple[int, Paper, bool]] = []
        pack = text_packer(self.dialect)
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
                stale.append((pk, old))
                _index_rows(pk, merged, authors, categories)
        if inserts:
            insert_rows(conn, papers, _INSERTED, inserts)
        if updates:
            update_rows(conn, papers, _UPDATED, "pk", updates)
        _delete_index_rows(conn, stale, self._keyless)
        for (table, load), rows in zip(_INDEX_TABLES, (authors, categories), strict=True):
            if rows:
                into = load if self._staging else table
                insert_plain_rows(conn, into, _INDEX_COLUMNS[table], rows)
        bump_data_version(conn)
        return written

    # --- lookups ----------------------------------------------------------------------

    def _stored(self, conn: Connection, paper_ids: list[str]) -> dict[str, tuple[int, Paper]]:
        """:meth:`_by_ids`, asking the database only for ids a bulk load into an empty store
        may have written (:class:`_LoadedIds`): nearly every id of such a load is new, and
        looking each up in a growing index was a batch's one read. Once another writer has
        added papers, every id is looked up again until the load ends. A batch that rolls
        back after this leaves its ids marked and the pk count ahead of the table's (a
        lookup too many, then the same fallback), never an id unmarked."""
        loaded = self._loaded
        if loaded is not None:
            if conn.execute(_TOP_PK).scalar_one() == loaded.top_pk:
                paper_ids = loaded.maybe(paper_ids)
            else:
                self._loaded = None
        return self._by_ids(conn, paper_ids) if paper_ids else {}

    @staticmethod
    def _by_ids(conn: Connection, paper_ids: list[str]) -> dict[str, tuple[int, Paper]]:
        """Stored papers by id, each with its pk."""
        found: dict[str, tuple[int, Paper]] = {}
        query = select(papers.c.pk, *_COLUMNS)
        for start in range(0, len(paper_ids), CHUNK):
            chunk = paper_ids[start : start + CHUNK]
            for row in conn.execute(query.where(is_in(conn.dialect.name, papers.c.id, chunk))):
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
        day first, then the latest to arrive (the larger pk)."""
        key = name_key(name)
        if matches_nothing(key):
            return []
        return self._listed(paper_authors, paper_authors.c.name_key == key, limit, offset)

    def newest_by_authors(self, names: Sequence[str], *, per_author: int) -> dict[str, list[str]]:
        """For each author name (as readers type it, :func:`name_key`), the ids of at most
        ``per_author`` of their papers, latest day first, then latest to arrive; hidden papers
        included (callers showing them filter). One short index range per name, all in
        one read: a common name on thousands of papers costs what a rare one does."""
        keys = [k for k in dict.fromkeys(map(name_key, names)) if not matches_nothing(k)]
        if not keys or per_author <= 0:
            return {}
        found: dict[str, list[str]] = {}
        with self.read() as conn:
            for key in keys:
                rows = conn.execute(_NEWEST_BY_AUTHOR, {"value": key, "count": per_author})
                found[key] = [pid for (pid,) in rows]
        return found

    def papers_in_category(self, category: str, *, limit: int, offset: int = 0) -> list[Paper]:
        """Papers listing ``category`` (primary or cross-list), latest day first, then the
        latest to arrive."""
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
        """One page of the papers an index table lists in (day, pk) order, latest first
        (the latest day, then the latest to arrive), by keyset: the keys strictly past a
        cursor are read from the table's key range, then the papers by pk. One more key
        each way says whether there is a page beside it. Papers without a day have the
        lowest day number, so they come last with no case of their own.

        A cursor names its paper by id, as page URLs always have (:class:`Cursor`), and the
        id's pk is read first (one lookup of the unique id): links keep working whatever
        pks are. An id no paper has stands for its whole day: the older page starts at the
        day below, the newer one at the day above.

        ``where`` is the key column's value (an author's ``name_key``, a category). The
        statements are built once per shape (:func:`_window_keys`) with the values bound:
        building them cost more than SQLite takes to answer them."""
        name = table.name

        def keys(
            conn: Connection, shape: str, count: int, at: tuple[int, int] | None
        ) -> list[tuple[int, int]]:
            values = {"value": where, "count": count}
            if at is not None:
                values.update(day=at[0], pk=at[1])
            return [tuple(row) for row in conn.execute(_window_keys(name, shape), values)]

        def place(conn: Connection, cursor: Cursor, shape: str) -> tuple[int, int]:
            pk = conn.execute(_PK_OF, {"paper_id": cursor.paper_id}).scalar()
            if pk is None:
                pk = 0 if shape == "older" else _PAST_EVERY_PK
            return day_number(cursor.day), pk

        with self.read() as conn:
            if after is not None:
                found = keys(conn, "newer", limit + 1, place(conn, after, "newer"))
                more_newer = len(found) > limit
                page = found[:limit][::-1]
                more_older = bool(page) and bool(keys(conn, "older", 1, page[-1]))
            else:
                at = place(conn, before, "older") if before is not None else None
                found = keys(conn, "older" if before else "first", limit + 1, at)
                more_older = len(found) > limit
                page = found[:limit]
                more_newer = (
                    bool(page) and before is not None and bool(keys(conn, "newer", 1, page[0]))
                )
            rows = conn.execute(_BY_PKS, {"pks": [pk for _, pk in page]})
            by_pk = {row[0]: _read_paper(row[1:]) for row in rows}

        def cursor(key: tuple[int, int]) -> Cursor:
            return Cursor(day_text(key[0]), by_pk[key[1]].id)

        return Window(
            [by_pk[pk] for _, pk in page],
            older=cursor(page[-1]) if more_older else None,
            newer=cursor(page[0]) if more_newer else None,
        )

    def _listed(self, table: Table, where: Any, limit: int, offset: int) -> list[Paper]:
        """One page of the papers an index table lists: the page's keys come from the
        table's key range alone, then the papers are fetched by pk."""
        keys = (
            select(table.c.pk, table.c.day)
            .where(
                where,
                ~select(hidden_papers.c.paper_pk)
                .where(hidden_papers.c.paper_pk == table.c.pk)
                .exists(),
            )
            .order_by(table.c.day.desc(), table.c.pk.desc())
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        return self._papers(
            _SELECT.join_from(keys, papers, papers.c.pk == keys.c.pk).order_by(
                keys.c.day.desc(), keys.c.pk.desc()
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
    """The (day, pk) keys of one step of ``PaperStore._window`` through the index table
    ``table_name`` (``paper_authors`` or ``paper_categories``), where its key column equals
    the bound ``value``, at most the bound ``count`` of them; ``day`` (a day number) and
    ``pk`` bind the cursor. Shapes: ``first`` (latest first), ``older`` / ``newer`` (past
    a cursor)."""
    table = metadata.tables[table_name]
    column = table.c.name_key if table is paper_authors else table.c.category
    day, pk = table.c.day, table.c.pk
    shown = and_(
        column == bindparam("value"),
        ~select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk == pk).exists(),
    )
    cursor = tuple_(bindparam("day", type_=Integer), bindparam("pk", type_=Integer))
    latest_first = (day.desc(), pk.desc())
    condition, order = {
        "first": (shown, latest_first),
        "older": (and_(shown, tuple_(day, pk) < cursor), latest_first),
        "newer": (and_(shown, tuple_(day, pk) > cursor), (day.asc(), pk.asc())),
    }[shape]
    return select(day, pk).where(condition).order_by(*order).limit(bindparam("count"))


# An author's newest papers: the keys from the author's range, each paper's id by its pk.
_NEWEST_KEYS = (
    select(paper_authors.c.day, paper_authors.c.pk)
    .where(paper_authors.c.name_key == bindparam("value"))
    .order_by(paper_authors.c.day.desc(), paper_authors.c.pk.desc())
    .limit(bindparam("count"))
    .subquery()
)
_NEWEST_BY_AUTHOR = (
    select(papers.c.id)
    .join_from(_NEWEST_KEYS, papers, papers.c.pk == _NEWEST_KEYS.c.pk)
    .order_by(_NEWEST_KEYS.c.day.desc(), _NEWEST_KEYS.c.pk.desc())
)
