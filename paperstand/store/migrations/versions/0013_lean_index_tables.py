"""Lean author and category rows: at 2.7 million papers they and their indexes were 2.5 GB of
a 5.4 GB database (docs/benchmarks.md, "Bytes at 2.73M papers").

- Both tables are keyed, and clustered, by (``name_key`` or ``category``, day, paper id):
  the table is the page's index, so ``paper_authors_name`` and ``paper_categories_day`` go.
- The day is a number (days since 1970-01-01; ``papers.NO_DAY`` for none) instead of text.
- ``paper_authors`` loses ``name`` (a claim reads it from the paper) and ``position``, and
  an author named twice on one paper is one row; ``paper_authors_key_pk`` goes (a follow
  reads the author's range of the table).
- ``paper_authors_load`` and ``paper_categories_load``: where a bulk load stages the rows.

The rows are copied from the old tables in key order (the old page indexes give that order,
so SQLite appends them without a sort). SQLite keeps the freed pages for reuse: ``VACUUM``
gives them back to the file system.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paperstand.store.papers import NO_DAY

revision = "0013"
down_revision = "0012"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD = {"paper_authors": "name_key", "paper_categories": "category"}


def _day_number(day: sa.ColumnElement) -> sa.ColumnElement:
    """``papers.day_number`` in SQL, for the text days of the old rows."""
    if op.get_bind().dialect.name == "postgresql":
        number = sa.cast(day, sa.Date) - sa.cast(sa.literal("1970-01-01"), sa.Date)
    else:
        number = sa.cast(sa.func.julianday(day) - 2440587.5, sa.Integer)
    return sa.func.coalesce(number, NO_DAY)


def upgrade() -> None:
    for name, key in OLD.items():
        op.rename_table(name, f"{name}_old")
        op.create_table(
            name,
            sa.Column(key, sa.Text, nullable=False),
            sa.Column("day", sa.Integer, nullable=False, autoincrement=False),
            sa.Column("paper_id", sa.Text, nullable=False),
            sa.Column("pk", Key, nullable=False),
            sa.PrimaryKeyConstraint(key, "day", "paper_id", name=f"{name}_key"),
            sqlite_with_rowid=False,
        )
        op.create_table(
            f"{name}_load",
            sa.Column("pk", Key, primary_key=True, autoincrement=False),
            sa.Column(key, sa.Text, primary_key=True),
            sa.Column("day", sa.Integer, nullable=False),
            sa.Column("paper_id", sa.Text, nullable=False),
            sqlite_with_rowid=False,
        )
        old = sa.table(f"{name}_old", *map(sa.column, (key, "day", "paper_id", "pk")))
        new = sa.table(name, *map(sa.column, (key, "day", "paper_id", "pk")))
        order = (old.c[key], old.c.day, old.c.paper_id)
        rows = (
            sa.select(*order[:1], _day_number(old.c.day), old.c.paper_id, sa.func.min(old.c.pk))
            .group_by(*order)
            .order_by(*order)
        )
        op.execute(sa.insert(new).from_select([key, "day", "paper_id", "pk"], rows))
        op.drop_table(f"{name}_old")
    op.create_index("paper_categories_pk", "paper_categories", ["category", "pk"])


def downgrade() -> None:
    raise NotImplementedError("the author names as spelled are not kept: restore a backup")
