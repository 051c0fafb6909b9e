"""Authors and categories as indexed tables; one write path for both backends.

- ``paper_authors`` and ``paper_categories`` (``store/papers.py``), filled from the papers
  held: author and category pages read an index range instead of scanning JSON.
- SQLite's FTS5 table goes: only author pages read it, and ranked full text is tantivy's.
  PostgreSQL's GIN indexes of the JSON arrays go for the same reason.
- Keys, revisions and the data version are numbered by the store on both backends, under
  its writer lock: PostgreSQL's identity, revision sequence and triggers go; SQLite gets
  the ``data_version`` counter PostgreSQL had.
- ``pacing``: request slots shared by every process (``store/jobs.py``).
- The DOI index is on ``lower(doi)`` on both; PostgreSQL's index of ``published`` (which no
  query used) goes; PostgreSQL gets the ``code`` column of embeddings too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paperstand.store.papers import backfill_index_tables

revision = "0003"
down_revision = "0002"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP INDEX papers_authors")
        op.execute("DROP INDEX papers_categories")
        op.execute("DROP INDEX papers_published")
        op.execute("DROP TRIGGER papers_rev ON papers")
        op.execute("DROP FUNCTION papers_next_rev()")
        op.execute("ALTER TABLE papers ALTER COLUMN rev DROP DEFAULT")
        op.execute("DROP SEQUENCE papers_rev_seq")
        op.execute("ALTER TABLE papers ALTER COLUMN rev SET DEFAULT 0")
        op.execute("ALTER TABLE papers ALTER COLUMN pk DROP IDENTITY")
        op.execute("DROP TRIGGER papers_version ON papers")
        op.execute("DROP FUNCTION bump_data_version()")
        op.add_column("embeddings", sa.Column("code", sa.LargeBinary))
    else:
        op.execute("DROP TABLE papers_fts")
        op.create_table(
            "data_version",
            sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True),
            sa.Column("version", sa.BigInteger, nullable=False),
        )
        op.execute(
            "INSERT INTO data_version (id, version) SELECT 1, coalesce(max(rev), 0) FROM papers"
        )
    op.drop_index("papers_doi", "papers")
    op.create_index(
        "papers_doi",
        "papers",
        [sa.text("lower(doi)")],
        sqlite_where=sa.text("doi IS NOT NULL"),
        postgresql_where=sa.text("doi IS NOT NULL"),
    )
    op.create_table(
        "paper_authors",
        sa.Column("pk", Key, sa.ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("day", sa.Text),
        sa.Column("paper_id", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "paper_categories",
        sa.Column("pk", Key, sa.ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("category", sa.Text, primary_key=True),
        sa.Column("day", sa.Text),
        sa.Column("paper_id", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    backfill_index_tables(op.get_bind())
    # Indexes after the rows: one sort instead of a B-tree insert per row.
    op.create_index("paper_authors_name", "paper_authors", ["name_key", "day", "paper_id"])
    op.create_index("paper_categories_day", "paper_categories", ["category", "day", "paper_id"])
    op.create_table(
        "pacing",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("next_at", sa.Float, nullable=False),
    )
