"""The community in the store: submissions, votes, comments, hidden papers and GitHub-star
snapshots, written once for SQLite and PostgreSQL.

Why the tables look as they do:

- **Votes** are one row per (user, paper), the primary key: a second upvote is an insert
  that conflicts and does nothing, so a count can never run ahead of the accounts that
  voted, however many clicks arrive at once. Counts are *derived* (``count(*)`` over the
  ``votes_paper`` index) rather than kept in a counter column, so there is nothing to drift.
  Upvotes imported from Hugging Face stay in ``papers.upvotes``; the two are never mixed.
- **Submissions** are keyed on the canonical paper id, not ``papers.pk``: a paper submitted
  by id exists here before its metadata arrives (a background job fetches it from arXiv).
  The key makes a second submission of one paper impossible; the first one wins.
- **Comments** point to their paper and, for replies, to a top-level comment (one level).
  Deleting one's own comment blanks it (replies keep their place); hiding is an admin's.
- A paper's **day on the curated list** is the day it was submitted here, else the day
  Hugging Face featured it (``papers.submitted_on``).

Times are the database's clock (``dialect.now``) and come back as ISO 8601 UTC text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Row,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    false,
    func,
    null,
    or_,
    select,
    update,
)

from paperstand.errors import Conflict, InvalidInput, NotFound, RuleBroken
from paperstand.store import dialect
from paperstand.store.accounts import count_rate_hits, rate_hit_statement, users
from paperstand.store.part import Part
from paperstand.store.schema import Key, Stamp, hidden_papers, metadata, papers
from paperstand.store.schema import stamp_text as iso
from paperstand.store.schema import visible as _visible

votes = Table(
    "votes",
    metadata,
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("paper_pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("created", Stamp, nullable=False),
    PrimaryKeyConstraint("user_id", "paper_pk"),
)
Index("votes_paper", votes.c.paper_pk)

submissions = Table(
    "submissions",
    metadata,
    Column("paper_id", Text, primary_key=True),  # canonical id (ids.py)
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("day", Text, nullable=False),  # YYYY-MM-DD, UTC: the curated list it joins
    Column("created", Stamp, nullable=False),
    Column(
        "status",
        Text,
        CheckConstraint("status IN ('pending', 'ready', 'rejected')"),
        nullable=False,
    ),
    Column("reason", Text),  # why it was rejected
)
Index("submissions_day", submissions.c.day)
Index("submissions_user_day", submissions.c.user_id, submissions.c.day)

comments = Table(
    "comments",
    metadata,
    Column("id", Key, primary_key=True),
    Column("paper_pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", Key, ForeignKey("comments.id", ondelete="CASCADE")),
    Column("body", Text, nullable=False),  # Markdown as written; "" once deleted
    Column("created", Stamp, nullable=False),
    Column("edited", Stamp),
    Column("deleted", Boolean(create_constraint=False), nullable=False, server_default="0"),
    Column("hidden", Boolean(create_constraint=False), nullable=False, server_default="0"),
)
Index("comments_paper", comments.c.paper_pk, comments.c.id)

star_counts = Table(
    "star_counts",
    metadata,
    # A paper's GitHub stars as they were on a day: trending's star growth is the
    # difference between today's count and the oldest snapshot within its window.
    Column("paper_pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("day", Text, nullable=False),
    Column("stars", Integer, nullable=False),
    PrimaryKeyConstraint("paper_pk", "day"),
)

community_version = Table(
    "community_version",
    metadata,
    # Bumped by every community write, in its transaction: pages and API answers showing
    # votes or comments are cached under it (with the papers' data version).
    Column("id", Integer, CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

# PostgreSQL advisory lock serialising submissions (the per-day quota is a count, then an
# insert); SQLite's writer lock does the same there.
SUBMIT_LOCK = 0x5355424D


@dataclass(frozen=True, slots=True)
class Standing:
    """A paper's community numbers: local votes and Hugging Face's stay apart."""

    local_votes: int
    hf_votes: int
    comments: int
    upvoted: bool  # by the user asking (False for nobody)

    @property
    def upvotes(self) -> int:
        """What the JSON API calls ``upvotes``: local votes plus imported ones."""
        return self.local_votes + self.hf_votes


@dataclass(frozen=True, slots=True)
class Listed:
    """A paper on a list (by id: the service fetches the papers), with its numbers and,
    when submitted here, its submitter."""

    paper_id: str
    standing: Standing
    day: str | None  # its day on the curated list
    submitter_id: int | None  # the local user who submitted it
    submitter_name: str | None  # their public name
    star_growth: int | None = None  # GitHub stars gained within the trending window


@dataclass(frozen=True, slots=True)
class Submission:
    paper_id: str
    user_id: int
    day: str
    created: str
    status: str  # pending (metadata being fetched), ready or rejected
    reason: str | None


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    paper_id: str
    user_id: int
    author: str  # the author's public name
    parent_id: int | None
    body: str
    created: str
    edited: str | None
    deleted: bool
    hidden: bool


_COMMENT_COLUMNS = (
    comments.c.id,
    papers.c.id.label("paper_id"),
    comments.c.user_id,
    users.c.name.label("author"),
    comments.c.parent_id,
    comments.c.body,
    comments.c.created,
    comments.c.edited,
    comments.c.deleted,
    comments.c.hidden,
)
_SUBMISSION_COLUMNS = tuple(submissions.c)


def _comment(row: Row[Any]) -> Comment:
    return Comment(
        id=row.id,
        paper_id=row.paper_id,
        user_id=row.user_id,
        author=row.author,
        parent_id=row.parent_id,
        body=row.body,
        created=iso(row.created),
        edited=iso(row.edited),
        deleted=bool(row.deleted),
        hidden=bool(row.hidden),
    )


def _submission(row: Row[Any]) -> Submission:
    return Submission(
        paper_id=row.paper_id,
        user_id=row.user_id,
        day=row.day,
        created=iso(row.created),
        status=row.status,
        reason=row.reason,
    )


def _local_votes() -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(votes)
        .where(votes.c.paper_pk == papers.c.pk)
        .scalar_subquery()
    )


def _comment_count() -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(comments)
        .where(
            comments.c.paper_pk == papers.c.pk,
            comments.c.deleted == false(),
            comments.c.hidden == false(),
        )
        .scalar_subquery()
    )


def _upvoted(user_id: int | BindParameter[int] | None) -> ColumnElement[bool]:
    if user_id is None:
        return false()
    return (
        select(votes.c.paper_pk)
        .where(votes.c.paper_pk == papers.c.pk, votes.c.user_id == user_id)
        .exists()
    )


@dataclass(slots=True, eq=False)
class _Ballot:
    """One vote waiting for its group's transaction (:meth:`CommunityStore.vote`), then
    its outcome: a standing, None when a rate limit refused it, or an error."""

    user_id: int
    paper_id: str
    up: bool
    rate_hits: tuple[tuple[str, float, int, int], ...]
    now: float
    done: bool = False
    standing: Standing | None = None
    error: BaseException | None = None


class CommunityStore(Part):
    """The store's ``community`` part."""

    _vote_sql: tuple[Any, Any, Any, Any] | None = None
    # One paper's standing, by (with a user, with hidden papers): built on first use.
    _standing_sql: dict[tuple[bool, bool], Select[Any]] | None = None
    # The lists' statements, by shape: built on first use (see _statement).
    _statements: dict[Hashable, Any] | None = None

    def __init__(self, engine: Engine, where: str) -> None:
        super().__init__(engine, where)
        # Votes waiting for the next group commit, and who casts it (see :meth:`vote`).
        self._ballots: list[_Ballot] = []
        self._ballots_lock = threading.Lock()
        self._casting = threading.Lock()

    # --- lists --------------------------------------------------------------------------

    def _listed(self, query: Select[Any], params: dict[str, Any] | None = None) -> list[Listed]:
        with self.read() as conn:
            rows = conn.execute(query, params).all()
        return [
            Listed(
                row.id,
                Standing(row.local, row.upvotes or 0, row.comments, bool(row.upvoted)),
                row.day,
                row.submitter,
                row.submitter_name,
                row.growth,
            )
            for row in rows
        ]

    def _select(
        self,
        user_id: int | BindParameter[int] | None,
        *,
        ready_only: bool = True,
        stars_since: str | None = None,
        with_hidden: bool = False,
    ) -> Select[Any]:
        joined = _ready_submission() if ready_only else submissions.c.paper_id == papers.c.id
        growth = _star_growth(stars_since) if stars_since else null()
        return (
            select(
                papers.c.id,
                papers.c.upvotes,
                _local_votes().label("local"),
                _comment_count().label("comments"),
                _upvoted(user_id).label("upvoted"),
                func.coalesce(submissions.c.day, papers.c.submitted_on).label("day"),
                submissions.c.user_id.label("submitter"),
                users.c.name.label("submitter_name"),
                growth.label("growth"),
            )
            .select_from(
                papers.outerjoin(submissions, joined).outerjoin(
                    users, users.c.id == submissions.c.user_id
                )
            )
            .where(papers.c.deleted == false() if with_hidden else _visible())
        )

    def _statement(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The statement of shape ``key``, built by ``build`` on first use. The lists'
        statements take their values as bound parameters: building one (subqueries,
        joins, ordering) cost several times what the database takes to answer it."""
        if self._statements is None:
            self._statements = {}
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = build()
        return found

    def curated(
        self,
        first: str,
        last: str,
        *,
        limit: int,
        offset: int = 0,
        user_id: int | None = None,
        submitter: str | None = None,
        recent_first: bool = False,
    ) -> list[Listed]:
        """The curated lists of ``first``..``last``: papers submitted here on those days, or
        featured by Hugging Face on them; most upvoted (both kinds summed) first, then the
        later day, the later ``published``, the later ``submittedOnDailyAt`` (Hugging
        Face's tie-break), the larger id. ``recent_first`` puts the later
        day before the upvotes; ``submitter`` keeps the papers Hugging Face lists as
        submitted by that user name."""

        def build() -> Select[Any]:
            day = func.coalesce(submissions.c.day, papers.c.submitted_on)
            total = func.coalesce(papers.c.upvotes, 0) + _local_votes()
            order = [day.desc(), total.desc()] if recent_first else [total.desc(), day.desc()]
            who = bindparam("user_id") if user_id is not None else None
            return (
                self._select(who)
                .where(*_curated_filter(self.dialect, submitter is not None))
                .order_by(
                    *order,
                    papers.c.published.desc().nulls_last(),
                    # Hugging Face's own last tie-break.
                    dialect.json_text(self.dialect, papers.c.extra, "submittedOnDailyAt")
                    .desc()
                    .nulls_last(),
                    papers.c.id.desc(),
                )
                .limit(bindparam("limit"))
                .offset(bindparam("offset"))
            )

        shape = ("curated", user_id is not None, submitter is not None, recent_first)
        values = {"first": first, "last": last, "limit": limit, "offset": offset}
        return self._listed(
            self._statement(shape, build), {**values, "user_id": user_id, "submitter": submitter}
        )

    def count_curated(self, first: str, last: str, *, submitter: str | None = None) -> int:
        def build() -> Select[Any]:
            return (
                select(func.count())
                .select_from(papers.outerjoin(submissions, _ready_submission()))
                .where(*_curated_filter(self.dialect, submitter is not None))
            )

        query = self._statement(("count_curated", submitter is not None), build)
        with self.read() as conn:
            return conn.execute(
                query, {"first": first, "last": last, "submitter": submitter}
            ).scalar_one()

    def _curated_days(self) -> Any:
        """Every curated day (with repeats), as a subquery of one column, ``day``."""
        featured = (
            select(papers.c.submitted_on.label("day"))
            .select_from(papers.outerjoin(submissions, _ready_submission()))
            .where(papers.c.submitted_on.is_not(None), submissions.c.day.is_(None), _visible())
        )
        submitted = (
            select(submissions.c.day)
            .select_from(submissions.join(papers, papers.c.id == submissions.c.paper_id))
            .where(submissions.c.status == "ready", _visible())
        )
        return featured.union_all(submitted).subquery()

    def latest_curated_day(self) -> str | None:
        days = self._curated_days()
        with self.read() as conn:
            return conn.execute(select(func.max(days.c.day))).scalar()

    def curated_neighbours(self, first: str, last: str) -> tuple[str | None, str | None]:
        """The nearest curated days before ``first`` and after ``last``: for each kind of
        curated day, the first day past the bound that passes, walking its index away from
        the bound (a max() over every earlier day read them all)."""

        def nearest(column: Any, where: Any, bound: Any, order: Any) -> Any:
            return select(column).where(where, bound).order_by(order).limit(1).scalar_subquery()

        def build() -> Select[Any]:
            featured = papers.c.submitted_on
            submitted = submissions.c.day
            live_featured = and_(_visible(), ~_submitted_here())
            live_submitted = and_(
                submissions.c.status == "ready",
                select(papers.c.pk)
                .where(papers.c.id == submissions.c.paper_id, _visible())
                .correlate_except(papers)
                .exists(),
            )
            first, last = bindparam("first"), bindparam("last")
            return select(
                nearest(featured, live_featured, featured < first, featured.desc()),
                nearest(submitted, live_submitted, submitted < first, submitted.desc()),
                nearest(featured, live_featured, featured > last, featured.asc()),
                nearest(submitted, live_submitted, submitted > last, submitted.asc()),
            )

        query = self._statement("curated_neighbours", build)
        with self.read() as conn:
            row = conn.execute(query, {"first": first, "last": last}).one()
        before = max((day for day in row[:2] if day is not None), default=None)
        after = min((day for day in row[2:] if day is not None), default=None)
        return before, after

    def trending_candidates(
        self, first: str, last: str, *, stars_since: str, user_id: int | None = None
    ) -> list[Listed]:
        """Every paper on the curated lists of ``first``..``last``, with the stars gained
        since the snapshot of ``stars_since`` or later (None where unknown)."""
        query = self._select(user_id, stars_since=stars_since).where(
            *_curated_filter(self.dialect, False)
        )
        return self._listed(query, {"first": first, "last": last})

    def new_on_arxiv(
        self,
        day: str,
        *,
        category: str | None = None,
        limit: int,
        offset: int = 0,
        before: str | None = None,
        after: str | None = None,
        user_id: int | None = None,
    ) -> list[Listed]:
        """Everything arXiv listed on ``day`` (optionally in ``category``, primary or
        cross-list), newest id first: from the start (or ``offset``), or the ids below
        ``before`` or above ``after`` (a page of a list paged by cursor)."""
        newest_first = after is None

        def build() -> Select[Any]:
            where = self._new_filter(category is not None)
            if before is not None:
                where.append(papers.c.id < bindparam("before"))
            if after is not None:
                where.append(papers.c.id > bindparam("after"))
            who = bindparam("user_id") if user_id is not None else None
            return (
                self._select(who, ready_only=False)
                .where(*where)
                .order_by(papers.c.id.desc() if newest_first else papers.c.id.asc())
                .limit(bindparam("limit"))
                .offset(bindparam("offset"))
            )

        shape = (
            "new",
            category is not None,
            before is not None,
            after is not None,
            user_id is not None,
        )
        values = {"day": day, "category": category, "before": before, "after": after}
        found = self._listed(
            self._statement(shape, build),
            {**values, "limit": limit, "offset": offset, "user_id": user_id},
        )
        return found if newest_first else found[::-1]

    def count_new_on_arxiv(
        self, day: str, *, category: str | None = None, above: str | None = None
    ) -> int:
        """How many papers :meth:`new_on_arxiv` lists (with ``above``: only those of a
        larger id, the ones listed before it)."""

        def build() -> Select[Any]:
            where = self._new_filter(category is not None)
            if above is not None:
                where.append(papers.c.id > bindparam("above"))
            return select(func.count()).select_from(papers).where(*where)

        query = self._statement(("count_new", category is not None, above is not None), build)
        with self.read() as conn:
            values = {"day": day, "category": category, "above": above}
            return conn.execute(query, values).scalar_one()

    def _new_filter(self, by_category: bool) -> list[ColumnElement[bool]]:
        """Visible papers listed on the bound ``day`` (and in the bound ``category``)."""
        where = [papers.c.listed == bindparam("day"), _visible()]
        if by_category:
            where.append(
                dialect.json_array_has(
                    self.dialect, papers.c.categories, bindparam("category", type_=Text)
                )
            )
        return where

    def listing_neighbours(self, day: str) -> tuple[str | None, str | None, str | None]:
        """The latest arXiv listing day, and the nearest ones before and after ``day``."""
        listed = papers.c.listed

        def bound(*where: ColumnElement[bool], latest: bool = True) -> Any:
            return select(func.max(listed) if latest else func.min(listed)).where(
                listed.is_not(None), *where
            )

        def build() -> Select[Any]:
            day = bindparam("day")
            return select(
                bound().scalar_subquery(),
                bound(listed < day).scalar_subquery(),
                bound(listed > day, latest=False).scalar_subquery(),
            )

        with self.read() as conn:
            found = conn.execute(self._statement("listing_neighbours", build), {"day": day})
            latest, before, after = found.one()
        return latest, before, after

    def standing(
        self, paper_id: str, user_id: int | None = None, *, with_hidden: bool = False
    ) -> Listed | None:
        """One paper (visible, or also hidden ones for admins: ``with_hidden``) with its
        numbers and submission, any status. Every read of a paper asks for this, so its
        statements are built once, with bound parameters: building one costs several
        times what SQLite takes to run it."""
        shapes = self._standing_sql
        if shapes is None:
            shapes = self._standing_sql = {}
        shape = (user_id is not None, with_hidden)
        query = shapes.get(shape)
        if query is None:
            who = bindparam("user_id") if user_id is not None else None
            query = self._select(who, ready_only=False, with_hidden=with_hidden).where(
                papers.c.id == bindparam("paper_id")
            )
            shapes[shape] = query
        found = self._listed(query, {"paper_id": paper_id, "user_id": user_id})
        return found[0] if found else None

    def version(self) -> int:
        """A number that changes with every community write, by any process."""
        with self.read() as conn:
            return conn.execute(select(community_version.c.version)).scalar_one()

    # --- votes --------------------------------------------------------------------------

    def vote(
        self,
        user_id: int,
        paper_id: str,
        *,
        up: bool,
        rate_hits: Sequence[tuple[str, float, int, int]] = (),
        now: float = 0.0,
    ) -> Standing | None:
        """Give (``up``) or take back the user's one vote on the paper, in a transaction
        that also counts the votes; repeating either changes nothing.

        ``rate_hits`` are rate-limit windows (key, expiry, amount, most allowed) counted at
        ``now`` in the same transaction (``ratelimit.Limiter.counting``): one commit per
        vote instead of two. When a window goes past its most, the hits are committed
        but the vote is not made, and the answer is None. An unknown paper is
        :class:`NotFound`, its hits counted all the same.

        **Group commit.** The votes that threads of this process ask for while another
        vote's transaction runs are cast together, in the next one transaction, by
        whichever of those threads gets there first; the others wait for it and take
        their own answers. A commit, the writer slot (:class:`~paperstand.store.engine.
        WriterLock`, across processes) and the community version's bump are paid once
        per group instead of once per vote, and the busier the store the larger the
        groups. Each vote is still its own statement in the order it came, so the
        counts and the rate limits stay exact; a paper's count in an answer is the one
        its group committed, which includes the vote. A transaction that fails fails
        every vote of its group (none of them was made). On PostgreSQL, which runs many
        write transactions at once (row locks, no one writer slot), each vote is its own
        group.

        The statements are built once (:meth:`_vote_statements`): building Core
        statements costs more CPU than SQLite takes to run them, and votes come by the
        hundred a second."""
        ballot = _Ballot(user_id, paper_id, up, tuple(rate_hits), now)
        if self.dialect != "sqlite":
            # PostgreSQL runs many write transactions at once (row locks, no one writer
            # slot): a vote waits for nobody's group there.
            self._cast([ballot])
        else:
            with self._ballots_lock:
                self._ballots.append(ballot)
            with self._casting:
                if not ballot.done:
                    self._cast()
        if ballot.error is not None:
            raise ballot.error
        return ballot.standing

    def _cast(self, group: list[_Ballot] | None = None) -> None:
        """Cast ``group`` (else every vote waiting, taken once the writer slot is ours:
        what queued meanwhile joins it) in one transaction, then give each its outcome."""
        add, take, count, hit = self._vote_statements()
        papers_found: dict[str, Row[Any] | None] = {}
        made: list[tuple[_Ballot, Row[Any]]] = []
        missing: list[_Ballot] = []
        try:
            with self.write() as conn:
                if group is None:
                    with self._ballots_lock:
                        group, self._ballots = self._ballots, []
                for ballot in group:
                    if ballot.rate_hits:
                        hits = [
                            (key, expiry, amount) for key, expiry, amount, _ in ballot.rate_hits
                        ]
                        counts = count_rate_hits(conn, hit, hits, ballot.now)
                        limits = [most for *_, most in ballot.rate_hits]
                        if any(n > most for n, most in zip(counts, limits, strict=True)):
                            continue  # refused: no vote, no standing
                    if ballot.paper_id not in papers_found:
                        papers_found[ballot.paper_id] = conn.execute(
                            _PAPER_PK, {"paper_id": ballot.paper_id}
                        ).first()
                    row = papers_found[ballot.paper_id]
                    if row is None:
                        missing.append(ballot)
                        continue
                    conn.execute(
                        add if ballot.up else take, {"user_id": ballot.user_id, "pk": row.pk}
                    )
                    made.append((ballot, row))
                if made:
                    _bump(conn)
                numbers = {
                    row.pk: conn.execute(count, {"pk": row.pk}).one()
                    for row in papers_found.values()
                    if row is not None
                }
            for ballot, row in made:
                local, comment_count = numbers[row.pk]
                ballot.standing = Standing(local, row.upvotes or 0, comment_count, ballot.up)
            for ballot in missing:
                ballot.error = NotFound(f"{ballot.paper_id} is not in this store")
        except BaseException as exc:
            if group is None:  # no transaction to take them: they fail with it
                with self._ballots_lock:
                    group, self._ballots = self._ballots, []
            for ballot in group:
                ballot.error = exc
                ballot.done = True
            raise
        for ballot in group:
            ballot.done = True

    def _vote_statements(self) -> tuple[Any, Any, Any, Any]:
        """Add a vote, take it back, count the paper's votes and comments (bound parameters
        ``user_id`` and ``pk``), and count a rate-limit hit; built on first use, then
        reused."""
        if self._vote_sql is None:
            pk = bindparam("pk")
            add = (
                dialect.insert(self.dialect, votes)
                .values(
                    user_id=bindparam("user_id"), paper_pk=pk, created=dialect.now(self.dialect)
                )
                .on_conflict_do_nothing()
            )
            take = delete(votes).where(
                votes.c.user_id == bindparam("user_id"), votes.c.paper_pk == pk
            )
            local = select(func.count()).select_from(votes).where(votes.c.paper_pk == pk)
            shown = (
                select(func.count())
                .select_from(comments)
                .where(
                    comments.c.paper_pk == pk,
                    comments.c.deleted == false(),
                    comments.c.hidden == false(),
                )
            )
            self._vote_sql = (
                add,
                take,
                select(local.scalar_subquery(), shown.scalar_subquery()),
                rate_hit_statement(self.dialect),
            )
        return self._vote_sql

    def vote_counts(self) -> dict[str, int]:
        """Local votes of every paper that has any (for checks and the benchmark)."""
        query = (
            select(papers.c.id, func.count())
            .select_from(votes.join(papers, papers.c.pk == votes.c.paper_pk))
            .group_by(papers.c.id)
        )
        with self.read() as conn:
            return {paper: count for paper, count in conn.execute(query)}

    # --- submissions --------------------------------------------------------------------

    def submit(self, paper_id: str, user_id: int, day: str, *, quota: int) -> Submission:
        """Record the user's submission of ``paper_id`` on ``day``: ``ready`` when the paper
        is already stored with its metadata, else ``pending``. :class:`Conflict` when it was
        submitted before or Hugging Face featured it; :class:`RuleBroken` past the quota."""
        with self.write() as conn:
            _bump(conn)
            dialect.lock(conn, SUBMIT_LOCK)
            earlier = conn.execute(
                select(*_SUBMISSION_COLUMNS).where(submissions.c.paper_id == paper_id)
            ).first()
            if earlier is not None:
                if earlier.status == "rejected":
                    raise RuleBroken(earlier.reason or "this paper was rejected")
                raise Conflict(f"{paper_id} was already submitted on {earlier.day}")
            stored = conn.execute(
                select(papers.c.title, papers.c.submitted_on).where(papers.c.id == paper_id)
            ).first()
            if stored is not None and stored.submitted_on:
                raise Conflict(
                    f"{paper_id} is already on the daily list of {stored.submitted_on} "
                    "(featured by Hugging Face)"
                )
            today = conn.execute(
                select(func.count())
                .select_from(submissions)
                .where(submissions.c.user_id == user_id, submissions.c.day == day)
            ).scalar_one()
            if today >= quota:
                raise RuleBroken(
                    f"daily quota reached: {quota} submission{'s' * (quota != 1)} a day"
                )
            status = "ready" if stored is not None and stored.title else "pending"
            row = conn.execute(
                submissions.insert()
                .values(
                    paper_id=paper_id,
                    user_id=user_id,
                    day=day,
                    created=dialect.now(self.dialect),
                    status=status,
                )
                .returning(*_SUBMISSION_COLUMNS)
            ).one()
        return _submission(row)

    def submission(self, paper_id: str) -> Submission | None:
        with self.read() as conn:
            row = conn.execute(
                select(*_SUBMISSION_COLUMNS).where(submissions.c.paper_id == paper_id)
            ).first()
        return _submission(row) if row else None

    def settle_submission(self, paper_id: str, *, reason: str | None = None) -> bool:
        """A pending submission becomes ``ready`` (or ``rejected`` with ``reason``); False
        when there was no pending one (settled already: jobs may run twice)."""
        status = "rejected" if reason else "ready"
        with self.write() as conn:
            _bump(conn)
            changed = conn.execute(
                update(submissions)
                .where(submissions.c.paper_id == paper_id, submissions.c.status == "pending")
                .values(status=status, reason=reason)
            ).rowcount
        return changed > 0

    # --- comments -----------------------------------------------------------------------

    def add_comment(
        self, paper_id: str, user_id: int, body: str, parent_id: int | None = None
    ) -> Comment:
        """A new comment; a reply to a reply becomes a reply to its top-level comment, so
        threads stay one level deep."""
        with self.write() as conn:
            _bump(conn)
            pk = _paper_pk(conn, paper_id)
            if parent_id is not None:
                parent = conn.execute(
                    select(comments.c.paper_pk, comments.c.parent_id).where(
                        comments.c.id == parent_id
                    )
                ).first()
                if parent is None or parent.paper_pk != pk:
                    raise InvalidInput(f"no comment {parent_id} on {paper_id} to reply to")
                parent_id = parent.parent_id or parent_id
            new_id = conn.execute(
                comments.insert()
                .values(
                    paper_pk=pk,
                    user_id=user_id,
                    parent_id=parent_id,
                    body=body,
                    created=dialect.now(self.dialect),
                )
                .returning(comments.c.id)
            ).scalar_one()
            return _comment(conn.execute(_comments_query(comments.c.id == new_id)).one())

    def comment(self, comment_id: int) -> Comment | None:
        with self.read() as conn:
            row = conn.execute(_comments_query(comments.c.id == comment_id)).first()
        return _comment(row) if row else None

    def comments(self, paper_id: str, *, with_hidden: bool = False) -> list[Comment]:
        """The paper's comments, oldest first (replies after their parent in that order;
        the caller nests them). Deleted ones stay as blanks so replies keep their place."""
        where: list[ColumnElement[bool]] = [papers.c.id == paper_id]
        if not with_hidden:
            where.append(comments.c.hidden == false())
        with self.read() as conn:
            rows = conn.execute(_comments_query(*where).order_by(comments.c.id)).all()
        return [_comment(row) for row in rows]

    def edit_comment(self, comment_id: int, user_id: int, body: str) -> Comment:
        return self._change_comment(
            comment_id, user_id, body=body, edited=dialect.now(self.dialect)
        )

    def delete_comment(self, comment_id: int, user_id: int) -> Comment:
        return self._change_comment(comment_id, user_id, body="", deleted=True)

    def _change_comment(self, comment_id: int, user_id: int, **values: Any) -> Comment:
        """Change the user's own comment (not deleted); :class:`NotFound` otherwise, the
        same answer for someone else's comment as for none, which reveals nothing."""
        with self.write() as conn:
            _bump(conn)
            changed = conn.execute(
                update(comments)
                .where(
                    comments.c.id == comment_id,
                    comments.c.user_id == user_id,
                    comments.c.deleted == false(),
                )
                .values(**values)
            ).rowcount
            if not changed:
                raise NotFound(f"no comment {comment_id} of yours")
            return _comment(conn.execute(_comments_query(comments.c.id == comment_id)).one())

    def set_comment_hidden(self, comment_id: int, hidden: bool) -> Comment:
        with self.write() as conn:
            _bump(conn)
            changed = conn.execute(
                update(comments).where(comments.c.id == comment_id).values(hidden=hidden)
            ).rowcount
            if not changed:
                raise NotFound(f"no comment {comment_id}")
            return _comment(conn.execute(_comments_query(comments.c.id == comment_id)).one())

    # --- moderation of papers -----------------------------------------------------------

    def set_paper_hidden(self, paper_id: str, admin_id: int, hidden: bool) -> None:
        with self.write() as conn:
            _bump(conn)
            pk = conn.execute(select(papers.c.pk).where(papers.c.id == paper_id)).scalar()
            if pk is None:
                raise NotFound(f"{paper_id} is not in this store")
            if hidden:
                conn.execute(
                    dialect.insert(self.dialect, hidden_papers)
                    .values(paper_pk=pk, user_id=admin_id, created=dialect.now(self.dialect))
                    .on_conflict_do_nothing()
                )
            else:
                conn.execute(delete(hidden_papers).where(hidden_papers.c.paper_pk == pk))

    def hidden_paper_ids(self) -> set[str]:
        query = select(papers.c.id).select_from(
            hidden_papers.join(papers, papers.c.pk == hidden_papers.c.paper_pk)
        )
        with self.read() as conn:
            return set(conn.execute(query).scalars())

    # --- GitHub stars ---------------------------------------------------------------------

    def snapshot_stars(self, day: str) -> int:
        """Keep every paper's current GitHub star count as that of ``day``; returns how
        many papers have one. Taken again the same day, it replaces that day's counts."""
        statement = dialect.insert(self.dialect, star_counts).from_select(
            ["paper_pk", "day", "stars"],
            select(papers.c.pk, func.cast(day, Text), papers.c.github_stars).where(
                papers.c.github_stars.is_not(None)
            ),
        )
        statement = statement.on_conflict_do_update(
            index_elements=["paper_pk", "day"], set_={"stars": statement.excluded.stars}
        )
        with self.write() as conn:
            _bump(conn)
            conn.execute(statement)
            return conn.execute(
                select(func.count()).select_from(star_counts).where(star_counts.c.day == day)
            ).scalar_one()


_BUMP = update(community_version).values(version=community_version.c.version + 1)
_PAPER_PK = select(papers.c.pk, papers.c.upvotes).where(
    papers.c.id == bindparam("paper_id"), _visible()
)


def _bump(conn: Connection) -> None:
    conn.execute(_BUMP)


def _paper_pk(conn: Connection, paper_id: str) -> int:
    """The surrogate key of a visible paper; NotFound else."""
    row = conn.execute(_PAPER_PK, {"paper_id": paper_id}).first()
    if row is None:
        raise NotFound(f"{paper_id} is not in this store")
    return row.pk


def _comments_query(*where: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*_COMMENT_COLUMNS)
        .select_from(
            comments.join(papers, papers.c.pk == comments.c.paper_pk).join(
                users, users.c.id == comments.c.user_id
            )
        )
        .where(*where)
    )


def _ready_submission() -> ColumnElement[bool]:
    return and_(submissions.c.paper_id == papers.c.id, submissions.c.status == "ready")


def _curated_filter(name: str, by_submitter: bool) -> list[ColumnElement[bool]]:
    """Visible papers on the curated lists of the days bound as ``first``..``last`` (and,
    ``by_submitter``, submitted by the user name bound as ``submitter``), for the database
    ``name``d."""
    where = [_visible(), _on_curated_days(name, bindparam("first"), bindparam("last"))]
    if by_submitter:
        where.append(papers.c.submitted_by == bindparam("submitter"))
    return where


def _submitted_here() -> Any:
    """Whether the paper of the row has a ready submission here (which sets its day)."""
    return (
        select(submissions.c.paper_id)
        .where(_ready_submission())
        .correlate_except(submissions)
        .exists()
    )


def _on_curated_days(name: str, first: Any, last: Any) -> ColumnElement[bool]:
    """On a curated list of ``first``..``last``: submitted here then, or (never submitted
    here) featured by Hugging Face then. Both halves are conditions on ``papers`` alone,
    each with an index (the submissions' day, the papers' ``submitted_on``), so the
    databases answer the OR as two index ranges instead of scanning every paper joined to
    its submission (seconds at 2.7 million papers; see :func:`dialect.among`)."""
    return or_(
        dialect.among(
            name,
            papers.c.id,
            select(submissions.c.paper_id)
            .where(submissions.c.day.between(first, last), submissions.c.status == "ready")
            .correlate(None),
        ),
        and_(papers.c.submitted_on.between(first, last), ~_submitted_here()),
    )


def _star_growth(since: str) -> ColumnElement[Any]:
    """Stars gained since the oldest snapshot on or after ``since`` (NULL without one)."""
    oldest = (
        select(star_counts.c.stars)
        .where(star_counts.c.paper_pk == papers.c.pk, star_counts.c.day >= since)
        .order_by(star_counts.c.day)
        .limit(1)
        .scalar_subquery()
    )
    return papers.c.github_stars - oldest
