"""Embeddings remember the ``embeddings_version`` that wrote them (``stamp``), so a process
holding the vectors in memory reads only what changed since it last looked instead of every
vector again (a minute at 2.7 million papers). Rows written before have none: a full load
reads them. ``embeddings_version.deleted`` is the version of the last deletion, after which
such a copy loads everything again (a deletion leaves no row to read)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.add_column("embeddings", sa.Column("stamp", sa.BigInteger))
    op.create_index("embeddings_stamp", "embeddings", ["stamp"])
    op.add_column(
        "embeddings_version",
        sa.Column("deleted", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("embeddings_version") as batch:
        batch.drop_column("deleted")
    op.drop_index("embeddings_stamp", table_name="embeddings")
    with op.batch_alter_table("embeddings") as batch:
        batch.drop_column("stamp")
