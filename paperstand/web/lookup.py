"""Finding the paper a URL names: an arXiv id (any version, old or new style), a DOI or an
id as stored."""

from __future__ import annotations

from paperstand import ids
from paperstand.errors import NotFound
from paperstand.models import Paper
from paperstand.store import Store


def find_paper(store: Store, raw_id: str) -> Paper:
    """The stored paper ``raw_id`` names; ``NotFound`` if there is none (or it was deleted)."""
    parsed = ids.parse_reference(raw_id)
    paper = None
    if parsed is None:
        paper = store.get_paper(raw_id.strip())
    elif parsed.kind == "doi":
        paper = store.get_paper(parsed.id) or store.find_by_doi(parsed.id[4:])
    else:
        paper = store.get_paper(parsed.id)
    if paper is None or paper.deleted:
        raise NotFound(f"paper {raw_id!r} is not in this store")
    return paper


def find_papers(store: Store, raw_ids: list[str]) -> list[Paper]:
    """Several papers, in the order given; ``NotFound`` names the first unknown id."""
    return [find_paper(store, raw) for raw in raw_ids]
