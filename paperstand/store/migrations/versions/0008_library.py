"""A reader's library: saved papers, reading lists and their items
(``paperstand/store/library.py`` describes why they look as they do)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0008"
down_revision = "0007"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.Text().with_variant(TIMESTAMP(timezone=True), "postgresql")


def _user() -> sa.ForeignKey:
    """Deleting an account deletes its library."""
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "saved_papers",
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("paper_id", sa.Text, nullable=False),
        sa.Column("created", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_id"),
    )
    op.create_table(
        "reading_lists",
        sa.Column("id", Key, sa.Identity(always=True), primary_key=True),
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "public", sa.Boolean(create_constraint=False), nullable=False, server_default="0"
        ),
        sa.Column("created", Stamp, nullable=False),
        sa.Column("updated", Stamp, nullable=False),
    )
    op.create_index("reading_lists_user", "reading_lists", ["user_id"])
    op.create_table(
        "list_items",
        sa.Column(
            "list_id",
            Key,
            sa.ForeignKey("reading_lists.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("paper_id", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("added", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("list_id", "paper_id"),
    )
    op.create_index("list_items_order", "list_items", ["list_id", "position"])
    op.create_index("list_items_paper", "list_items", ["paper_id"])
    op.create_table(
        "library_version",
        sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO library_version (id, version) VALUES (1, 0)")


def downgrade() -> None:
    for table in ("library_version", "list_items", "reading_lists", "saved_papers"):
        op.drop_table(table)
