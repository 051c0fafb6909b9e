"""The full-text index fed while an ingest writes (``FullTextIndex.feeding``), on both
backends: it ends holding exactly what a sync after the ingest would have indexed, and the
revision it records is never ahead of what it holds."""

from __future__ import annotations

import dataclasses
import gzip
import itertools
from pathlib import Path

import orjson
import pytest

from paperstand.index.fulltext import FullTextIndex
from paperstand.ingest import ingest_and_index
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.sources.jsonl import parse_record
from paperstand.store import Store
from tests.conftest import DATA


def real_papers(count: int) -> list[Paper]:
    with gzip.open(DATA / "arxiv" / "listings-2025-03.jsonl.gz") as lines:
        return [parse_record(orjson.loads(line)) for line in itertools.islice(lines, count)]


def hits(index: FullTextIndex, text: str) -> list[str]:
    return [paper_id for paper_id, _ in index.search(text, limit=50)]


def test_ingest_feeds_the_index_as_it_writes(store: Store, tmp_path: Path) -> None:
    papers = real_papers(120)
    settings = Settings(home=tmp_path)
    report = ingest_and_index(store, papers, settings)
    assert (report.written.added, report.indexed) == (120, 120)
    index = FullTextIndex(settings.fulltext_path)  # as a server opening it would
    assert index.revision == store.revision()
    assert index.sync(store) == 0  # nothing left to catch up
    for paper in papers[:5]:
        assert hits(index, paper.title)[0] == paper.id
    searcher = index._index.searcher()
    assert searcher.num_docs == 120


def test_a_paper_written_twice_in_one_run_has_one_document(store: Store, tmp_path: Path) -> None:
    first, *rest = real_papers(30)
    newer = dataclasses.replace(first, title="Zyxomorphic lattices", version=9)
    settings = Settings(home=tmp_path)
    index = FullTextIndex(settings.fulltext_path)
    with index.feeding(store) as feed:
        assert feed is not None
        for batch in ([first, *rest], [newer]):
            feed.add(store.upsert_papers(batch).written)
    assert index.revision == store.revision()
    assert hits(index, "zyxomorphic lattices") == [first.id]
    assert index._index.searcher().num_docs == 30
    assert first.id not in hits(index, f'"{first.title}"')


def test_a_writer_in_between_ends_the_feed_and_the_sync_takes_the_rest(
    store: Store, tmp_path: Path
) -> None:
    papers = real_papers(60)
    index = FullTextIndex(tmp_path / "fulltext")
    with index.feeding(store) as feed:
        assert feed is not None
        feed.add(store.upsert_papers(papers[:20]).written)
        fed_to = store.revision()
        store.upsert_papers(papers[20:40])  # another process's ingest, not fed
        feed.add(store.upsert_papers(papers[40:]).written)
    assert index.revision == fed_to  # not past the papers it never saw
    assert index.sync(store) == 40
    assert index.revision == store.revision()
    assert index._index.searcher().num_docs == 60
    for paper in (papers[0], papers[25], papers[45]):
        assert hits(index, paper.title)[0] == paper.id


def test_an_interrupted_ingest_leaves_the_index_for_the_next_sync(
    store: Store, tmp_path: Path
) -> None:
    papers = real_papers(40)
    index = FullTextIndex(tmp_path / "fulltext")
    with pytest.raises(KeyboardInterrupt), index.feeding(store) as feed:
        assert feed is not None
        feed.add(store.upsert_papers(papers[:20]).written)
        raise KeyboardInterrupt
    assert index.revision == 0 and hits(index, papers[0].title) == []
    assert index.sync(store) == 20  # what the store committed is indexed after all
    assert hits(index, papers[0].title)[0] == papers[0].id


def test_an_index_behind_the_store_catches_up_before_it_is_fed(
    store: Store, tmp_path: Path
) -> None:
    papers = real_papers(30)
    store.upsert_papers(papers[:10])  # ingested without the index
    settings = Settings(home=tmp_path)
    report = ingest_and_index(store, papers[10:], settings)
    assert report.indexed == 20
    index = FullTextIndex(settings.fulltext_path)
    assert index.revision == store.revision()
    assert index._index.searcher().num_docs == 30


def test_a_failure_after_the_feed_finished_keeps_what_it_committed(
    store: Store, tmp_path: Path
) -> None:
    """:meth:`Feed.commit` runs beside the end of a load; when that end fails, the papers
    committed to the index are recorded, so the next sync adds none of them twice."""
    papers = real_papers(40)
    index = FullTextIndex(tmp_path / "fulltext")
    with pytest.raises(KeyboardInterrupt), index.feeding(store) as feed:
        assert feed is not None
        feed.add(store.upsert_papers(papers[:20]).written)
        feed.commit()
        feed.add(store.upsert_papers(papers[20:]).written)  # not committed: rolled back
        raise KeyboardInterrupt
    assert index.revision == 20
    assert index.sync(store) == 20
    assert index._index.searcher().num_docs == 40
    for paper in (papers[0], papers[30]):
        assert hits(index, paper.title)[0] == paper.id
