"""Alembic migrations, kept inside the package and run programmatically (``store/engine.py``),
so users need no ``alembic.ini``. Revisions are numbered ``0001``, ``0002``, ...; each runs on
both backends. To write one: copy the newest file in ``versions/``, bump ``revision`` and set
``down_revision`` to the previous number."""
