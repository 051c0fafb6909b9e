"""Personal recommendations: thumbs up/down on papers and private feed tokens
(``paperstand/store/recs.py`` describes why they look as they do)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0011"
down_revision = "0010"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.Text().with_variant(TIMESTAMP(timezone=True), "postgresql")


def _user() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "rec_feedback",
        sa.Column("user_id", Key, _user(), nullable=False),
        sa.Column("paper_pk", Key, sa.ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("value", sa.Integer, sa.CheckConstraint("value IN (-1, 1)"), nullable=False),
        sa.Column("created", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_pk"),
    )
    op.create_index("rec_feedback_paper", "rec_feedback", ["paper_pk"])
    op.create_table(
        "rec_feed_tokens",
        sa.Column("user_id", Key, _user(), primary_key=True),
        sa.Column("digest", sa.Text, nullable=False, unique=True),
        sa.Column("created", Stamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rec_feed_tokens")
    op.drop_index("rec_feedback_paper", table_name="rec_feedback")
    op.drop_table("rec_feedback")
