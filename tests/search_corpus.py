"""A small real corpus for the search tests, built once per session.

The 2,327 arXiv papers listed in the second half of March 2025 plus 200 of the
Hugging Face daily papers of late 2025 (many with GitHub repositories), indexed with the fast static
embedding model so that building stays a matter of seconds. ``tests/conftest.py`` makes
the ``corpus`` fixture available to every test.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from paperstand.index.build import build_index
from paperstand.index.embeddings import get_embedder
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.search import Searcher
from paperstand.settings import Settings
from paperstand.sources import hf_daily, jsonl
from paperstand.store import Store, open_store

DATA = Path(__file__).resolve().parent / "data"
LISTINGS = DATA / "arxiv" / "listings-2025-03.jsonl.gz"
HF_PAPERS = DATA / "hf" / "papers.jsonl"
HF_LATE_2025 = 200  # the line where the papers of October 2025 begin (tests/data/README.md)
TEST_MODEL = "static-64"


@dataclass
class Corpus:
    home: Path
    settings: Settings
    store: Store
    searcher: Searcher

    def paper(self, paper_id: str) -> Paper:
        found = self.store.get_paper(paper_id)
        assert found is not None
        return found


def load_corpus(store: Store, home: Path, hf_count: int = 200) -> None:
    with LISTINGS.open("rb") as stream:
        report = ingest(store, jsonl.records(stream, str(LISTINGS)))
    assert report.error is None
    hf_file = home / "hf.jsonl"
    with HF_PAPERS.open("rb") as source:
        late = itertools.islice(source, HF_LATE_2025, HF_LATE_2025 + hf_count)
        hf_file.write_bytes(b"".join(late))
    with hf_file.open("rb") as stream:
        report = ingest(store, hf_daily.records(stream, str(hf_file)))
    assert report.error is None


def first_listings(count: int) -> list[dict]:
    """The first ``count`` records of the March 2025 listings, as JSON objects."""
    import orjson

    with gzip.open(LISTINGS) as stream:
        return [orjson.loads(line) for line in itertools.islice(stream, count)]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    home = tmp_path_factory.mktemp("search-corpus")
    settings = Settings(home=home, embedding_model=TEST_MODEL, search_fetch_missing=False)
    store = open_store(settings.store_url())
    load_corpus(store, home)
    embedder = get_embedder(TEST_MODEL)
    build_index(store, settings, embedder=embedder)
    try:
        yield Corpus(home, settings, store, Searcher(store, settings, embedder=embedder))
    finally:
        store.close()
