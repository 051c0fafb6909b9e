"""``paperstand lists import`` and ``export``: move a reader's reading list in from a BibTeX
file or a file of pasted references, as the list page's import form does (the same service,
the same report as JSON on stdout), and out as BibTeX, CSV, JSON or Markdown, the very files
the list's page offers (``paperstand.exports``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from paperstand import exports, library
from paperstand.cli.app import app, err, print_json, settings, store_for
from paperstand.errors import InvalidInput
from paperstand.store import Store

lists_app = typer.Typer(
    help="Reading lists: import references or a BibTeX file into one, export one."
)
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
    with store_for(ctx) as store:
        report = library.import_references(
            store,
            _user_id(ctx, store, email),
            list_id,
            text="" if is_bibtex else text,
            bibtex=text if is_bibtex else "",
        )
    print_json(report.to_dict())


def _user_id(ctx: typer.Context, store: Store, email: str) -> int:
    """The id of the account with this email (:class:`NotFound` when there is none)."""
    from paperstand.accounts.service import Accounts

    return Accounts(store, settings(ctx)).by_email(email).id


@lists_app.command("export")
def export(
    ctx: typer.Context,
    list_id: Annotated[int, typer.Argument(metavar="LIST_ID", help="The list's id.", min=1)],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="bib, csv, json or md.", metavar="FORMAT")
    ] = "bib",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            "--email",
            help="Export as this account: its private lists too (without it: public lists "
            "only, as a visitor of the site sees them).",
        ),
    ] = None,
) -> None:
    """Write a list in its order as BibTeX, CSV, JSON or Markdown, as the list's page
    offers it. A private list is exported only for its owner (``--email``); for anyone
    else it is no list at all."""
    with store_for(ctx) as store:
        viewer = _user_id(ctx, store, email) if email is not None else None
        view = library.list_view(store, list_id, viewer)
        # The Markdown links each paper to its page on the site ($PAPERSTAND_BASE_URL).
        body = exports.export_list(view, fmt, settings(ctx).base_url.rstrip("/"))
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(body)
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror}") from None
    err.print(f"wrote {len(view.entries):,} papers to {output}", highlight=False)
