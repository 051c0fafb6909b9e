"""Personal recommendations in the store: a reader's thumbs up and down on papers, and the
private token of their "for you" RSS feed, written once for SQLite and PostgreSQL.

- **Feedback** is one row per (user, paper), the primary key: +1 (more like this; also what
  an onboarding pick or a pasted id of one's own paper records) or -1 (fewer like this). A
  new thumb replaces the old one; taking it back deletes the row.
- **Feed tokens**: one per user, stored as a digest (as API tokens are), so a leaked database
  does not give away readable feed links; a new one replaces the old.

The other signals live with their own areas (votes in ``community.py``); :meth:`RecsStore.
upvoted` reads them here, so the recommendation service needs one part for its signals.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    delete,
    select,
)

from paperstand.errors import NotFound
from paperstand.store import dialect
from paperstand.store.community import community_version, votes
from paperstand.store.embeddings import embeddings_version
from paperstand.store.papers import data_version
from paperstand.store.part import Part
from paperstand.store.schema import Key, Stamp, metadata, papers

rec_feedback = Table(
    "rec_feedback",
    metadata,
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("paper_pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("value", Integer, CheckConstraint("value IN (-1, 1)"), nullable=False),
    Column("created", Stamp, nullable=False),
    PrimaryKeyConstraint("user_id", "paper_pk"),
)
Index("rec_feedback_paper", rec_feedback.c.paper_pk)

rec_feed_tokens = Table(
    "rec_feed_tokens",
    metadata,
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", Text, nullable=False, unique=True),
    Column("created", Stamp, nullable=False),
)


CHUNK = 900


class RecsStore(Part):
    def versions(self) -> tuple[int, int, int]:
        """The papers', embeddings' and community's versions in one round trip: the feed's
        candidates (papers, their vectors, minus hidden ones) are cached under them."""
        query = select(
            *(
                select(table.c.version).scalar_subquery()
                for table in (data_version, embeddings_version, community_version)
            )
        )
        with self.read() as conn:
            row = conn.execute(query).one()
        return row[0], row[1], row[2]

    def set_feedback(self, user_id: int, paper_id: str, value: int) -> None:
        """Record the user's thumb on the paper: 1 up, -1 down, 0 takes it back.
        :class:`NotFound` for a paper not in the store."""
        with self.write() as conn:
            pk = conn.execute(
                select(papers.c.pk).where(papers.c.id == paper_id, ~papers.c.deleted)
            ).scalar()
            if pk is None:
                raise NotFound(f"{paper_id} is not in this store")
            where = (rec_feedback.c.user_id == user_id) & (rec_feedback.c.paper_pk == pk)
            conn.execute(delete(rec_feedback).where(where))
            if value:
                conn.execute(
                    rec_feedback.insert().values(
                        user_id=user_id,
                        paper_pk=pk,
                        value=1 if value > 0 else -1,
                        created=dialect.now(self.dialect),
                    )
                )

    def add_feedback(self, rows: Sequence[tuple[int, str, int]]) -> int:
        """Record many thumbs, (user id, paper id, 1 or -1) each, in one transaction (an
        onboarding's picks); papers not in the store are skipped. Returns how many were
        recorded."""
        wanted = list(dict.fromkeys(paper_id for _, paper_id, _ in rows))
        with self.write() as conn:
            pks: dict[str, int] = {}
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                pks.update(
                    conn.execute(
                        select(papers.c.id, papers.c.pk).where(
                            papers.c.id.in_(chunk), ~papers.c.deleted
                        )
                    ).all()
                )
            values = {
                (user_id, pks[paper_id]): 1 if value > 0 else -1
                for user_id, paper_id, value in rows
                if paper_id in pks and value
            }
            for (user_id, pk), _ in values.items():
                conn.execute(
                    delete(rec_feedback).where(
                        (rec_feedback.c.user_id == user_id) & (rec_feedback.c.paper_pk == pk)
                    )
                )
            if values:
                conn.execute(
                    rec_feedback.insert().values(created=dialect.now(self.dialect)),
                    [
                        {"user_id": user_id, "paper_pk": pk, "value": value}
                        for (user_id, pk), value in values.items()
                    ],
                )
        return len(values)

    def feedback(self, user_id: int) -> dict[str, int]:
        """The user's thumbs: paper id -> 1 or -1."""
        query = (
            select(papers.c.id, rec_feedback.c.value)
            .join_from(rec_feedback, papers, papers.c.pk == rec_feedback.c.paper_pk)
            .where(rec_feedback.c.user_id == user_id, ~papers.c.deleted)
        )
        with self.read() as conn:
            return dict(conn.execute(query).all())

    def upvoted(self, user_id: int) -> list[str]:
        """The ids of the papers the user upvoted, oldest vote first."""
        query = (
            select(papers.c.id)
            .join_from(votes, papers, papers.c.pk == votes.c.paper_pk)
            .where(votes.c.user_id == user_id, ~papers.c.deleted)
            .order_by(votes.c.created, papers.c.id)
        )
        with self.read() as conn:
            return list(conn.execute(query).scalars())

    def set_feed_token(self, user_id: int, digest: str) -> None:
        """Make ``digest`` the user's only feed token (the previous one stops working)."""
        with self.write() as conn:
            conn.execute(delete(rec_feed_tokens).where(rec_feed_tokens.c.user_id == user_id))
            conn.execute(
                rec_feed_tokens.insert().values(
                    user_id=user_id, digest=digest, created=dialect.now(self.dialect)
                )
            )

    def user_for_feed_token(self, digest: str) -> int | None:
        with self.read() as conn:
            return conn.execute(
                select(rec_feed_tokens.c.user_id).where(rec_feed_tokens.c.digest == digest)
            ).scalar()

    def has_feed_token(self, user_id: int) -> bool:
        with self.read() as conn:
            found = conn.execute(
                select(rec_feed_tokens.c.user_id).where(rec_feed_tokens.c.user_id == user_id)
            ).first()
        return found is not None
