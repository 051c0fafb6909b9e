"""Email digests: subscribers, the send ledger, the days the schedule finished
(``store/digests.py``)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision = "0004"
down_revision = "0003"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.Text().with_variant(TIMESTAMP(timezone=True), "postgresql")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Flag = sa.Boolean(create_constraint=False)


def upgrade() -> None:
    op.create_table(
        "digest_subscribers",
        sa.Column("id", Key, sa.Identity(always=True), primary_key=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("user_id", Key, sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("weekly", Flag, nullable=False, server_default="0"),
        sa.Column("weekends", Flag, nullable=False, server_default="0"),
        sa.Column("sections", Json, nullable=False),
        sa.Column("categories", Json, nullable=False, server_default="[]"),
        sa.Column("authors", Json, nullable=False, server_default="[]"),
        sa.Column("searches", Json, nullable=False, server_default="[]"),
        sa.Column("created", Stamp, nullable=False),
        sa.Column("confirmed", Stamp),
        sa.Column("problem", sa.Text),
    )
    op.create_index("ix_digest_subscribers_user_id", "digest_subscribers", ["user_id"])
    op.create_index("digest_subscribers_status", "digest_subscribers", ["status"])
    op.create_table(
        "digest_sends",
        sa.Column(
            "subscriber_id",
            Key,
            sa.ForeignKey("digest_subscribers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("period", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("worker", sa.Text, nullable=False),
        sa.Column("lease_until", Stamp, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("sent", Stamp),
    )
    op.create_table(
        "digest_days",
        sa.Column("day", sa.Text, primary_key=True),
        sa.Column("finished", Stamp, nullable=False),
    )
