"""Which stored paper a user means: an arXiv id (any version, old or new style, with or
without ``arXiv:``), an arxiv.org or huggingface.co/papers URL, a DOI, or an id as stored.

The one resolver every face uses (web pages and API, CLI ``show``, search's direct hits and
similar papers), so that all accept the same spellings and none shows a deleted paper.
"""

from __future__ import annotations

from collections.abc import Iterable

from paperstand import ids
from paperstand.errors import NotFound
from paperstand.models import Paper
from paperstand.store import Store


def resolve(store: Store, text: str) -> Paper | None:
    """The paper ``text`` names, or None when it is not stored or was deleted."""
    text = str(text).strip()
    parsed = ids.parse_reference(text)
    wanted = parsed.id if parsed else text
    if not wanted:
        return None
    paper = store.get_paper(wanted)
    if paper is None and wanted.startswith("doi:"):
        paper = store.find_by_doi(wanted[4:])
    return paper if paper is not None and not paper.deleted else None


def find_paper(store: Store, text: str) -> Paper:
    """The paper ``text`` names; :class:`NotFound` if there is none (or it was deleted)."""
    paper = resolve(store, text)
    if paper is None:
        raise NotFound(f"paper {text!r} is not in this store")
    return paper


def find_papers(store: Store, texts: Iterable[str]) -> list[Paper]:
    """Several papers, in the order given; :class:`NotFound` names the first unknown one."""
    return [find_paper(store, text) for text in texts]
