"""``paperstand db copy``: SQLite to PostgreSQL and back, resumable, counts checked."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperstand.dbcopy import copy_store
from paperstand.models import Paper
from paperstand.sources import jsonl
from paperstand.store import Store, open_store
from tests.conftest import DATA

PAPERSTAND = str(Path(sys.executable).parent / "paperstand")


def real_papers(count: int) -> list[Paper]:
    with (DATA / "arxiv" / "listings-2025-03.jsonl.gz").open("rb") as stream:
        items = (item for item in jsonl.records(stream, "listings") if isinstance(item, Paper))
        return list(itertools.islice(items, count))


def fill(store: Store, count: int = 250) -> list[Paper]:
    papers = real_papers(count)
    papers[3].deleted = True
    store.upsert_papers(papers)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(20, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [(p.id, f"h{i}", vectors[i]) for i, p in enumerate(papers[10:30])]
    store.save_embeddings("test-model", rows)
    return papers


def everything(store: Store) -> list[dict]:
    found = (p.to_dict() for batch in store.iter_papers() for p in batch)
    return sorted(found, key=lambda d: d["id"])


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PAPERSTAND, *args], capture_output=True, text=True, timeout=120)


def test_copy_sqlite_to_postgres_and_back_keeps_every_paper_and_embedding(
    tmp_path: Path, postgres_url: str
) -> None:
    source_url = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    back_url = f"sqlite:///{tmp_path / 'back.sqlite3'}"
    with open_store(source_url) as source:
        papers = fill(source)
        expected = everything(source)
        ids = [p.id for p in papers[10:30]]
        vectors = source.get_embeddings("test-model", ids)

    there = run("db", "copy", source_url, postgres_url, "--batch-size", "64")
    assert there.returncode == 0, there.stderr
    assert there.stdout.strip() == (
        "copied 250 papers and 20 embeddings; source 249 papers + 1 deleted, target 249 + 1"
    )
    back = run("db", "copy", postgres_url, back_url)
    assert back.returncode == 0, back.stderr

    for url in (postgres_url, back_url):
        with open_store(url) as copy:
            assert everything(copy) == expected
            assert copy.embedding_counts() == {"test-model": 20}
            got = copy.get_embeddings("test-model", ids)
            assert all(np.array_equal(got[i], vectors[i]) for i in ids)


def test_an_interrupted_copy_resumes_after_the_last_batch(tmp_path: Path, store: Store) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    fill(source)

    def stop_after_three(phase: str, done: int, total: int) -> None:
        if done >= 150:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_store(source, store, batch_size=50, on_progress=stop_after_three)
    assert store.stats()["papers"] + store.stats()["deleted"] == 150

    report = copy_store(source, store, batch_size=40)  # another batch size works too
    assert (report.resumed_after, report.papers, report.embeddings) == (150, 100, 20)
    assert everything(store) == everything(source)
    # Done: the next copy starts from the beginning again and changes nothing.
    again = copy_store(source, store)
    assert (again.resumed_after, again.papers) == (0, 250)
    assert store.stats() == source.stats()
    source.close()


def test_copy_merges_into_a_store_that_already_has_papers(tmp_path: Path, store: Store) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    papers = fill(source, 30)
    store.upsert_papers([Paper(id=papers[0].id, upvotes=12), Paper(id="2401.99999", title="Mine")])
    report = copy_store(source, store)
    assert report.target["papers"] == report.source["papers"] + 1
    merged = store.get_paper(papers[0].id)
    assert (merged.title, merged.upvotes) == (papers[0].title, 12)
    source.close()


def test_copy_onto_itself_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = run("db", "copy", url, url)
    assert result.returncode != 0
    assert result.stderr.strip() == "error: SOURCE_URL and TARGET_URL are the same database"


def test_db_migrate_prints_the_schema_version(tmp_path: Path, postgres_url: str) -> None:
    for url in (f"sqlite:///{tmp_path / 'm.sqlite3'}", postgres_url):
        first = run("--database-url", url, "db", "migrate")
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("schema version ")
        assert run("--database-url", url, "db", "migrate").stdout == first.stdout
