"""Abstracts deflated on PostgreSQL too (``schema.PackedText``): there the column becomes
``bytea``, as ``text`` cannot hold deflated bytes. PostgreSQL compresses only rows over
2 kB, so it kept arXiv's abstracts (1.3 kB on average, most of a paper's row) whole: at
2.73 million papers they were 3.5 GB of a 4.4 GB table.

The rows of an older store are converted in one rewrite of the table, which leaves no dead
rows behind: the long abstracts are deflated in Python first, into a temporary table keyed
by the paper's pk, and the column's new value is read from there (``_PACKED``), or is the
text's UTF-8 bytes for short ones, which the column's type reads as they are. SQLite needs
nothing: it keeps deflated blobs in the same TEXT column beside plain text.

The downgrade inflates the deflated values in Python, then turns the bytes into text again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paperstand.store.dialect import insert_rows
from paperstand.store.schema import PACK_FROM, pack_bytes, unpack_text

revision = "0014"
down_revision = "0013"

BATCH = 10_000
# The column's new value in the rewrite: the deflated abstract when there is one.
_PACKED = """
CREATE FUNCTION pg_temp.packed_abstract(key bigint, abstract text) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT p.abstract FROM abstracts_packed p WHERE p.pk = key),
        convert_to(abstract, 'UTF8')
    )
$$
"""


def _retype(new_type: str, using: str, default: str) -> None:
    """Change ``papers.abstract`` to ``new_type``; its default (``''``) is dropped around
    the change, as PostgreSQL casts no text default to bytea or back by itself."""
    op.execute("ALTER TABLE papers ALTER COLUMN abstract DROP DEFAULT")
    op.execute(f"ALTER TABLE papers ALTER COLUMN abstract TYPE {new_type} USING {using}")
    op.execute(f"ALTER TABLE papers ALTER COLUMN abstract SET DEFAULT {default}")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    op.execute("CREATE TEMPORARY TABLE abstracts_packed (pk bigint PRIMARY KEY, abstract bytea)")
    packed = sa.table("abstracts_packed", sa.column("pk"), sa.column("abstract"))
    long = sa.text(
        "SELECT pk, abstract FROM papers WHERE pk > :after AND length(abstract) >= :size"
        " ORDER BY pk LIMIT :n"
    )
    after = 0
    while rows := conn.execute(long, {"after": after, "size": PACK_FROM, "n": BATCH}).all():
        insert_rows(conn, packed, ("pk", "abstract"), [(pk, pack_bytes(a)) for pk, a in rows])
        after = rows[-1][0]
    op.execute(_PACKED)
    _retype("bytea", "pg_temp.packed_abstract(pk, abstract)", "''::bytea")
    op.execute("DROP FUNCTION pg_temp.packed_abstract(bigint, text)")
    op.execute("DROP TABLE abstracts_packed")


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
        inflated = [unpack_text(value, "postgresql") or "" for _, value in rows]
        conn.execute(
            update,
            [{"pk": pk, "abstract": a.encode()} for (pk, _), a in zip(rows, inflated, strict=True)],
        )
        after = rows[-1][0]
    _retype("text", "convert_from(abstract, 'UTF8')", "''")
