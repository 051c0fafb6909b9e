"""Hugging Face daily papers: the community layer on top of arXiv.

Three inputs carry the same ``paper`` objects:

- a saved ``/api/daily_papers?date=D`` response: a JSON array of items, each a ``paper``
  object plus outer fields (thumbnail, numComments, submittedBy, organization, ...);
- JSON lines of ``paper`` objects with a ``_date`` key, the day's list they appeared on
  (``../shared/data/hf/papers.jsonl``), plain or gzipped;
- the live API, one day at a time (:func:`records_from_url`).

Hugging Face knows upvotes, who submitted a paper and when, code and project links and an
AI summary, but no arXiv categories: those stay empty, and merging keeps what arXiv said.
Fields paperstand has no column for are kept in ``Paper.extra`` under their Hugging Face
names (``hf_authors`` for the author objects) so a compatible API can echo them. Fields came
and went over time (``mediaUrl`` became ``mediaUrls``, ``ai_summary`` appeared later), so every
one of them is optional except the id and title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, BinaryIO

import orjson

from paperstand import ids
from paperstand.dates import parse_day
from paperstand.errors import SourceError
from paperstand.models import Paper
from paperstand.sources import jsonl
from paperstand.sources.base import Item, Malformed
from paperstand.sources.http import Fetcher
from paperstand.sources.text import day_of, iso_timestamp, optional, squash

# Fields of the paper object, then of the outer item, kept verbatim in ``Paper.extra``.
_PAPER_EXTRAS = (
    "discussionId",
    "submittedOnDailyAt",
    "submittedOnDailyBy",
    "organization",
    "mediaUrls",
    "githubRepoAddedBy",
)
_OUTER_EXTRAS = (
    "thumbnail",
    "mediaUrls",
    "mediaUrl",
    "numComments",
    "submittedBy",
    "organization",
    "isAuthorParticipating",
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def records(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Papers from a saved daily-papers response or a JSON-lines file of paper objects."""
    text = jsonl.decompressed(stream)
    try:
        is_array = text.peek(64).lstrip()[:1] == b"["
    except (EOFError, OSError) as exc:
        raise SourceError(f"{name}: unreadable: {exc}") from exc
    if not is_array:
        yield from jsonl.records(text, name, parse_item)
        return
    # A response file: the list's day is in its name when it was saved as DATE.json.
    found = _DAY.fullmatch(PurePath(name).stem)
    try:
        data = orjson.loads(text.read())
    except (EOFError, OSError) as exc:
        raise SourceError(f"{name}: unreadable: {exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{name}: not valid JSON, truncated? ({exc})") from None
    yield from _items(data, name, found.group() if found else None)


def records_from_url(base_url: str, day: str, *, fetcher: Fetcher | None = None) -> Iterator[Item]:
    """The daily papers of ``day`` (YYYY-MM-DD) from a daily-papers API at ``base_url``."""
    parse_day(day, "date")
    url = f"{base_url.rstrip('/')}/api/daily_papers"
    owned = fetcher is None
    http = fetcher or Fetcher()
    try:
        response = http.get(url, {"date": day})
    finally:
        if owned:
            http.close()
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{url}?date={day}: not valid JSON, truncated? ({exc})") from None
    yield from _items(data, f"daily papers {day}", day)


def _items(data: Any, name: str, day: str | None) -> Iterator[Item]:
    if not isinstance(data, list):
        raise SourceError(f"{name}: expected a JSON array of daily papers")
    for number, item in enumerate(data, start=1):
        try:
            yield parse_item(item, day)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            yield Malformed(jsonl.error_reason(exc), f"{name} item {number}")


def parse_item(data: Any, day: str | None = None) -> Paper:
    """A daily-papers item (``{"paper": {...}, ...}``) or a bare paper object as a Paper.

    ``day`` is the list's day when the caller knows it; a ``_date`` key wins over it.
    Raises KeyError/TypeError/ValueError for an unusable item.
    """
    if not isinstance(data, dict):
        raise TypeError("an item must be a JSON object")
    outer: dict[str, Any] = data if "paper" in data else {}
    paper = data["paper"] if outer else data
    if not isinstance(paper, dict):
        raise TypeError("'paper' must be a JSON object")
    raw_id = paper["id"]
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise ValueError("empty or non-string id")
    paper_id, version = ids.record_id(raw_id)
    title = squash(paper.get("title") or outer.get("title"))
    if not title:
        raise ValueError("missing title")
    hf_authors = paper.get("authors") or []
    if not isinstance(hf_authors, list):
        raise TypeError("'authors' must be a list")
    submitter = paper.get("submittedOnDailyBy") or outer.get("submittedBy") or {}
    listed_on = (
        paper.get("_date")
        or day
        or day_of(paper.get("submittedOnDailyAt"))
        or day_of(outer.get("publishedAt"))
    )
    extra: dict[str, Any] = {"hf_authors": hf_authors} if hf_authors else {}
    extra.update((k, paper[k]) for k in _PAPER_EXTRAS if paper.get(k) is not None)
    extra.update((k, outer[k]) for k in _OUTER_EXTRAS if outer.get(k) is not None)
    return Paper(
        id=paper_id,
        version=version,
        title=title,
        authors=[squash(a["name"]) for a in hf_authors if squash(a.get("name"))],
        abstract=squash(paper.get("summary") or outer.get("summary")),
        published=iso_timestamp(paper.get("publishedAt")),
        upvotes=_count(paper.get("upvotes")),
        submitted_by=optional(submitter.get("user") or submitter.get("name")),
        submitted_on=iso_timestamp(listed_on),
        github_repo=optional(paper.get("githubRepo")),
        github_stars=_count(paper.get("githubStars")),
        project_page=optional(paper.get("projectPage")),
        ai_summary=optional(paper.get("ai_summary")),
        ai_keywords=[squash(k) for k in paper.get("ai_keywords") or [] if squash(k)],
        extra=extra,
    )


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a count: {value!r}")
    return value
