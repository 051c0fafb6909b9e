"""Topics: the topic map (``topic_fit``, ``topic_clusters``, ``topic_points``) and the
keywords extracted for each paper (``paper_keywords``); ``paperstand/store/topics.py`` says
why they look as they do."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision = "0005"
down_revision = "0004"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.Text().with_variant(TIMESTAMP(timezone=True), "postgresql")


def _paper() -> sa.ForeignKey:
    return sa.ForeignKey("papers.pk", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "topic_fit",
        sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("fitted_at", Stamp, nullable=False),
    )
    op.create_table(
        "topic_clusters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("keywords", Json, nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("centroid", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "topic_points",
        sa.Column("paper_pk", Key, _paper(), primary_key=True, autoincrement=False),
        sa.Column("cluster", sa.Integer, nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
    )
    op.create_index("topic_points_cluster", "topic_points", ["cluster"])
    op.create_table(
        "paper_keywords",
        sa.Column("paper_pk", Key, _paper(), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("keyword", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("paper_pk", "rank"),
    )


def downgrade() -> None:
    op.drop_table("paper_keywords")
    op.drop_table("topic_points")
    op.drop_table("topic_clusters")
    op.drop_table("topic_fit")
