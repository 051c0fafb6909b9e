"""Follows and author claims: ``follows``, ``claims``, ``author_hidden``, and the indexes that
find an author's or a category's newest papers (``paperstand/store/follows.py`` describes why
they look as they do)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision = "0007"
down_revision = "0006"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.Text().with_variant(TIMESTAMP(timezone=True), "postgresql")


def _paper() -> sa.ForeignKey:
    return sa.ForeignKey("papers.pk", ondelete="CASCADE")


def _user() -> sa.ForeignKey:
    """Deleting an account deletes its follows, claims and the papers it hid."""
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", Key, sa.Identity(always=True), primary_key=True),
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column(
            "kind",
            sa.Text,
            sa.CheckConstraint("kind IN ('author', 'category', 'search')"),
            nullable=False,
        ),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("filters", Json, nullable=False, server_default="{}"),
        sa.Column("created", Stamp, nullable=False),
        sa.Column("seen_pk", sa.BigInteger, nullable=False),
        sa.Column("since_pk", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("user_id", "kind", "key", name="follows_user_kind_key"),
    )
    op.create_table(
        "claims",
        sa.Column("id", Key, sa.Identity(always=True), primary_key=True),
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("paper_pk", Key, _paper(), nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column(
            "status",
            sa.Text,
            sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')"),
            nullable=False,
        ),
        sa.Column("created", Stamp, nullable=False),
        sa.Column("decided", Stamp),
        sa.UniqueConstraint("user_id", "paper_pk", "name_key", name="claims_user_paper_name"),
    )
    op.create_index("claims_name_status", "claims", ["name_key", "status"])
    op.create_index("claims_status", "claims", ["status", "id"])
    op.create_table(
        "author_hidden",
        sa.Column("name_key", sa.Text, primary_key=True),
        sa.Column("paper_pk", Key, _paper(), primary_key=True),
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("created", Stamp, nullable=False),
    )
    op.create_index("paper_authors_key_pk", "paper_authors", ["name_key", "pk"])
    op.create_index("paper_categories_pk", "paper_categories", ["category", "pk"])


def downgrade() -> None:
    op.drop_index("paper_categories_pk", "paper_categories")
    op.drop_index("paper_authors_key_pk", "paper_authors")
    for table in ("author_hidden", "claims", "follows"):
        op.drop_table(table)
