"""Which stored paper a user means: an arXiv id (any version, old or new style, with or
without ``arXiv:``), an arxiv.org or huggingface.co/papers URL, a DOI, or an id as stored.

The one resolver every face uses (web pages and API, CLI ``show``, search's direct hits and
similar papers), so that all accept the same spellings and none shows a deleted paper,
or one an admin hid (except to admins, who may show it again).
"""

from __future__ import annotations

from collections.abc import Iterable

from paperstand import ids
from paperstand.errors import NotFound
from paperstand.models import Paper
from paperstand.store import Store


def resolve(store: Store, text: str, *, with_hidden: bool = False) -> Paper | None:
    """The paper ``text`` names, or None when it is not stored, was deleted or is hidden
    (``with_hidden``: hidden papers too, for admins)."""
    text = str(text).strip()
    parsed = ids.parse_reference(text)
    wanted = parsed.id if parsed else text
    if not wanted:
        return None
    paper = store.get_paper(wanted)
    if paper is None and wanted.startswith("doi:"):
        paper = store.find_by_doi(wanted[4:])
    if paper is None or paper.deleted or (paper.hidden and not with_hidden):
        return None
    return paper


def find_paper(store: Store, text: str, *, with_hidden: bool = False) -> Paper:
    """The paper ``text`` names; :class:`NotFound` if there is none (or it was deleted, or
    is hidden and ``with_hidden`` is not given)."""
    paper = resolve(store, text, with_hidden=with_hidden)
    if paper is None:
        raise NotFound(f"paper {text!r} is not in this store")
    return paper


def find_papers(store: Store, texts: Iterable[str]) -> list[Paper]:
    """Several papers, in the order given; :class:`NotFound` names the first unknown one."""
    return [find_paper(store, text) for text in texts]
