"""Community: submissions, votes, comments, hidden papers and GitHub-star snapshots
(``paperstand/store/community.py`` describes why they look as they do)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0006"
down_revision = "0005"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.Text().with_variant(TIMESTAMP(timezone=True), "postgresql")
Flag = sa.Boolean(create_constraint=False)


def _paper() -> sa.ForeignKey:
    return sa.ForeignKey("papers.pk", ondelete="CASCADE")


def _user() -> sa.ForeignKey:
    """Deleting an account deletes what it made here (its votes, comments, submissions)."""
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("paper_pk", Key, _paper(), nullable=False),
        sa.Column("created", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_pk"),
    )
    op.create_index("votes_paper", "votes", ["paper_pk"])
    op.create_table(
        "submissions",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("created", Stamp, nullable=False),
        sa.Column(
            "status",
            sa.Text,
            sa.CheckConstraint("status IN ('pending', 'ready', 'rejected')"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text),
    )
    op.create_index("submissions_day", "submissions", ["day"])
    op.create_index("submissions_user_day", "submissions", ["user_id", "day"])
    op.create_table(
        "comments",
        sa.Column("id", Key, sa.Identity(always=True), primary_key=True),
        sa.Column("paper_pk", Key, _paper(), nullable=False),
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("parent_id", Key, sa.ForeignKey("comments.id", ondelete="CASCADE")),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created", Stamp, nullable=False),
        sa.Column("edited", Stamp),
        sa.Column("deleted", Flag, nullable=False, server_default="0"),
        sa.Column("hidden", Flag, nullable=False, server_default="0"),
    )
    op.create_index("comments_paper", "comments", ["paper_pk", "id"])
    op.create_table(
        "hidden_papers",
        sa.Column("paper_pk", Key, _paper(), primary_key=True),
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("created", Stamp, nullable=False),
    )
    op.create_table(
        "star_counts",
        sa.Column("paper_pk", Key, _paper(), nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("stars", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("paper_pk", "day"),
    )
    op.create_table(
        "community_version",
        sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO community_version (id, version) VALUES (1, 0)")


def downgrade() -> None:
    for table in (
        "community_version",
        "star_counts",
        "hidden_papers",
        "comments",
        "submissions",
        "votes",
    ):
        op.drop_table(table)
