"""Abstracts deflated on PostgreSQL too (``schema.PackedText``): there the column becomes
``bytea``, as ``text`` cannot hold deflated bytes. PostgreSQL compresses only rows over
2 kB, so it kept arXiv's abstracts (1.3 kB on average, most of a paper's row) whole: at
2.73 million papers they were 3.5 GB of a 4.4 GB table.

The text of an older store is converted in place as its UTF-8 bytes, which the column's
type reads as they are (one rewrite of the table, no work in Python); such a row shrinks
when its paper is written again. SQLite needs nothing: it keeps deflated blobs in the same
TEXT column beside plain text.

The downgrade inflates the deflated values in Python, then turns the bytes into text again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paperstand.store.schema import unpack_text

revision = "0014"
down_revision = "0013"

BATCH = 1000


def _retype(new_type: str, using: str, default: str) -> None:
    """Change ``papers.abstract`` to ``new_type``; its default (``''``) is dropped around
    the change, as PostgreSQL casts no text default to bytea or back by itself."""
    op.execute("ALTER TABLE papers ALTER COLUMN abstract DROP DEFAULT")
    op.execute(f"ALTER TABLE papers ALTER COLUMN abstract TYPE {new_type} USING {using}")
    op.execute(f"ALTER TABLE papers ALTER COLUMN abstract SET DEFAULT {default}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _retype("bytea", "convert_to(abstract, 'UTF8')", "''::bytea")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    deflated = sa.text(
        "SELECT pk, abstract FROM papers WHERE pk > :after"
        " AND substr(abstract, 1, 1) = CAST('\\x00' AS bytea) ORDER BY pk LIMIT :n"
    )
    update = sa.text("UPDATE papers SET abstract = :abstract WHERE pk = :pk")
    after = 0
    while rows := conn.execute(deflated, {"after": after, "n": BATCH}).all():
        conn.execute(
            update,
            [
                {"pk": pk, "abstract": unpack_text(value, "postgresql").encode()}
                for pk, value in rows
            ],
        )
        after = rows[-1][0]
    _retype("text", "convert_from(abstract, 'UTF8')", "''")
