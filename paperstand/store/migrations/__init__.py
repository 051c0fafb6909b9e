"""Numbered SQL scripts per dialect (``sqlite/``, ``postgres/``): ``NNNN_name.sql``, applied
in order by each backend's ``migrate()``, which records the number it reached."""

from __future__ import annotations

from importlib import resources


def migrations(dialect: str) -> list[tuple[int, str]]:
    """The numbered migration scripts of a dialect, in order: ``NNNN_name.sql``."""
    folder = resources.files(__name__) / dialect
    scripts = sorted(
        (int(entry.name.split("_", 1)[0]), entry.read_text())
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
    return scripts
