"""``paperstand lists import``: fill a reader's reading list from a BibTeX file or a file of
pasted references, as the list page's import form does (the same service, the same report),
for moving a large Zotero library in from a script. The report is JSON on stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from paperstand import library
from paperstand.cli.app import app, print_json, settings, store_for
from paperstand.errors import InvalidInput

lists_app = typer.Typer(help="Reading lists: import references or a BibTeX file into one.")
app.add_typer(lists_app, name="lists")


def _read(path: Path) -> str:
    """The file's text (``-``: stdin); a clear error for what cannot be read as UTF-8."""
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None


@lists_app.command("import")
def import_(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The list owner's email.")],
    list_id: Annotated[int, typer.Argument(metavar="LIST_ID", help="The list's id.", min=1)],
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A BibTeX file (it starts with an @entry), or arXiv ids, links and DOIs; "
            "- reads stdin.",
        ),
    ],
) -> None:
    """Add the papers a file names to the end of a list, in one transaction; every
    reference not used is reported with why. Missing arXiv papers are queued for the
    worker to fetch."""
    text = _read(path)
    is_bibtex = text.lstrip().startswith("@")
    from paperstand.accounts.service import Accounts

    with store_for(ctx) as store:
        user = Accounts(store, settings(ctx)).by_email(email)
        report = library.import_references(
            store,
            user.id,
            list_id,
            text="" if is_bibtex else text,
            bibtex=text if is_bibtex else "",
        )
    print_json(report.to_dict())
