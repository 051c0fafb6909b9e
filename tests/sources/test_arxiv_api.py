"""The arXiv Atom API source against recorded responses, replayed by a local HTTP server."""

from __future__ import annotations

import pytest

from paperstand.errors import FetchError, InvalidInput, SourceError
from paperstand.models import Paper
from paperstand.sources import arxiv_api
from paperstand.sources.base import Malformed
from paperstand.sources.http import Fetcher
from tests.replay import ATOM_PATH, Replay, Reply


def fetch(replay: Replay, **arguments) -> list[Paper]:
    items = list(arxiv_api.records(replay.atom_url, fetcher=Fetcher(backoff=0.01), **arguments))
    assert not [item for item in items if isinstance(item, Malformed)]
    return items


def test_old_style_id_with_every_field(replay: Replay) -> None:
    [paper] = fetch(replay, ids=["astro-ph/0601001"])
    assert paper.id == "astro-ph/0601001"
    assert paper.version == 1
    assert paper.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert paper.authors == [
        "Andrew Gould",
        "Susan Dorsher",
        "B. Scott Gaudi",
        "Andrzej Udalski",
    ]
    assert paper.categories == ["astro-ph"]
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.comment.startswith("62 pages including 16 figures")
    assert paper.published == "2006-01-02T14:57:58Z"
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters")
    assert replay.user_agents == {"paperstand/0.1"}


@pytest.mark.parametrize(
    ("asked", "paper_id", "version"),
    [
        ("2104.12255v1", "2104.12255", 1),
        ("quant-ph/0201082v1", "quant-ph/0201082", 1),
        ("1605.08386", "1605.08386", 1),
    ],
)
def test_ids_with_and_without_versions(
    replay: Replay, asked: str, paper_id: str, version: int
) -> None:
    [paper] = fetch(replay, ids=[asked])
    assert (paper.id, paper.version) == (paper_id, version)
    assert paper.title and paper.authors and paper.categories


def test_primary_category_first_and_no_repeats(replay: Replay) -> None:
    [paper] = fetch(replay, ids=["1707.08567"])
    assert paper.categories[0] == "cs.IT"  # <arxiv:primary_category>
    assert len(paper.categories) == len(set(paper.categories))


def test_an_id_list_with_an_unknown_id_gives_the_known_ones(replay: Replay) -> None:
    papers = fetch(replay, ids=["0808.05394", "1707.08567"])
    assert [p.id for p in papers] == ["1707.08567"]


def test_fetch_paper(replay: Replay) -> None:
    fetcher = Fetcher(backoff=0.01)
    paper = arxiv_api.fetch_paper(replay.atom_url, "1605.08386", fetcher=fetcher)
    assert paper is not None and paper.id == "1605.08386"
    assert arxiv_api.fetch_paper(replay.atom_url, "0000.0000", fetcher=fetcher) is None


def test_the_error_feed_becomes_a_source_error_with_its_message(replay: Replay) -> None:
    with pytest.raises(SourceError) as raised:
        fetch(replay, ids=["abc"])
    assert str(raised.value) == "arXiv API error: incorrect id format for abc"


def test_a_400_without_an_error_feed_is_a_fetch_error(replay: Replay) -> None:
    asked = {"id_list": "xyz", "sortBy": "relevance", "sortOrder": "descending", "start": 0}
    replay.add(ATOM_PATH, {**asked, "max_results": 100}, Reply(b"<html>Bad", 400, "text/html"))
    with pytest.raises(FetchError, match="arXiv API answered HTTP 400"):
        fetch(replay, ids=["xyz"])


def test_a_query_is_read_page_by_page(replay: Replay) -> None:
    papers = fetch(replay, query="testing", max_results=30, page_size=10)
    assert len(papers) == 30
    starts = [params["start"] for params in replay.asked(ATOM_PATH)]
    assert starts == ["0", "10", "20"]
    assert {params["max_results"] for params in replay.asked(ATOM_PATH)} == {"10"}
    # The recorded pages overlap nothing: page 2 starts where page 1 ended.
    assert len({p.id for p in papers}) == 30


def test_a_query_in_one_page(replay: Replay) -> None:
    papers = fetch(replay, query="testing", max_results=100)
    assert len(papers) == 100
    assert len(replay.asked(ATOM_PATH)) == 1


def test_a_dropped_page_is_fetched_again(replay: Replay) -> None:
    page = {"search_query": "testing", "sortBy": "relevance", "sortOrder": "descending"}
    replay.inject(ATOM_PATH, {**page, "start": 10, "max_results": 10}, "drop")
    papers = fetch(replay, query="testing", max_results=20, page_size=10)
    assert len(papers) == 20
    assert len(replay.asked(ATOM_PATH)) == 3


def test_a_truncated_feed_is_a_source_error(replay: Replay) -> None:
    page = {"search_query": "testing", "sortBy": "relevance", "sortOrder": "descending"}
    replay.inject(ATOM_PATH, {**page, "start": 10, "max_results": 10}, "truncate")
    items = arxiv_api.records(
        replay.atom_url, query="testing", max_results=20, page_size=10, fetcher=Fetcher()
    )
    first_page = [next(items) for _ in range(10)]
    assert all(isinstance(p, Paper) for p in first_page)
    with pytest.raises(SourceError, match="malformed or truncated"):
        next(items)


@pytest.mark.parametrize(
    "arguments", [{}, {"ids": ["1605.08386"], "query": "testing"}, {"query": "x", "page_size": 0}]
)
def test_bad_arguments(replay: Replay, arguments: dict) -> None:
    with pytest.raises(InvalidInput):
        list(arxiv_api.records(replay.atom_url, **arguments))
