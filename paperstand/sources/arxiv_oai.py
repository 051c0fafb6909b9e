"""arXiv's OAI-PMH interface: incremental, resumable harvests of ``ListRecords``.

A harvest asks for one date window (``from``/``until``), optionally one set (``cs``,
``physics:hep-th``), in the ``arXiv`` or ``arXivRaw`` metadata format, and follows resumption
tokens page by page. After each page it yields a :class:`Checkpoint` holding the token, which
``paperstand.ingest`` commits together with that page's papers; a harvest started again with
the same arguments reads the checkpoint and asks for the next page instead of starting over.
When arXiv no longer knows the token (``badResumptionToken``, e.g. it expired overnight) the
window is harvested again from its start, which is safe because ingestion is idempotent.
Without ``from_date`` a harvest continues from the day the previous complete harvest of the
same URL, format and set began (arXiv's ``responseDate``), so running it daily is incremental.

Why not the ``sickle`` library: it is the well-known OAI-PMH client, but its iterator hides
the resumption token between pages (we must commit it with each page), it retries only on
status codes, not on dropped connections, it sleeps for whatever ``Retry-After`` says, and it
brings ``requests`` as a second HTTP stack next to httpx. ``sources.http`` plus lxml does the
little we need with the retry and size rules every network source shares.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

from lxml import etree

from paperstand import ids
from paperstand.dates import parse_day
from paperstand.errors import InvalidInput, SourceError
from paperstand.models import Paper
from paperstand.sources.base import Checkpoint, Item, Malformed
from paperstand.sources.http import Fetcher
from paperstand.sources.jsonl import split_authors
from paperstand.sources.text import day_of, iso_timestamp, optional, squash

if TYPE_CHECKING:
    from paperstand.store import Store

DEFAULT_URL = "https://export.arxiv.org/oai2"
FORMATS = ("arXiv", "arXivRaw")

_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_ARXIV = "{http://arxiv.org/OAI/arXiv/}"
_ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
# A bad token is retried from the window's start this many times, then the harvest stops.
_MAX_RESTARTS = 3
# A first-version record whose datestamp is this close to its submission is a new listing.
_NEW_LISTING_DAYS = 7
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def records(
    base_url: str,
    *,
    metadata_prefix: str = "arXiv",
    set_spec: str | None = None,
    from_date: str | None = None,
    until: str | None = None,
    checkpoints: Store | None = None,
    fetcher: Fetcher | None = None,
) -> Iterator[Item]:
    """Papers (deleted ones marked), malformed records and checkpoints of one harvest."""
    if metadata_prefix not in FORMATS:
        raise InvalidInput(f"metadata format must be one of {', '.join(FORMATS)}")
    for name, value in (("from", from_date), ("until", until)):
        if value is not None:
            parse_day(value, name)
    last_key = f"arxiv-oai-last {_scope(base_url, metadata_prefix, set_spec)}"
    if from_date is None and checkpoints is not None:
        last = checkpoints.get_checkpoint(last_key)
        from_date = last.get("from") if last else None
    key = checkpoint_key(base_url, metadata_prefix, set_spec, from_date, until)
    window = {"metadataPrefix": metadata_prefix, "from": from_date, "until": until, "set": set_spec}
    first_request = {"verb": "ListRecords", **{k: v for k, v in window.items() if v}}

    saved = checkpoints.get_checkpoint(key) if checkpoints is not None else None
    token: str | None = saved.get("token") if saved else None
    page: int = saved.get("page", 0) if saved else 0
    started: str | None = saved.get("started") if saved else None
    restarts = 0
    owned = fetcher is None
    http = fetcher or Fetcher()
    try:
        while True:
            params = {"verb": "ListRecords", "resumptionToken": token} if token else first_request
            page += 1
            root = _page(http, base_url, params, page)
            started = started or day_of(root.findtext(f"{_OAI}responseDate"))
            error = root.find(f"{_OAI}error")
            if error is not None:
                code = error.get("code", "")
                if code == "noRecordsMatch":
                    break
                if code == "badResumptionToken" and token and restarts < _MAX_RESTARTS:
                    token, page, started, restarts = None, 0, None, restarts + 1
                    continue
                message = squash(error.text) or "no message"
                raise SourceError(f"arXiv OAI-PMH error {code or '?'} on page {page}: {message}")
            listing = root.find(f"{_OAI}ListRecords")
            if listing is None:
                raise SourceError(f"arXiv OAI-PMH page {page} has no ListRecords element")
            for number, record in enumerate(listing.iterfind(f"{_OAI}record"), start=1):
                yield parse_record(record, f"oai page {page}, record {number}")
            token_element = listing.find(f"{_OAI}resumptionToken")
            token = (token_element.text or "").strip() if token_element is not None else ""
            if not token:
                break
            yield Checkpoint(
                key,
                {
                    "token": token,
                    "page": page,
                    "started": started,
                    "cursor": token_element.get("cursor"),
                    "complete_list_size": token_element.get("completeListSize"),
                    **window,
                },
            )
    finally:
        if owned:
            http.close()
    yield Checkpoint(key, None)
    # The next harvest without --from starts where this window ended: its "until" day, or
    # the day it began when it ran up to the present.
    resume_from = min(until, started) if until and started else started
    if resume_from:
        yield Checkpoint(last_key, {"from": resume_from})


def checkpoint_key(
    base_url: str,
    metadata_prefix: str,
    set_spec: str | None,
    from_date: str | None,
    until: str | None,
) -> str:
    """The checkpoint of one harvest window: same arguments, same key, so it resumes."""
    scope = _scope(base_url, metadata_prefix, set_spec)
    return f"arxiv-oai {scope} from={from_date or ''} until={until or ''}"


def _scope(base_url: str, metadata_prefix: str, set_spec: str | None) -> str:
    return f"{base_url} {metadata_prefix} set={set_spec or ''}"


def _page(http: Fetcher, base_url: str, params: dict[str, str], page: int) -> etree._Element:
    response = http.get(base_url, params)
    try:
        root = etree.fromstring(response.content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"arXiv OAI-PMH page {page} is malformed or truncated: {exc}") from None
    if root.tag != f"{_OAI}OAI-PMH":
        raise SourceError(f"arXiv OAI-PMH page {page} is not an OAI-PMH response")
    return root


def parse_record(record: etree._Element, where: str) -> Paper | Malformed:
    """One ``<record>`` as a Paper (deleted ones marked), or the reason it is unusable."""
    header = record.find(f"{_OAI}header")
    if header is None:
        return Malformed("record without header", where)
    identifier = squash(header.findtext(f"{_OAI}identifier"))
    if not identifier:
        return Malformed("record without identifier", where)
    paper_id, _ = ids.split_version(ids.normalise_id(identifier))
    if header.get("status") == "deleted":
        return Paper(id=paper_id, deleted=True)
    metadata = record.find(f"{_OAI}metadata")
    body = metadata[0] if metadata is not None and len(metadata) else None
    try:
        if body is not None and body.tag == f"{_ARXIV}arXiv":
            paper = _arxiv(body, paper_id)
        elif body is not None and body.tag == f"{_ARXIV_RAW}arXivRaw":
            paper = _arxiv_raw(body, paper_id)
        else:
            return Malformed("record without arXiv or arXivRaw metadata", where)
    except ValueError as exc:
        return Malformed(str(exc), where)
    paper.listed = _listed(paper, header.findtext(f"{_OAI}datestamp"))
    return paper


def _arxiv(body: etree._Element, paper_id: str) -> Paper:
    """The ``arXiv`` format: structured authors, created/updated days, no version list."""
    ns = _ARXIV
    authors = []
    for author in body.iterfind(f"{ns}authors/{ns}author"):
        parts = (author.findtext(f"{ns}{part}") for part in ("forenames", "keyname", "suffix"))
        name = squash(" ".join(p for p in parts if p))
        if name:
            authors.append(name)
    return _paper(
        body,
        ns,
        paper_id,
        authors,
        None,
        body.findtext(f"{ns}created"),
        body.findtext(f"{ns}updated"),
    )


def _arxiv_raw(body: etree._Element, paper_id: str) -> Paper:
    """The ``arXivRaw`` format: an author string and every version with its date."""
    ns = _ARXIV_RAW
    versions = []
    for element in body.iterfind(f"{ns}version"):
        number = element.get("version", "").lstrip("v")
        if not number.isdigit():
            raise ValueError(f"bad version {element.get('version')!r}")
        versions.append((int(number), element.findtext(f"{ns}date")))
    versions.sort()
    authors = split_authors(body.findtext(f"{ns}authors") or "")
    published = versions[0][1] if versions else None
    updated = versions[-1][1] if len(versions) > 1 else None
    version = versions[-1][0] if versions else None
    return _paper(body, ns, paper_id, authors, version, published, updated)


def _paper(
    body: etree._Element,
    ns: str,
    paper_id: str,
    authors: list[str],
    version: int | None,
    published: str | None,
    updated: str | None,
) -> Paper:
    title = squash(body.findtext(f"{ns}title"))
    if not title:
        raise ValueError("missing title")
    dois = (body.findtext(f"{ns}doi") or "").split()
    return Paper(
        id=paper_id,
        version=version,
        title=title,
        authors=authors,
        abstract=squash(body.findtext(f"{ns}abstract")),
        categories=(body.findtext(f"{ns}categories") or "").split(),
        comment=optional(body.findtext(f"{ns}comments")),
        journal_ref=optional(body.findtext(f"{ns}journal-ref")),
        # Several DOIs (an erratum's) may be listed; the first is the article's.
        doi=dois[0] if dois else None,
        license=optional(body.findtext(f"{ns}license")),
        published=iso_timestamp(optional(published)),
        updated=iso_timestamp(optional(updated)),
    )


def _listed(paper: Paper, datestamp: str | None) -> str | None:
    """The header datestamp is when the record last changed. For a first version submitted
    just before, that is the day it was announced; otherwise we do not know the listing day
    (and leave the one another source gave untouched)."""
    stamp = day_of(optional(datestamp))
    if not stamp or not paper.published or paper.updated or (paper.version or 1) > 1:
        return None
    try:
        gap = date.fromisoformat(stamp) - date.fromisoformat(paper.published[:10])
    except ValueError:
        return None
    return stamp if 0 <= gap.days <= _NEW_LISTING_DAYS else None
