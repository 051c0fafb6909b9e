"""What readers follow and which papers they claim as their own, written once for SQLite and
PostgreSQL.

Why the tables look as they do:

- **Follows** are one row per (account, kind, key): ``key`` is the value as the store matches
  it (an author's :func:`~paperstand.store.papers.name_key`, a category as listed, a saved
  search's query and filters as canonical JSON), so following twice is one follow however the
  name was typed. ``value`` keeps what the reader typed, for display.
- **"New since the last visit"** is told by ``papers.pk``, which only grows as papers arrive
  (an update of a known paper keeps its pk), so a follow needs no clock and no list of what
  was seen: ``seen_pk`` is the newest paper when the Following page was last visited (the
  header counts papers above it) and ``since_pk`` the one of the visit before, from which the
  page lists, so a reload of the page still shows what the visit found. A new follow starts
  at the newest paper: following a prolific author does not bury the page under their past.
- **Claims** are one row per (account, paper, author name), pending until an admin approves
  or rejects it. An approved claim links the account to the author name (by its key), which
  is what the author page and ``claimed_paper_ids`` read. A claimed author hides papers from
  their author page in ``author_hidden`` (by name key and paper): other pages are unchanged.

Claims and follows change what cached pages show (the Follow button, the author page), so
their writes bump the community version that pages are cached under (``web/site.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ColumnElement,
    Connection,
    ForeignKey,
    Index,
    Row,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    select,
    union,
    union_all,
    update,
)

from paperstand.errors import Conflict, Forbidden, InvalidInput, NotFound
from paperstand.store import dialect
from paperstand.store.accounts import users
from paperstand.store.community import community_version
from paperstand.store.papers import name_key, paper_authors, paper_categories
from paperstand.store.part import Part
from paperstand.store.schema import Json, Key, Stamp, metadata, papers
from paperstand.store.schema import stamp_text as iso

KINDS = ("author", "category", "search")
STATUSES = ("pending", "approved", "rejected")

follows = Table(
    "follows",
    metadata,
    Column("id", Key, primary_key=True),
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column(
        "kind", Text, CheckConstraint("kind IN ('author', 'category', 'search')"), nullable=False
    ),
    Column("value", Text, nullable=False),  # as the reader typed it: name, category, query
    Column("key", Text, nullable=False),  # as the store matches it (see the module docstring)
    Column("filters", Json, nullable=False, server_default="{}"),  # a search's filters
    Column("created", Stamp, nullable=False),
    Column("seen_pk", BigInteger, nullable=False),  # newest paper at the last visit
    Column("since_pk", BigInteger, nullable=False),  # newest paper at the visit before
    UniqueConstraint("user_id", "kind", "key", name="follows_user_kind_key"),
)

claims = Table(
    "claims",
    metadata,
    Column("id", Key, primary_key=True),
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("paper_pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("author", Text, nullable=False),  # the name as the paper spells it
    Column("name_key", Text, nullable=False),
    Column(
        "status",
        Text,
        CheckConstraint("status IN ('pending', 'approved', 'rejected')"),
        nullable=False,
    ),
    Column("created", Stamp, nullable=False),
    Column("decided", Stamp),
    UniqueConstraint("user_id", "paper_pk", "name_key", name="claims_user_paper_name"),
)
Index("claims_name_status", claims.c.name_key, claims.c.status)
Index("claims_status", claims.c.status, claims.c.id)

author_hidden = Table(
    "author_hidden",
    metadata,
    Column("name_key", Text, primary_key=True),
    Column("paper_pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created", Stamp, nullable=False),
)

# "New papers of a follow" reads a category's papers above a pk: this makes that a range of
# one index, however many papers the category has. An author's are read from the author's
# range of paper_authors itself (a few thousand rows for the most prolific at 2.7 million
# papers): an index like this one for authors cost 0.35 GB there.
Index("paper_categories_pk", paper_categories.c.category, paper_categories.c.pk)


@dataclass(frozen=True, slots=True)
class Follow:
    """One thing an account follows: ``kind`` is author, category or search; ``value`` the
    author name, the category or the query string; ``filters`` a search's filters (since,
    until, category, has_code), empty for the other kinds."""

    id: int
    user_id: int
    kind: str
    value: str
    filters: dict[str, Any]
    created: str
    seen_pk: int
    since_pk: int


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    user_id: int
    user_name: str  # the account's public name
    paper_id: str
    author: str  # the author name on the paper
    status: str  # pending, approved or rejected
    created: str
    decided: str | None


_FOLLOW_COLUMNS = tuple(c for c in follows.c if c.name != "key")
_CLAIM_COLUMNS = (
    claims.c.id,
    claims.c.user_id,
    users.c.name.label("user_name"),
    papers.c.id.label("paper_id"),
    claims.c.author,
    claims.c.status,
    claims.c.created,
    claims.c.decided,
)


def _follow(row: Row[Any]) -> Follow:
    return Follow(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        value=row.value,
        filters=dict(row.filters or {}),
        created=iso(row.created),
        seen_pk=row.seen_pk,
        since_pk=row.since_pk,
    )


def _claim(row: Row[Any]) -> Claim:
    return Claim(
        id=row.id,
        user_id=row.user_id,
        user_name=row.user_name,
        paper_id=row.paper_id,
        author=row.author,
        status=row.status,
        created=iso(row.created),
        decided=iso(row.decided),
    )


def _claims_query(*where: ColumnElement[bool]) -> Any:
    return (
        select(*_CLAIM_COLUMNS)
        .select_from(
            claims.join(papers, papers.c.pk == claims.c.paper_pk).join(
                users, users.c.id == claims.c.user_id
            )
        )
        .where(*where)
    )


def _bump(conn: Connection) -> None:
    """Cached pages show follows and claims: they are cached under this version too."""
    conn.execute(update(community_version).values(version=community_version.c.version + 1))


def _newest_pk() -> Any:
    return select(func.coalesce(func.max(papers.c.pk), 0)).scalar_subquery()


class FollowsStore(Part):
    """The store's ``follows`` part: follows, author claims and papers hidden by authors."""

    # --- follows ------------------------------------------------------------------------

    def follow(
        self, user_id: int, kind: str, value: str, key: str, filters: dict[str, Any]
    ) -> tuple[Follow, bool]:
        """Follow ``key`` of ``kind`` (``value`` as typed); returns the follow and whether it
        is new (following again changes nothing). New papers count from now on."""
        with self.write() as conn:
            made = conn.execute(
                dialect.insert(self.dialect, follows)
                .values(
                    user_id=user_id,
                    kind=kind,
                    value=value,
                    key=key,
                    filters=filters,
                    created=dialect.now(self.dialect),
                    seen_pk=_newest_pk(),
                    since_pk=_newest_pk(),
                )
                .on_conflict_do_nothing()
                .returning(follows.c.id)
            ).scalar()
            if made is not None:
                _bump(conn)
            row = conn.execute(
                select(*_FOLLOW_COLUMNS).where(
                    follows.c.user_id == user_id, follows.c.kind == kind, follows.c.key == key
                )
            ).one()
        return _follow(row), made is not None

    def count_follows(self, user_id: int) -> int:
        with self.read() as conn:
            return conn.execute(
                select(func.count()).select_from(follows).where(follows.c.user_id == user_id)
            ).scalar_one()

    def unfollow(self, user_id: int, follow_id: int) -> None:
        """Stop following; :class:`NotFound` when the account has no such follow (someone
        else's follow answers the same, which reveals nothing)."""
        with self.write() as conn:
            gone = conn.execute(
                delete(follows).where(follows.c.id == follow_id, follows.c.user_id == user_id)
            ).rowcount
            if not gone:
                raise NotFound(f"no follow {follow_id} of yours")
            _bump(conn)

    def find_follow(self, user_id: int, kind: str, key: str) -> Follow | None:
        with self.read() as conn:
            row = conn.execute(
                select(*_FOLLOW_COLUMNS).where(
                    follows.c.user_id == user_id, follows.c.kind == kind, follows.c.key == key
                )
            ).first()
        return _follow(row) if row else None

    def follows_of(self, user_id: int) -> list[Follow]:
        """The account's follows, oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                select(*_FOLLOW_COLUMNS).where(follows.c.user_id == user_id).order_by(follows.c.id)
            ).all()
        return [_follow(row) for row in rows]

    def marks(self, user_id: int) -> tuple[tuple[int, int, str], ...]:
        """(id, seen_pk, kind) of each of the account's follows: the little the header's
        cached count is keyed on (``web/site.py``)."""
        query = (
            select(follows.c.id, follows.c.seen_pk, follows.c.kind)
            .where(follows.c.user_id == user_id)
            .order_by(follows.c.id)
        )
        with self.read() as conn:
            return tuple(tuple(row) for row in conn.execute(query))

    def new_papers(self, user_id: int, *, unseen: bool, per_follow: int) -> dict[int, list[str]]:
        """The papers of the account's author and category follows that arrived after the
        last visit (``unseen``) or the visit before, by follow id, newest first, at most
        ``per_follow`` each (one query; deleted papers have no author or category rows)."""
        mark = follows.c.seen_pk if unseen else follows.c.since_pk
        parts = []
        for kind, table, match in (
            ("author", paper_authors, paper_authors.c.name_key == follows.c.key),
            ("category", paper_categories, paper_categories.c.category == follows.c.key),
        ):
            parts.append(
                select(
                    follows.c.id.label("follow_id"),
                    table.c.pk,
                    func.row_number()
                    .over(partition_by=follows.c.id, order_by=table.c.pk.desc())
                    .label("n"),
                )
                .select_from(follows.join(table, and_(match, table.c.pk > mark)))
                .where(follows.c.user_id == user_id, follows.c.kind == kind)
            )
        ranked = union_all(*parts).subquery()
        query = (
            select(ranked.c.follow_id, papers.c.id)
            .join_from(ranked, papers, papers.c.pk == ranked.c.pk)
            .where(ranked.c.n <= per_follow)
            .order_by(ranked.c.follow_id, ranked.c.n)
        )
        found: dict[int, list[str]] = {}
        with self.read() as conn:
            for follow_id, paper_id in conn.execute(query):
                found.setdefault(follow_id, []).append(paper_id)
        return found

    def arrived_after(self, paper_ids: list[str], after_pk: int) -> list[str]:
        """Those of ``paper_ids`` (in their order) that arrived after paper ``after_pk``."""
        if not paper_ids:
            return []
        with self.read() as conn:
            newer = set(
                conn.execute(
                    select(papers.c.id).where(
                        papers.c.id.in_(paper_ids[:900]), papers.c.pk > after_pk
                    )
                ).scalars()
            )
        return [pid for pid in paper_ids if pid in newer]

    def mark_seen(self, user_id: int) -> None:
        """A visit of the Following page: where papers arrived since the last visit, that
        visit becomes the one before (the page lists from it) and this one the last."""
        newest = _newest_pk()
        with self.write() as conn:
            conn.execute(
                update(follows)
                .where(follows.c.user_id == user_id, follows.c.seen_pk < newest)
                .values(since_pk=follows.c.seen_pk, seen_pk=newest)
            )

    # --- claims -------------------------------------------------------------------------

    def claim(self, user_id: int, paper_id: str, author: str) -> Claim:
        """The account claims to be ``author`` of the paper: pending until an admin decides.
        :class:`NotFound` for an unknown paper, :class:`InvalidInput` for a name not among
        its authors, :class:`Conflict` when the account claimed it before."""
        key = name_key(author)
        with self.write() as conn:
            found = conn.execute(
                select(papers.c.pk, papers.c.authors).where(
                    papers.c.id == paper_id, ~papers.c.deleted
                )
            ).first()
            if found is None:
                raise NotFound(f"{paper_id} is not in this store")
            pk, authors = found
            spelled = next((name for name in authors if name_key(name) == key), None)
            if spelled is None:
                raise InvalidInput(f"{author[:100]!r} is not an author of {paper_id}")
            made = conn.execute(
                dialect.insert(self.dialect, claims)
                .values(
                    user_id=user_id,
                    paper_pk=pk,
                    author=spelled,
                    name_key=key,
                    status="pending",
                    created=dialect.now(self.dialect),
                )
                .on_conflict_do_nothing()
                .returning(claims.c.id)
            ).scalar()
            if made is None:
                raise Conflict(f"you have claimed {paper_id} as {spelled} already")
            return _claim(conn.execute(_claims_query(claims.c.id == made)).one())

    def claims(self, *, status: str | None = None, user_id: int | None = None) -> list[Claim]:
        """Claims, oldest first, of one status and one account when given."""
        where = []
        if status is not None:
            where.append(claims.c.status == status)
        if user_id is not None:
            where.append(claims.c.user_id == user_id)
        with self.read() as conn:
            rows = conn.execute(_claims_query(*where).order_by(claims.c.id)).all()
        return [_claim(row) for row in rows]

    def decide(self, claim_id: int, *, approve: bool) -> Claim:
        """An admin approves or rejects a claim (deciding again changes the decision)."""
        with self.write() as conn:
            changed = conn.execute(
                update(claims)
                .where(claims.c.id == claim_id)
                .values(
                    status="approved" if approve else "rejected",
                    decided=dialect.now(self.dialect),
                )
            ).rowcount
            if not changed:
                raise NotFound(f"no claim {claim_id}")
            _bump(conn)
            return _claim(conn.execute(_claims_query(claims.c.id == claim_id)).one())

    def claimed_paper_ids(self, user_id: int) -> set[str]:
        """The papers of the account's approved claims."""
        query = (
            select(papers.c.id)
            .select_from(claims.join(papers, papers.c.pk == claims.c.paper_pk))
            .where(claims.c.user_id == user_id, claims.c.status == "approved")
        )
        with self.read() as conn:
            return set(conn.execute(query).scalars())

    def claimed_names(self) -> frozenset[str]:
        """The name keys with approved claims or papers hidden from their page: the only
        author pages with claims to show (a few, however large the store)."""
        query = union(
            select(claims.c.name_key).where(claims.c.status == "approved"),
            select(author_hidden.c.name_key),
        )
        with self.read() as conn:
            return frozenset(conn.execute(query).scalars())

    def claimants(self, author: str) -> dict[str, list[str]]:
        """The accounts with approved claims as ``author`` (by name key): each account's
        public name with its claimed papers, newest first."""
        query = (
            select(users.c.name, papers.c.id)
            .select_from(
                claims.join(papers, papers.c.pk == claims.c.paper_pk).join(
                    users, users.c.id == claims.c.user_id
                )
            )
            .where(
                claims.c.name_key == name_key(author),
                claims.c.status == "approved",
                ~papers.c.deleted,
            )
            .order_by(users.c.name, papers.c.pk.desc())
        )
        found: dict[str, list[str]] = {}
        with self.read() as conn:
            for user_name, paper_id in conn.execute(query):
                found.setdefault(user_name, []).append(paper_id)
        return found

    # --- papers hidden from an author page ----------------------------------------------

    def hide_from_author(self, user_id: int, author: str, paper_id: str, hidden: bool) -> None:
        """A claimed author hides (or shows again) a paper on their author page.
        :class:`Forbidden` unless the account has an approved claim on the name."""
        key = name_key(author)
        with self.write() as conn:
            claimed = conn.execute(
                select(claims.c.id).where(
                    claims.c.user_id == user_id,
                    claims.c.name_key == key,
                    claims.c.status == "approved",
                )
            ).first()
            if claimed is None:
                raise Forbidden(f"only an approved claimant of {author[:100]!r} may do this")
            pk = conn.execute(
                select(paper_authors.c.pk)
                .join_from(paper_authors, papers, papers.c.pk == paper_authors.c.pk)
                .where(paper_authors.c.name_key == key, papers.c.id == paper_id)
            ).scalar()
            if pk is None:
                raise NotFound(f"{paper_id} is not a paper by {author[:100]!r}")
            if hidden:
                conn.execute(
                    dialect.insert(self.dialect, author_hidden)
                    .values(
                        name_key=key,
                        paper_pk=pk,
                        user_id=user_id,
                        created=dialect.now(self.dialect),
                    )
                    .on_conflict_do_nothing()
                )
            else:
                conn.execute(
                    delete(author_hidden).where(
                        author_hidden.c.name_key == key, author_hidden.c.paper_pk == pk
                    )
                )
            _bump(conn)

    def hidden_from_author(self, author: str) -> set[str]:
        query = (
            select(papers.c.id)
            .select_from(author_hidden.join(papers, papers.c.pk == author_hidden.c.paper_pk))
            .where(author_hidden.c.name_key == name_key(author))
        )
        with self.read() as conn:
            return set(conn.execute(query).scalars())
