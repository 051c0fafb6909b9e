"""An index of extracted keywords by keyword: search's keyword facet looks papers up by one
(``TopicsStore.papers_with_keyword``) instead of scanning every paper's keywords."""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_index("paper_keywords_keyword", "paper_keywords", ["keyword"])


def downgrade() -> None:
    op.drop_index("paper_keywords_keyword", table_name="paper_keywords")
