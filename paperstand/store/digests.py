"""Email digests in the store: subscribers, the send ledger and the days the schedule finished.

The ledger (``digest_sends``) is what makes each digest go out once per subscriber and
period, however many workers send and however often a send is rerun: a sender first
*claims* the row (subscriber, period) under a lease, then sends, then marks it sent. A row
whose sender died keeps its claim until the lease runs out; then another sender may take it
over, reusing the Message-ID stored at the first claim (see ``digest/sender.py`` for the
window between the SMTP server's acceptance and the mark).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Row,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    delete,
    func,
    select,
    update,
)

from paperstand.store import dialect
from paperstand.store.part import Part
from paperstand.store.schema import Json, Key, Stamp, metadata, stamp_text

Flag = Boolean(create_constraint=False)

digest_subscribers = Table(
    "digest_subscribers",
    metadata,
    Column("id", Key, primary_key=True),
    Column("email", Text, nullable=False, unique=True),  # lower-cased
    Column("user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), index=True),
    # pending (not confirmed yet), confirmed, unsubscribed, bounced (a permanent SMTP error)
    Column("status", Text, nullable=False),
    Column("weekly", Flag, nullable=False, server_default="0"),
    Column("weekends", Flag, nullable=False, server_default="0"),
    Column("sections", Json, nullable=False),  # e.g. ["daily", "trending", "follows"]
    Column("categories", Json, nullable=False, server_default="[]"),
    Column("authors", Json, nullable=False, server_default="[]"),
    Column("searches", Json, nullable=False, server_default="[]"),
    Column("created", Stamp, nullable=False),
    Column("confirmed", Stamp),
    Column("problem", Text),  # why mail stopped: the SMTP server's permanent refusal
)
Index("digest_subscribers_status", digest_subscribers.c.status)

digest_sends = Table(
    "digest_sends",
    metadata,
    Column(
        "subscriber_id",
        Key,
        ForeignKey("digest_subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("period", Text, primary_key=True),  # "day:2026-04-30" or "week:2026-W18"
    Column("status", Text, nullable=False),  # sending, sent, refused
    Column("message_id", Text, nullable=False),
    Column("worker", Text, nullable=False),
    Column("lease_until", Stamp, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="1"),
    Column("sent", Stamp),
)

digest_days = Table(
    "digest_days",
    metadata,
    Column("day", Text, primary_key=True),  # a day the schedule has ingested and sent
    Column("finished", Stamp, nullable=False),
)

STATUSES = ("pending", "confirmed", "unsubscribed", "bounced")


@dataclass
class Subscriber:
    id: int
    email: str
    status: str
    weekly: bool = False
    weekends: bool = False
    sections: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    user_id: int | None = None
    created: str = ""
    confirmed: str | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class Claim:
    """A ledger row this sender holds: send the digest with this Message-ID, then mark it."""

    subscriber: Subscriber
    message_id: str
    attempts: int


def _subscriber(row: Row[Any]) -> Subscriber:
    return Subscriber(
        id=row.id,
        email=row.email,
        status=row.status,
        weekly=bool(row.weekly),
        weekends=bool(row.weekends),
        sections=list(row.sections),
        categories=list(row.categories),
        authors=list(row.authors),
        searches=list(row.searches),
        user_id=row.user_id,
        created=stamp_text(row.created) or "",
        confirmed=stamp_text(row.confirmed),
        problem=row.problem,
    )


PREFERENCES = ("weekly", "weekends", "sections", "categories", "authors", "searches")


class DigestStore(Part):
    """The store's ``digests`` part."""

    # --- subscribers ----------------------------------------------------------------------

    def subscriber(self, subscriber_id: int) -> Subscriber | None:
        with self.read() as conn:
            row = conn.execute(
                select(digest_subscribers).where(digest_subscribers.c.id == subscriber_id)
            ).first()
        return _subscriber(row) if row else None

    def subscriber_by_email(self, email: str) -> Subscriber | None:
        with self.read() as conn:
            row = conn.execute(
                select(digest_subscribers).where(digest_subscribers.c.email == email)
            ).first()
        return _subscriber(row) if row else None

    def save_subscriber(
        self, email: str, status: str, preferences: dict[str, Any], user_id: int | None = None
    ) -> Subscriber:
        """Create the subscriber of ``email``, or replace its status and preferences (a new
        subscription of a known address starts over, its ledger kept)."""
        values = {name: preferences[name] for name in PREFERENCES}
        confirmed = dialect.now(self.dialect) if status == "confirmed" else None
        statement = (
            dialect.insert(self.dialect, digest_subscribers)
            .values(
                email=email,
                status=status,
                user_id=user_id,
                created=dialect.now(self.dialect),
                confirmed=confirmed,
                **values,
            )
            .on_conflict_do_update(
                index_elements=[digest_subscribers.c.email],
                set_={
                    "status": status,
                    "confirmed": confirmed,
                    "problem": None,
                    "user_id": func.coalesce(user_id, digest_subscribers.c.user_id),
                    **values,
                },
            )
            .returning(*digest_subscribers.c)
        )
        with self.write() as conn:
            return _subscriber(conn.execute(statement).one())

    def set_preferences(self, subscriber_id: int, preferences: dict[str, Any]) -> Subscriber:
        values = {name: preferences[name] for name in PREFERENCES}
        with self.write() as conn:
            row = conn.execute(
                update(digest_subscribers)
                .where(digest_subscribers.c.id == subscriber_id)
                .values(**values)
                .returning(*digest_subscribers.c)
            ).one()
        return _subscriber(row)

    def set_status(
        self, subscriber_id: int, status: str, *, only_from: Sequence[str] | None = None
    ) -> Subscriber | None:
        """Move the subscriber to ``status`` (only from one of ``only_from`` when given);
        None when it is not there (or not in such a state)."""
        values: dict[str, Any] = {"status": status}
        if status == "confirmed":
            values["confirmed"] = dialect.now(self.dialect)
        statement = update(digest_subscribers).where(digest_subscribers.c.id == subscriber_id)
        if only_from is not None:
            statement = statement.where(digest_subscribers.c.status.in_(only_from))
        with self.write() as conn:
            row = conn.execute(statement.values(**values).returning(*digest_subscribers.c)).first()
        return _subscriber(row) if row else None

    def subscribers(self, *, status: str | None = None) -> list[Subscriber]:
        statement = select(digest_subscribers).order_by(digest_subscribers.c.id)
        if status is not None:
            statement = statement.where(digest_subscribers.c.status == status)
        with self.read() as conn:
            return [_subscriber(row) for row in conn.execute(statement)]

    # --- the send ledger ------------------------------------------------------------------

    def claim(
        self,
        period: str,
        message_ids: dict[int, str],
        subscribers: Sequence[Subscriber],
        worker: str,
        lease: float,
    ) -> list[Claim]:
        """Claim the ledger rows of ``subscribers`` for ``period`` that nobody holds: new
        rows, and rows still ``sending`` whose lease ran out (their sender died). Returns
        what this ``worker`` now holds, each with the Message-ID of its first claim."""
        ids = [s.id for s in subscribers]
        now = dialect.now(self.dialect)
        until = dialect.later(self.dialect, lease)
        rows = [
            {
                "subscriber_id": s.id,
                "period": period,
                "status": "sending",
                "message_id": message_ids[s.id],
            }
            for s in subscribers
        ]
        ledger = digest_sends.c
        with self.write() as conn:
            if rows:
                conn.execute(
                    dialect.insert(self.dialect, digest_sends)
                    .values(worker=worker, lease_until=until)
                    .on_conflict_do_nothing(),
                    rows,
                )
            conn.execute(
                update(digest_sends)
                .where(
                    ledger.period == period,
                    ledger.subscriber_id.in_(ids),
                    ledger.status == "sending",
                    ledger.worker != worker,
                    ledger.lease_until < now,
                )
                .values(worker=worker, lease_until=until, attempts=ledger.attempts + 1)
            )
            held = conn.execute(
                select(ledger.subscriber_id, ledger.message_id, ledger.attempts).where(
                    ledger.period == period,
                    ledger.subscriber_id.in_(ids),
                    ledger.status == "sending",
                    ledger.worker == worker,
                )
            ).all()
        by_id = {s.id: s for s in subscribers}
        return [Claim(by_id[row.subscriber_id], row.message_id, row.attempts) for row in held]

    def _mine(self, subscriber_id: int, period: str, worker: str) -> Any:
        ledger = digest_sends.c
        return and_(
            ledger.subscriber_id == subscriber_id,
            ledger.period == period,
            ledger.worker == worker,
            ledger.status == "sending",
        )

    @cached_property
    def _mark(self) -> Update:
        """The mark of one sent row, built once with bound parameters: a send runs it once
        per message, and building the statement cost several times more CPU than SQLite
        took to run it."""
        return (
            update(digest_sends)
            .where(self._mine(bindparam("b_id"), bindparam("b_period"), bindparam("b_worker")))
            .values(status="sent", sent=dialect.now(self.dialect))
        )

    def mark_sent(
        self, subscriber_id: int, period: str, worker: str, renew: float | None = None
    ) -> bool:
        """Mark the row sent. With ``renew`` (seconds), in the same transaction renew the
        lease of the other rows this worker holds for ``period``, so a sender that makes
        progress keeps its batch; the sender asks for that only now and then, as renewing
        visits every row of the period."""
        ledger = digest_sends.c
        with self.write() as conn:
            marked = conn.execute(
                self._mark, {"b_id": subscriber_id, "b_period": period, "b_worker": worker}
            ).rowcount
            if renew is not None:
                conn.execute(
                    update(digest_sends)
                    .where(
                        ledger.period == period,
                        ledger.worker == worker,
                        ledger.status == "sending",
                    )
                    .values(lease_until=dialect.later(self.dialect, renew))
                )
        return marked > 0

    def release(self, subscriber_id: int, period: str, worker: str) -> None:
        """Give a claim back unsent (nothing to send, or the server kept failing): a later
        run tries again."""
        with self.write() as conn:
            conn.execute(delete(digest_sends).where(self._mine(subscriber_id, period, worker)))

    def mark_refused(self, subscriber_id: int, period: str, worker: str, problem: str) -> None:
        """A permanent refusal: the ledger row is closed and the address is mailed no more."""
        with self.write() as conn:
            conn.execute(
                update(digest_sends)
                .where(self._mine(subscriber_id, period, worker))
                .values(status="refused")
            )
            conn.execute(
                update(digest_subscribers)
                .where(digest_subscribers.c.id == subscriber_id)
                .values(status="bounced", problem=problem)
            )

    def ledger(self, period: str | None = None) -> list[dict[str, Any]]:
        """The ledger rows (of one period), for admins and tests."""
        statement = select(digest_sends).order_by(
            digest_sends.c.period, digest_sends.c.subscriber_id
        )
        if period is not None:
            statement = statement.where(digest_sends.c.period == period)
        with self.read() as conn:
            return [
                {
                    **row._asdict(),
                    "lease_until": stamp_text(row.lease_until),
                    "sent": stamp_text(row.sent),
                }
                for row in conn.execute(statement)
            ]

    # --- the schedule's days --------------------------------------------------------------

    def last_finished_day(self) -> str | None:
        with self.read() as conn:
            return conn.execute(select(func.max(digest_days.c.day))).scalar()

    def finish_day(self, day: str) -> None:
        with self.write() as conn:
            conn.execute(
                dialect.insert(self.dialect, digest_days)
                .values(day=day, finished=dialect.now(self.dialect))
                .on_conflict_do_nothing()
            )
