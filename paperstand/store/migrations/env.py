"""Alembic's entry point: migrates the connection ``store/engine.py`` hands over."""

from __future__ import annotations

from alembic import context

import paperstand.store  # noqa: F401 - every part puts its tables on the metadata
from paperstand.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
