"""Author and category rows keyed by (``name_key`` or ``category``, day, pk), with the pk a
four-byte integer and no paper id: the id only repeated what the pk already names, and at
2.73 million papers these two tables and their keys were a third of the PostgreSQL
database. A page then orders a day's papers by arrival (pk) instead of by id.

Each table is rebuilt, not altered: a new table is filled from the old one in key order (so
SQLite appends its rows, and PostgreSQL's heap lies in the key's order), the old one
dropped, the new one renamed; PostgreSQL then builds the key in one sort
(``dialect.insert_sorted``), and ``paper_categories_pk`` and the planner's statistics
follow. The bulk load's staging tables (``*_load``, empty unless a load was cut short) are
rebuilt the same way. The downgrade reads each row's paper id from papers by pk.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paperstand.store.dialect import drop_key, insert_sorted, refresh_statistics

revision = "0015"
down_revision = "0014"

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = {"paper_authors": "name_key", "paper_categories": "category"}


def _columns(key: str, lean: bool) -> list[str]:
    """The columns of an author or category row, in either shape (``lean``: this
    revision's), its key's first."""
    return [key, "day", "pk"] if lean else [key, "day", "paper_id", "pk"]


def _table(name: str, key: str, lean: bool, key_name: str) -> sa.Table:
    """An author or category table in either shape, its primary key named ``key_name``."""
    columns = _columns(key, lean)
    types = {
        key: sa.Text,
        "day": sa.Integer,
        "paper_id": sa.Text,
        "pk": sa.Integer if lean else Key,
    }
    return sa.Table(
        name,
        sa.MetaData(),
        *(sa.Column(c, types[c], nullable=False, autoincrement=False) for c in columns),
        sa.PrimaryKeyConstraint(*columns[:3], name=key_name),
        sqlite_with_rowid=False,
    )


def _load(name: str, key: str, lean: bool) -> sa.Table:
    """A bulk load's staging table of ``name`` in either shape."""
    return sa.Table(
        f"{name}_load",
        sa.MetaData(),
        sa.Column("pk", sa.Integer if lean else Key, primary_key=True, autoincrement=False),
        sa.Column(key, sa.Text, primary_key=True),
        sa.Column("day", sa.Integer, nullable=False),
        *(() if lean else (sa.Column("paper_id", sa.Text, nullable=False),)),
        sqlite_with_rowid=False,
    )


def _migrate(lean: bool) -> None:
    """Rebuild both tables into the lean shape (``lean``) or back into revision 0014's.
    Rows a cut-short bulk load staged are moved into their table first, as the next
    ``ensure_indexes`` would have moved them, and the staging tables made anew, empty."""
    conn = op.get_bind()
    op.drop_index("paper_categories_pk", "paper_categories")
    papers = sa.table("papers", sa.column("pk"), sa.column("id"))
    for name, key in TABLES.items():
        old = _table(name, key, not lean, f"{name}_key")
        old_load = _load(name, key, not lean)
        conn.execute(
            old.insert().from_select(
                _columns(key, not lean),
                sa.select(*(old_load.c[c] for c in _columns(key, not lean))),
            )
        )
        old_load.drop(conn)
        _load(name, key, lean).create(conn)

        drop_key(conn, old)  # PostgreSQL: frees the key's name for the new table
        new = _table(f"{name}_new", key, lean, f"{name}_key")
        new.create(conn)
        if lean:
            rows = sa.select(old.c[key], old.c.day, old.c.pk)
        else:
            paper_id = papers.c.id.label("paper_id")
            rows = sa.select(old.c[key], old.c.day, paper_id, old.c.pk).join_from(
                old, papers, papers.c.pk == old.c.pk
            )
        order = [rows.selected_columns[c] for c in _columns(key, lean)[:3]]
        insert_sorted(conn, new, _columns(key, lean), rows.order_by(*order))
        old.drop(conn)
        op.rename_table(new.name, name)
    op.create_index("paper_categories_pk", "paper_categories", ["category", "pk"])
    refresh_statistics(conn, [sa.table(name) for name in TABLES])


def upgrade() -> None:
    _migrate(lean=True)


def downgrade() -> None:
    _migrate(lean=False)
