"""arXiv bulk metadata as JSON lines, plain or gzipped, streamed line by line.

Two shapes are read, told apart line by line:

- the Kaggle arXiv snapshot (``categories`` a space-separated string, ``versions``,
  ``authors_parsed``, ``journal-ref``, ``update_date``);
- paperstand's listing files (``../shared/data/arxiv``): ``categories`` a list, ``authors`` a
  list, ``listed`` the day the paper appeared in arXiv's new listings.

A line that is not a usable record becomes :class:`Malformed`; an unreadable or truncated
file raises :class:`SourceError` after every good line before it was yielded.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import orjson
from isal import igzip, isal_zlib

from paperstand import ids
from paperstand.errors import SourceError
from paperstand.models import Paper
from paperstand.sources.base import Item, Malformed
from paperstand.sources.text import day_of, iso_timestamp, optional, squash

_GZIP_MAGIC = b"\x1f\x8b"

# Lines are read and parsed in chunks, in the process that writes them. A helper process
# parsing beside the writer was tried: with the full-text index fed during the load, the
# writer and tantivy's thread already keep two cores busy, and carrying the papers across
# (pickled in the helper, unpickled here, a fork per file) cost more CPU than the parsing
# it moved, 18% of a bulk load's CPU in all (docs/benchmarks.md, "Bulk-load mechanics").
_CHUNK_LINES = 2000


def records(
    stream: BinaryIO, name: str, parse: Callable[[Any], Paper] | None = None
) -> Iterator[Item]:
    """Papers from a binary stream of JSON lines; ``name`` is used in messages. ``parse``
    turns one decoded line into a Paper (default :func:`parse_record`), so other JSON-lines
    formats (Hugging Face's) share this reading and error handling."""
    parse = parse or parse_record
    for first, lines in _chunks(decompressed(stream), name):
        yield from parse_lines(name, first, lines, parse)


def _chunks(lines: BinaryIO, name: str) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines) in chunks; SourceError when the file breaks off."""
    number = 0
    chunk: list[bytes] = []
    try:
        for line in lines:
            chunk.append(line)
            if len(chunk) == _CHUNK_LINES:
                yield number + 1, chunk
                number += len(chunk)
                chunk = []
    except (EOFError, OSError, isal_zlib.error) as exc:
        if chunk:
            yield number + 1, chunk
        raise SourceError(f"{name}: unreadable after line {number + len(chunk)}: {exc}") from exc
    if chunk:
        yield number + 1, chunk


def parse_lines(
    name: str, first: int, lines: list[bytes], parse: Callable[[Any], Paper]
) -> list[Item]:
    """Items of consecutive JSON lines, the first being line number ``first``."""
    items: list[Item] = []
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            items.append(Malformed(f"invalid JSON ({exc.msg})", where))
            continue
        try:
            items.append(parse(data))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            items.append(Malformed(error_reason(exc), where))
    return items


def decompressed(stream: BinaryIO) -> BinaryIO:
    """``stream`` itself, or its gunzipped content when it starts with the gzip magic.
    Gunzipped by ISA-L (``isal``), three times faster than ``zlib``: inflating was a tenth of
    the ingest process's work per paper."""
    buffered = io.BufferedReader(stream) if not hasattr(stream, "peek") else stream
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return igzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    return buffered


def error_reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def parse_record(data: Any) -> Paper:
    """One JSON object of either shape as a Paper; raises KeyError/TypeError/ValueError."""
    if not isinstance(data, dict):
        raise TypeError("a line must be a JSON object")
    raw_id = data["id"]
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise ValueError("empty or non-string id")
    paper_id, version = ids.record_id(raw_id)
    title = squash(data.get("title"))
    if not title:
        raise ValueError("missing title")
    categories = data.get("categories") or []
    if isinstance(categories, str):
        categories = categories.split()
    if "versions" in data or "authors_parsed" in data:
        version, authors, published, updated, listed = _kaggle_fields(data, version)
    else:
        authors = data.get("authors") or []
        if isinstance(authors, str):
            authors = split_authors(authors)
        published = iso_timestamp(data.get("published"))
        updated = iso_timestamp(data.get("updated"))
        listed = iso_timestamp(data.get("listed"))
    return Paper(
        id=paper_id,
        version=version,
        title=title,
        authors=[squash(a) for a in authors],
        abstract=squash(data.get("abstract")),
        categories=list(categories),
        comment=optional(data.get("comment") or data.get("comments")),
        journal_ref=optional(data.get("journal_ref") or data.get("journal-ref")),
        doi=optional(data.get("doi")),
        license=optional(data.get("license")),
        published=published,
        updated=updated,
        listed=listed,
    )


def _kaggle_fields(
    data: dict[str, Any], version: int | None
) -> tuple[int | None, list[str], str | None, str | None, str | None]:
    """(version, authors, published, updated, listed) of a Kaggle snapshot record."""
    versions = data.get("versions") or []
    created = [iso_timestamp(v["created"]) for v in versions if v.get("created")]
    if versions and version is None:
        version = max(int(str(v.get("version", "v1")).lstrip("v")) for v in versions)
    parsed = data.get("authors_parsed")
    if parsed:
        authors = [" ".join(part for part in (p[1], p[0], *p[2:]) if part) for p in parsed]
    else:
        authors = split_authors(data.get("authors") or "")
    published = created[0] if created else None
    updated = iso_timestamp(data.get("update_date")) or (created[-1] if created else None)
    # The snapshot has no listing day: the first version's day is the nearest we know.
    return version, authors, published, updated, day_of(published)


def split_authors(authors: str) -> list[str]:
    """arXiv's author string: "A, B and C" (newlines and double spaces included)."""
    authors = squash(authors).replace(", and ", ", ").replace(" and ", ", ")
    return [a.strip() for a in authors.split(",") if a.strip()]
