"""``paperstand`` command line. Importing the command modules registers their commands."""

from __future__ import annotations

import sys

from paperstand.cli import (  # noqa: F401 - registers commands
    core,
    db,
    digest,
    ingest,
    lists,
    search,
    serve,
    topics,
    user,
    worker,
)
from paperstand.cli.app import app, err
from paperstand.errors import PaperstandError

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point: known errors become one line on stderr and a non-zero exit."""
    try:
        app()
    except PaperstandError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
