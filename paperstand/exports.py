"""Papers and reading lists written out in the formats readers carry elsewhere: one paper
as paperstand's API object or as Markdown, and a whole list as BibTeX (``bibtex.py``), CSV,
JSON or Markdown.

One place for every face that writes them: the web's ``/lists/{id}.bib`` (``.csv``,
``.json``, ``.md``), the JSON API's list object and ``paperstand lists export``, so a file
is the same from the site and from a script. Who may read the list was decided before:
these take a :class:`~paperstand.library.ListView`.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from paperstand import bibtex
from paperstand.errors import InvalidInput
from paperstand.library import ListView
from paperstand.models import Paper

# Each format with its media type and file extension.
FORMATS: dict[str, tuple[str, str]] = {
    "bib": ("application/x-bibtex; charset=utf-8", "bib"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "md": ("text/markdown; charset=utf-8", "md"),
}
CSV_COLUMNS = ("position", "id", "title", "authors", "year", "doi", "url", "note")


def paper_summary(paper: Paper) -> dict[str, Any]:
    """A paper as paperstand's own API lists it."""
    return {
        "id": paper.id,
        "title": paper.title,
        "authors": paper.authors,
        "categories": paper.categories,
        "day": paper.day,
        "published": paper.published,
        "upvotes": paper.upvotes,
        "github_repo": paper.github_repo,
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "abstract": paper.abstract,
    }


def paper_markdown(paper: Paper, base_url: str = "") -> str:
    """The paper as Markdown, what ``/papers/{id}.md`` serves (``HfApi.read_paper``); with
    ``base_url``, a link to its page on this site."""
    lines = [f"# {paper.title}", ""]
    if paper.authors:
        lines += [f"**Authors:** {', '.join(paper.authors)}", ""]
    facts = [f"arXiv: {paper.id}"] if paper.abs_url else [f"id: {paper.id}"]
    if paper.categories:
        facts.append(f"categories: {' '.join(paper.categories)}")
    if paper.day:
        facts.append(f"day: {paper.day}")
    if paper.upvotes is not None:
        facts.append(f"upvotes: {paper.upvotes}")
    lines += [" · ".join(facts), ""]
    if paper.abstract:
        lines += ["## Abstract", "", paper.abstract, ""]
    if paper.ai_summary:
        lines += ["## AI summary", "", paper.ai_summary, ""]
    if paper.ai_keywords:
        lines += ["**Keywords:** " + ", ".join(paper.ai_keywords), ""]
    links = [
        ("Abstract page", paper.abs_url),
        ("PDF", paper.pdf_url),
        ("Code", paper.github_repo),
        ("Project page", paper.project_page),
        ("This page", f"{base_url}/papers/{paper.id}" if base_url else None),
    ]
    links = [(label, url) for label, url in links if url]
    if links:
        lines += ["## Links", ""] + [f"- [{label}]({url})" for label, url in links] + [""]
    return "\n".join(lines)


def list_object(view: ListView) -> dict[str, Any]:
    """A list as the JSON export and the API give it: the list's fields, its papers in
    order (each with its note) and the imported ids still being fetched."""
    found = view.list
    return {
        "id": found.id,
        "name": found.name,
        "description": found.description,
        "public": found.public,
        "owner": found.owner,
        "created": found.created,
        "updated": found.updated,
        "papers": [{**paper_summary(paper), "note": item.note} for paper, item in view.entries],
        "pending": view.pending,
    }


def list_csv(view: ListView) -> str:
    """One paper a row: position, id, title, authors (``; ``), year, DOI, URL, note."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for number, (paper, item) in enumerate(view.entries, start=1):
        writer.writerow(
            [
                number,
                paper.id,
                paper.title,
                "; ".join(paper.authors),
                bibtex.year_of(paper) or "",
                paper.doi or "",
                paper.abs_url or "",
                item.note,
            ]
        )
    return out.getvalue()


def list_markdown(view: ListView, base_url: str = "") -> str:
    """The list's name and description, then each paper (as :func:`paper_markdown` writes
    it, one heading level down) with its note as a quote."""
    parts = [f"# {view.list.name}", ""]
    if view.list.description:
        parts += [view.list.description, ""]
    for paper, item in view.entries:
        text = paper_markdown(paper, base_url)
        parts.append(
            "\n".join("#" + line if line.startswith("#") else line for line in text.split("\n"))
        )
        if item.note:
            parts += ["> " + line for line in item.note.splitlines()] + [""]
    return "\n".join(parts)


def export_list(view: ListView, fmt: str, base_url: str = "") -> bytes:
    """The list in ``fmt`` (a key of :data:`FORMATS`), as UTF-8 bytes; ``base_url`` links
    the Markdown's papers to their pages on the site."""
    if fmt == "bib":
        return bibtex.entries(view.papers).encode()
    if fmt == "csv":
        return list_csv(view).encode()
    if fmt == "json":
        return orjson.dumps(list_object(view))
    if fmt == "md":
        return list_markdown(view, base_url).encode()
    raise InvalidInput(f"unknown format {fmt[:20]!r}: one of {', '.join(FORMATS)}")
