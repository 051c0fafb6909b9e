"""Source checkpoints: where a harvest resumes (an OAI-PMH resumption token, the last day
fetched), saved in the same transaction as the papers read before it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Table, Text, delete, select

from paperstand.sources.base import Checkpoint
from paperstand.store.dialect import insert
from paperstand.store.part import Part
from paperstand.store.schema import Json, metadata

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Json, nullable=False),
)


def write_checkpoint(conn: Connection, checkpoint: Checkpoint) -> None:
    """Save (or, with a value of None, forget) ``checkpoint`` in ``conn``'s transaction."""
    if checkpoint.value is None:
        conn.execute(delete(checkpoints).where(checkpoints.c.key == checkpoint.key))
        return
    statement = insert(conn.dialect.name, checkpoints).values(
        key=checkpoint.key, value=checkpoint.value
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[checkpoints.c.key], set_={"value": statement.excluded.value}
        )
    )


class CheckpointStore(Part):
    def get_checkpoint(self, key: str) -> dict[str, Any] | None:
        with self.read() as conn:
            return conn.execute(
                select(checkpoints.c.value).where(checkpoints.c.key == key)
            ).scalar()
