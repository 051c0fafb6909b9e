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

from paperstand.store.papers import name_key
from paperstand.store.schema import Json

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
    _backfill(op.get_bind())
    # Indexes after the rows: one sort instead of a B-tree insert per row.
    op.create_index("paper_authors_name", "paper_authors", ["name_key", "day", "paper_id"])
    op.create_index("paper_categories_day", "paper_categories", ["category", "day", "paper_id"])
    op.create_table(
        "pacing",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("next_at", sa.Float, nullable=False),
    )


def _backfill(conn: sa.Connection, batch_size: int = 5000) -> None:
    """Fill ``paper_authors`` and ``paper_categories`` from the papers held, in the layout
    of this revision (0013 gives them the one of ``store/papers.py``)."""
    papers = sa.table(
        "papers",
        sa.column("pk"),
        sa.column("id"),
        sa.column("authors", Json),
        sa.column("categories", Json),
        sa.column("submitted_on"),
        sa.column("listed"),
        sa.column("deleted", sa.Boolean),
    )
    authors = sa.table("paper_authors", *map(sa.column, AUTHOR_COLUMNS))
    categories = sa.table("paper_categories", *map(sa.column, CATEGORY_COLUMNS))
    day = sa.func.coalesce(papers.c.submitted_on, papers.c.listed)
    query = (
        sa.select(papers.c.pk, papers.c.id, papers.c.authors, papers.c.categories, day)
        .where(~papers.c.deleted)
        .order_by(papers.c.pk)
        .limit(batch_size)
    )
    last = 0
    while rows := conn.execute(query.where(papers.c.pk > last)).all():
        last = rows[-1][0]
        names = [
            (pk, position, name, name_key(name), when, pid)
            for pk, pid, written, _, when in rows
            for position, name in enumerate(written)
        ]
        listed = [
            (pk, category, when, pid)
            for pk, pid, _, written, when in rows
            for category in dict.fromkeys(written)
        ]
        for table, columns, values in (
            (authors, AUTHOR_COLUMNS, names),
            (categories, CATEGORY_COLUMNS, listed),
        ):
            if values:
                conn.execute(sa.insert(table), [dict(zip(columns, v, strict=True)) for v in values])


AUTHOR_COLUMNS = ("pk", "position", "name", "name_key", "day", "paper_id")
CATEGORY_COLUMNS = ("pk", "category", "day", "paper_id")
