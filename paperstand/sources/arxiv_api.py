"""arXiv's Atom API (``/api/query``): papers by id list or by search query, page by page.

The feed is read with lxml rather than feedparser: feedparser forgives broken XML, and a
truncated page must be an error here, not a silently shorter result. The API reports bad
requests as a feed whose only entry is titled "Error" (with HTTP 400); its message becomes a
:class:`SourceError`. The API wants at most one request every three seconds, which the
caller's :class:`Fetcher` (``pace``) takes care of.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from paperstand import ids as arxiv_ids
from paperstand.errors import FetchError, InvalidInput, SourceError
from paperstand.models import Paper
from paperstand.sources.base import Item, Malformed
from paperstand.sources.http import Fetcher
from paperstand.sources.text import iso_timestamp, optional, squash

DEFAULT_URL = "https://export.arxiv.org/api/query"

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_AUTHOR_NAMES = f"{_ATOM}author/{_ATOM}name"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def records(
    base_url: str,
    *,
    ids: list[str] | None = None,
    query: str | None = None,
    max_results: int = 100,
    page_size: int = 100,
    fetcher: Fetcher | None = None,
) -> Iterator[Item]:
    """Papers for ``ids`` (every one the API knows, old or new style, with or without a
    version) or for a search ``query`` (its first ``max_results`` hits)."""
    if bool(ids) == bool(query):
        raise InvalidInput("give either arXiv ids or a search query")
    if page_size < 1 or max_results < 1:
        raise InvalidInput("page size and maximum number of results must be positive")
    wanted = None if ids else max_results
    base_params = {
        "search_query": query or "",
        "id_list": ",".join(i.strip() for i in ids or []),
        "sortBy": "relevance",
        "sortOrder": "descending",
    }
    owned = fetcher is None
    http = fetcher or Fetcher()
    start = 0
    try:
        while wanted is None or start < wanted:
            size = page_size if wanted is None else min(page_size, wanted - start)
            params = {**base_params, "start": start, "max_results": size}
            root = _feed(http, base_url, {k: v for k, v in params.items() if v != ""}, start)
            entries = root.findall(f"{_ATOM}entry")
            for number, entry in enumerate(entries, start=start + 1):
                yield parse_entry(entry, f"arXiv API result {number}")
            total = _int(root.findtext(f"{_OPENSEARCH}totalResults"))
            start += len(entries)
            if not entries or (total is not None and start >= total):
                break
    finally:
        if owned:
            http.close()


def fetch_paper(base_url: str, arxiv_id: str, *, fetcher: Fetcher | None = None) -> Paper | None:
    """The paper with this arXiv id as the API has it now, or None if arXiv does not know it."""
    for item in records(base_url, ids=[arxiv_id], fetcher=fetcher):
        if isinstance(item, Paper):
            return item
    return None


def _feed(http: Fetcher, base_url: str, params: dict[str, object], start: int) -> etree._Element:
    response = http.get(base_url, params, accept=(200, 400))
    try:
        root = etree.fromstring(response.content, _PARSER)
    except etree.XMLSyntaxError as exc:
        if response.status != 200:
            raise FetchError(f"arXiv API answered HTTP {response.status}") from None
        raise SourceError(
            f"arXiv API page at result {start} is malformed or truncated: {exc}"
        ) from None
    if root.tag != f"{_ATOM}feed":
        raise SourceError(f"arXiv API page at result {start} is not an Atom feed")
    message = _error_message(root)
    if message is not None:
        raise SourceError(f"arXiv API error: {message}")
    if response.status != 200:
        raise SourceError(f"arXiv API answered HTTP {response.status} without an error entry")
    return root


def _error_message(root: etree._Element) -> str | None:
    """The API's message when the feed is an error report (an entry titled "Error")."""
    entries = root.findall(f"{_ATOM}entry")
    if len(entries) == 1 and squash(entries[0].findtext(f"{_ATOM}title")) == "Error":
        entry = entries[0]
        return squash(entry.findtext(f"{_ATOM}summary")) or squash(entry.findtext(f"{_ATOM}id"))
    return None


def parse_entry(entry: etree._Element, where: str) -> Paper | Malformed:
    """One Atom ``<entry>`` as a Paper, or the reason it is unusable."""
    parsed = arxiv_ids.parse_reference(squash(entry.findtext(f"{_ATOM}id")))
    if parsed is None or parsed.kind != "arxiv":
        return Malformed("entry without an arXiv id", where)
    title = squash(entry.findtext(f"{_ATOM}title"))
    if not title:
        return Malformed("missing title", where)
    primary = entry.find(f"{_ARXIV}primary_category")
    categories = [primary.get("term")] if primary is not None and primary.get("term") else []
    for category in entry.iterfind(f"{_ATOM}category"):
        term = category.get("term")
        if term and term not in categories:
            categories.append(term)
    try:
        published = iso_timestamp(optional(entry.findtext(f"{_ATOM}published")))
        updated = iso_timestamp(optional(entry.findtext(f"{_ATOM}updated")))
    except ValueError as exc:
        return Malformed(str(exc), where)
    return Paper(
        id=parsed.id,
        version=parsed.version,
        title=title,
        authors=[n for n in (squash(e.text) for e in entry.iterfind(_AUTHOR_NAMES)) if n],
        abstract=squash(entry.findtext(f"{_ATOM}summary")),
        categories=categories,
        comment=optional(entry.findtext(f"{_ARXIV}comment")),
        journal_ref=optional(entry.findtext(f"{_ARXIV}journal_ref")),
        doi=optional(entry.findtext(f"{_ARXIV}doi")),
        published=published,
        updated=updated,
    )


def _int(text: str | None) -> int | None:
    text = squash(text)
    return int(text) if text.isdigit() else None
