"""Fewer index entries per ingested paper: what bulk ingestion writes besides the row.

- ``papers_primary_category`` goes: no query filters or sorts on the column (the topic
  map only reads it).
- ``papers_submitted_on`` keeps only the papers Hugging Face featured (``WHERE
  submitted_on IS NOT NULL``): the curated lists search it by range or for "not null", which
  the partial index serves, and arXiv listings, most of a store, no longer add an entry each.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.drop_index("papers_primary_category", "papers")
    op.drop_index("papers_submitted_on", "papers")
    op.create_index(
        "papers_submitted_on",
        "papers",
        ["submitted_on"],
        sqlite_where=sa.text("submitted_on IS NOT NULL"),
        postgresql_where=sa.text("submitted_on IS NOT NULL"),
    )
