"""Accounts: users, their sessions, API tokens and password-reset links, and the
rate-limit counters (``store/accounts.py``)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0002"
down_revision = "0001"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.Text().with_variant(TIMESTAMP(timezone=True), "postgresql")
Flag = sa.Boolean(create_constraint=False)


def _owner() -> sa.Column:
    return sa.Column("user_id", Key, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", Key, sa.Identity(always=True), primary_key=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("password_hash", sa.Text),
        sa.Column("is_admin", Flag, nullable=False, server_default="0"),
        sa.Column("banned", Flag, nullable=False, server_default="0"),
        sa.Column("created", Stamp, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("digest", sa.Text, primary_key=True),
        _owner(),
        sa.Column("created", Stamp, nullable=False),
        sa.Column("expires", Stamp, nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", Key, sa.Identity(always=True), primary_key=True),
        _owner(),
        sa.Column("digest", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created", Stamp, nullable=False),
        sa.Column("last_used", Stamp),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "password_resets",
        sa.Column("digest", sa.Text, primary_key=True),
        _owner(),
        sa.Column("expires", Stamp, nullable=False),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("rate_limits_expires_at", "rate_limits", ["expires_at"])
