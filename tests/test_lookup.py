"""The one resolver of ids, URLs and DOIs to stored papers (``paperstand/lookup.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperstand.errors import NotFound
from paperstand.lookup import find_paper, find_papers, resolve
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store, open_store
from tests.test_cli_ingest import fails

PAPERS = [
    Paper(id="2503.00001", title="New style", doi="10.1000/ABC.def", listed="2025-03-03"),
    Paper(id="hep-th/9901001", title="Old style", listed="1999-01-04"),
    Paper(id="doi:10.5555/xyz", title="Known by its DOI only"),
    Paper(id="2503.00002", title="Withdrawn", listed="2025-03-03"),
]


@pytest.fixture
def stored(store: Store) -> Store:
    store.upsert_papers(PAPERS)
    store.upsert_papers([Paper(id="2503.00002", deleted=True)])
    return store


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2503.00001", "2503.00001"),
        (" 2503.00001v3 ", "2503.00001"),
        ("arXiv:2503.00001", "2503.00001"),
        ("https://arxiv.org/abs/2503.00001v2", "2503.00001"),
        ("https://arxiv.org/pdf/2503.00001.pdf", "2503.00001"),
        ("https://huggingface.co/papers/2503.00001", "2503.00001"),
        ("doi:10.1000/abc.DEF", "2503.00001"),  # a DOI a paper of another id carries
        ("https://doi.org/10.1000/abc.def", "2503.00001"),
        ("hep-th/9901001v1", "hep-th/9901001"),
        ("10.5555/XYZ", "doi:10.5555/xyz"),
    ],
)
def test_every_spelling_finds_the_paper(stored: Store, text: str, expected: str) -> None:
    assert resolve(stored, text).id == expected
    assert find_paper(stored, text).id == expected


@pytest.mark.parametrize("text", ["2503.00002", "2503.00009", "", "   ", "not a paper", "\x00"])
def test_deleted_and_unknown_papers_are_not_found(stored: Store, text: str) -> None:
    assert resolve(stored, text) is None
    with pytest.raises(NotFound):
        find_paper(stored, text)


def test_several_papers_keep_their_order_and_name_the_first_unknown(stored: Store) -> None:
    found = find_papers(stored, ["hep-th/9901001", "2503.00001"])
    assert [p.id for p in found] == ["hep-th/9901001", "2503.00001"]
    with pytest.raises(NotFound, match="2503.00002"):
        find_papers(stored, ["2503.00001", "2503.00002", "2503.00009"])


def test_the_cli_does_not_show_a_deleted_paper(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    store = open_store(Settings(home=home).store_url())
    try:
        store.upsert_papers(PAPERS)
        store.upsert_papers([Paper(id="2503.00002", deleted=True)])
    finally:
        store.close()
    done = fails(home, "show", "2503.00002")
    assert "not in this store" in done.stderr
