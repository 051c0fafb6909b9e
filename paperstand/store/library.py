"""A reader's library in the store: saved papers and reading lists, written once for SQLite
and PostgreSQL.

Why the tables look as they do:

- **Papers are named by their canonical id** (``ids.py``), not ``papers.pk``, in
  ``saved_papers`` and ``list_items``: an imported paper that is not stored yet joins its
  list at once, while a background job fetches it from arXiv (as submissions do). Pages
  show only the items whose paper is stored and visible.
- **Saved** papers are a table of their own, one row per (user, paper), the primary key:
  saving twice is an insert that conflicts and does nothing. A list is something a reader
  names and shares; "Saved" is the one-click bookmark every card carries.
- **Reading lists** belong to one account (deleted with it); private unless ``public``.
  Their items are ordered by ``position`` (0, 1, 2, ... with no gaps, rewritten by each
  move or removal in its transaction, touching only the rows whose place changed).
- ``library_version`` is bumped by every write in its transaction: pages showing saved
  state or lists are cached under it (with the papers' and the community's versions).

Owner checks are here, in the ``WHERE`` of each write (a list of someone else is
:class:`NotFound`, the same answer as no list, which reveals nothing); who may *read* a
list is the service's (``paperstand/library.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Row,
    Table,
    Text,
    bindparam,
    delete,
    func,
    or_,
    select,
    union,
    update,
)

from paperstand.errors import NotFound
from paperstand.store import dialect
from paperstand.store.accounts import users
from paperstand.store.jobs import enqueue_statement
from paperstand.store.part import Part
from paperstand.store.schema import Key, Stamp, metadata, papers, visible
from paperstand.store.schema import stamp_text as iso
from paperstand.store.topics import topic_clusters, topic_points

saved_papers = Table(
    "saved_papers",
    metadata,
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("paper_id", Text, nullable=False),  # canonical id (ids.py)
    Column("created", Stamp, nullable=False),
    PrimaryKeyConstraint("user_id", "paper_id"),
)

reading_lists = Table(
    "reading_lists",
    metadata,
    Column("id", Key, primary_key=True),
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("public", Boolean(create_constraint=False), nullable=False, server_default="0"),
    Column("created", Stamp, nullable=False),
    Column("updated", Stamp, nullable=False),
)
Index("reading_lists_user", reading_lists.c.user_id)

list_items = Table(
    "list_items",
    metadata,
    Column("list_id", Key, ForeignKey("reading_lists.id", ondelete="CASCADE"), nullable=False),
    Column("paper_id", Text, nullable=False),  # canonical id (ids.py)
    Column("position", Integer, nullable=False),  # 0, 1, 2, ... in the list's order
    Column("note", Text, nullable=False, server_default=""),
    Column("added", Stamp, nullable=False),
    PrimaryKeyConstraint("list_id", "paper_id"),
)
Index("list_items_order", list_items.c.list_id, list_items.c.position)
Index("list_items_paper", list_items.c.paper_id)

library_version = Table(
    "library_version",
    metadata,
    Column("id", Integer, CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class ReadingList:
    id: int
    user_id: int
    owner: str  # the owner's public name
    name: str
    description: str
    public: bool
    created: str
    updated: str
    size: int  # items, stored or still being fetched


@dataclass(frozen=True, slots=True)
class ListItem:
    paper_id: str
    position: int
    note: str
    added: str


class ListRow(NamedTuple):
    """One item of a list as the list's page shows it: only the columns a row needs, read
    in the list's order by one query (no abstracts, categories or extras decoded). A paper
    not stored yet (being fetched) has ``title`` None. A named tuple, not a frozen
    dataclass: a 2,000-paper page makes 2,000 of them, and a tuple is made 4x faster."""

    paper_id: str
    note: str
    title: str | None
    authors: list[str]
    day: str | None
    topic_id: int | None
    topic_label: str | None


def _list_query() -> Any:
    size = (
        select(func.count())
        .select_from(list_items)
        .where(list_items.c.list_id == reading_lists.c.id)
        .scalar_subquery()
    )
    return select(*reading_lists.c, users.c.name.label("owner"), size.label("size")).select_from(
        reading_lists.join(users, users.c.id == reading_lists.c.user_id)
    )


def _reading_list(row: Row[Any]) -> ReadingList:
    return ReadingList(
        id=row.id,
        user_id=row.user_id,
        owner=row.owner,
        name=row.name,
        description=row.description,
        public=bool(row.public),
        created=iso(row.created),
        updated=iso(row.updated),
        size=row.size,
    )


class LibraryStore(Part):
    """The store's ``library`` part."""

    def version(self) -> int:
        """A number that changes with every library write, by any process."""
        with self.read() as conn:
            return conn.execute(select(library_version.c.version)).scalar_one()

    # --- saved papers ----------------------------------------------------------------------

    def set_saved(self, user_id: int, paper_id: str, saved: bool) -> bool:
        """Save (or unsave) a paper for the user; repeating either changes nothing. Returns
        whether it is saved now."""
        with self.write() as conn:
            _bump(conn)
            if saved:
                conn.execute(
                    dialect.insert(self.dialect, saved_papers)
                    .values(user_id=user_id, paper_id=paper_id, created=dialect.now(self.dialect))
                    .on_conflict_do_nothing()
                )
            else:
                conn.execute(
                    delete(saved_papers).where(
                        saved_papers.c.user_id == user_id, saved_papers.c.paper_id == paper_id
                    )
                )
        return saved

    def saved(self, user_id: int) -> list[str]:
        """The ids the user saved, latest first."""
        query = (
            select(saved_papers.c.paper_id)
            .where(saved_papers.c.user_id == user_id)
            .order_by(saved_papers.c.created.desc(), saved_papers.c.paper_id)
        )
        with self.read() as conn:
            return list(conn.execute(query).scalars())

    def visible_saved(self, user_id: int) -> list[str]:
        """The ids the user saved whose papers are stored and visible, latest first: what
        answers with ids alone need, without reading the papers."""
        query = (
            select(saved_papers.c.paper_id)
            .select_from(saved_papers.join(papers, papers.c.id == saved_papers.c.paper_id))
            .where(saved_papers.c.user_id == user_id, visible())
            .order_by(saved_papers.c.created.desc(), saved_papers.c.paper_id)
        )
        with self.read() as conn:
            return list(conn.execute(query).scalars())

    def is_saved(self, user_id: int, paper_ids: Sequence[str]) -> set[str]:
        """Which of ``paper_ids`` the user saved (the Save buttons of one page)."""
        if not paper_ids:
            return set()
        query = select(saved_papers.c.paper_id).where(
            saved_papers.c.user_id == user_id, saved_papers.c.paper_id.in_(list(paper_ids))
        )
        with self.read() as conn:
            return set(conn.execute(query).scalars())

    def library_ids(self, user_id: int) -> set[str]:
        """Every paper the user saved or put in any of their lists."""
        in_lists = (
            select(list_items.c.paper_id)
            .select_from(list_items.join(reading_lists))
            .where(reading_lists.c.user_id == user_id)
        )
        saved = select(saved_papers.c.paper_id).where(saved_papers.c.user_id == user_id)
        with self.read() as conn:
            return set(conn.execute(union(saved, in_lists)).scalars())

    # --- reading lists ---------------------------------------------------------------------

    def create_list(self, user_id: int, name: str, description: str, public: bool) -> ReadingList:
        with self.write() as conn:
            _bump(conn)
            new_id = conn.execute(
                reading_lists.insert()
                .values(
                    user_id=user_id,
                    name=name,
                    description=description,
                    public=public,
                    created=dialect.now(self.dialect),
                    updated=dialect.now(self.dialect),
                )
                .returning(reading_lists.c.id)
            ).scalar_one()
            return _reading_list(
                conn.execute(_list_query().where(reading_lists.c.id == new_id)).one()
            )

    def get_list(self, list_id: int) -> ReadingList | None:
        with self.read() as conn:
            row = conn.execute(_list_query().where(reading_lists.c.id == list_id)).first()
        return _reading_list(row) if row else None

    def lists_of(self, user_id: int) -> list[ReadingList]:
        """The user's lists, the latest changed first."""
        query = (
            _list_query()
            .where(reading_lists.c.user_id == user_id)
            .order_by(reading_lists.c.updated.desc(), reading_lists.c.id.desc())
        )
        with self.read() as conn:
            return [_reading_list(row) for row in conn.execute(query)]

    def update_list(self, list_id: int, user_id: int, **changes: Any) -> ReadingList:
        """Change ``name``, ``description`` or ``public`` of the user's list."""
        allowed = {k: v for k, v in changes.items() if k in ("name", "description", "public")}
        with self.write() as conn:
            _bump(conn)
            _touch(conn, self.dialect, list_id, user_id, **allowed)
            return _reading_list(
                conn.execute(_list_query().where(reading_lists.c.id == list_id)).one()
            )

    def delete_list(self, list_id: int, user_id: int) -> None:
        with self.write() as conn:
            _bump(conn)
            gone = conn.execute(
                delete(reading_lists).where(
                    reading_lists.c.id == list_id, reading_lists.c.user_id == user_id
                )
            ).rowcount
            if not gone:
                raise NotFound(f"no list {list_id} of yours")

    # --- items -----------------------------------------------------------------------------

    def items(self, list_id: int, paper_id: str | None = None) -> list[ListItem]:
        """The list's items in order (stored papers or not); with ``paper_id``, that
        paper's item alone (none when it is not on the list)."""
        query = (
            select(
                list_items.c.paper_id, list_items.c.position, list_items.c.note, list_items.c.added
            )
            .where(list_items.c.list_id == list_id)
            .order_by(list_items.c.position)
        )
        if paper_id is not None:
            query = query.where(list_items.c.paper_id == paper_id)
        with self.read() as conn:
            return [
                ListItem(row.paper_id, row.position, row.note, iso(row.added))
                for row in conn.execute(query)
            ]

    def rows(self, list_id: int) -> list[ListRow]:
        """The list's items in order with what its page shows of each paper and its topic
        cluster, in one query; withdrawn and hidden papers are left out, papers not stored
        yet are kept (with ``title`` None)."""
        query = (
            select(
                list_items.c.paper_id,
                list_items.c.note,
                papers.c.title,
                papers.c.authors,
                func.coalesce(papers.c.submitted_on, papers.c.listed),
                topic_clusters.c.id,
                topic_clusters.c.label,
            )
            .select_from(
                list_items.outerjoin(papers, papers.c.id == list_items.c.paper_id)
                .outerjoin(topic_points, topic_points.c.paper_pk == papers.c.pk)
                .outerjoin(topic_clusters, topic_clusters.c.id == topic_points.c.cluster)
            )
            .where(list_items.c.list_id == list_id, or_(papers.c.pk.is_(None), visible()))
            .order_by(list_items.c.position)
        )
        with self.read() as conn:
            found = conn.execute(query).all()  # one fetchall, not a fetch per row
        return [
            ListRow(pid, note, title, authors or [], day, topic, label)
            for pid, note, title, authors, day, topic, label in found
        ]

    def add_items(
        self,
        list_id: int,
        user_id: int,
        entries: Sequence[tuple[str, str]],
        *,
        fetch: Sequence[str] = (),
        fetch_kind: str = "",
    ) -> int:
        """Append ``(paper_id, note)`` entries to the end of the user's list, in one
        transaction, with one queued ``fetch_kind`` job for the ids in ``fetch`` (papers not
        stored yet). A paper on the list already keeps its place (its note is replaced when
        a new one is given). Returns how many were new."""
        with self.write() as conn:
            _bump(conn)
            _touch(conn, self.dialect, list_id, user_id)
            present = {
                row.paper_id: row.note
                for row in conn.execute(
                    select(list_items.c.paper_id, list_items.c.note).where(
                        list_items.c.list_id == list_id
                    )
                )
            }
            end = len(present)
            rows, notes = [], []
            for paper_id, note in dict(entries).items():
                if paper_id in present:
                    if note and note != present[paper_id]:
                        notes.append((paper_id, note))
                    continue
                rows.append({"paper_id": paper_id, "note": note, "position": end + len(rows)})
            if rows:
                conn.execute(
                    list_items.insert().values(list_id=list_id, added=dialect.now(self.dialect)),
                    rows,
                )
            for paper_id, note in notes:
                conn.execute(
                    update(list_items)
                    .where(list_items.c.list_id == list_id, list_items.c.paper_id == paper_id)
                    .values(note=note)
                )
            if fetch:
                conn.execute(enqueue_statement(self.dialect, fetch_kind, {"ids": list(fetch)}))
            return len(rows)

    def remove_item(self, list_id: int, user_id: int, paper_id: str) -> bool:
        """Take a paper off the user's list (the ones after it move up); False when it was
        not on it."""
        with self.write() as conn:
            _bump(conn)
            _touch(conn, self.dialect, list_id, user_id)
            position = conn.execute(
                delete(list_items)
                .where(list_items.c.list_id == list_id, list_items.c.paper_id == paper_id)
                .returning(list_items.c.position)
            ).scalar()
            if position is None:
                return False
            _renumber(conn, list_id)
            return True

    def move_item(
        self, list_id: int, user_id: int, paper_id: str, to: int | None = None, by: int = 0
    ) -> int:
        """Put a paper of the user's list at position ``to``, or ``by`` places from where it
        is now (clamped to the list), the others keeping their order; returns its new
        position. A step is read in the write's transaction, so an Up button on a page
        older than a drag elsewhere still moves the paper one place from where it is."""
        with self.write() as conn:
            _bump(conn)
            _touch(conn, self.dialect, list_id, user_id)
            order = list(
                conn.execute(
                    select(list_items.c.paper_id)
                    .where(list_items.c.list_id == list_id)
                    .order_by(list_items.c.position)
                ).scalars()
            )
            if paper_id not in order:
                raise NotFound(f"{paper_id} is not on list {list_id}")
            target = order.index(paper_id) + by if to is None else to
            order.remove(paper_id)
            target = max(0, min(target, len(order)))
            order.insert(target, paper_id)
            _write_order(conn, list_id, order)
        return target

    def set_note(self, list_id: int, user_id: int, paper_id: str, note: str) -> int:
        """Replace the note of a paper of the user's list; returns the paper's position."""
        with self.write() as conn:
            _bump(conn)
            _touch(conn, self.dialect, list_id, user_id)
            position = conn.execute(
                update(list_items)
                .where(list_items.c.list_id == list_id, list_items.c.paper_id == paper_id)
                .values(note=note)
                .returning(list_items.c.position)
            ).scalar()
            if position is None:
                raise NotFound(f"{paper_id} is not on list {list_id}")
            return position

    def drop_items(self, paper_ids: Sequence[str]) -> int:
        """Take papers off every list (and every Saved): those arXiv turned out not to
        know, after an import queued them. Returns how many list items went."""
        if not paper_ids:
            return 0
        with self.write() as conn:
            _bump(conn)
            lists = list(
                conn.execute(
                    select(list_items.c.list_id)
                    .where(list_items.c.paper_id.in_(list(paper_ids)))
                    .distinct()
                ).scalars()
            )
            gone = conn.execute(
                delete(list_items).where(list_items.c.paper_id.in_(list(paper_ids)))
            ).rowcount
            conn.execute(delete(saved_papers).where(saved_papers.c.paper_id.in_(list(paper_ids))))
            for list_id in lists:
                _renumber(conn, list_id)
            return gone


def _bump(conn: Connection) -> None:
    conn.execute(update(library_version).values(version=library_version.c.version + 1))


def _touch(conn: Connection, backend: str, list_id: int, user_id: int, **values: Any) -> None:
    """Mark the user's list changed now (with ``values``); :class:`NotFound` when there is
    no such list of theirs."""
    changed = conn.execute(
        update(reading_lists)
        .where(reading_lists.c.id == list_id, reading_lists.c.user_id == user_id)
        .values(updated=dialect.now(backend), **values)
    ).rowcount
    if not changed:
        raise NotFound(f"no list {list_id} of yours")


def _renumber(conn: Connection, list_id: int) -> None:
    order = list(
        conn.execute(
            select(list_items.c.paper_id)
            .where(list_items.c.list_id == list_id)
            .order_by(list_items.c.position)
        ).scalars()
    )
    _write_order(conn, list_id, order)


def _write_order(conn: Connection, list_id: int, order: list[str]) -> None:
    """Positions 0..n-1 in ``order``. Positions are not unique in the schema, so rows can
    be rewritten one by one without a temporary clash; only those that moved are."""
    current = dict(
        conn.execute(
            select(list_items.c.paper_id, list_items.c.position).where(
                list_items.c.list_id == list_id
            )
        ).all()
    )
    changed = [
        {"pid": paper_id, "pos": index}
        for index, paper_id in enumerate(order)
        if current.get(paper_id) != index
    ]
    if changed:
        conn.execute(
            update(list_items)
            .where(list_items.c.list_id == list_id, list_items.c.paper_id == bindparam("pid"))
            .values(position=bindparam("pos")),
            changed,
        )
