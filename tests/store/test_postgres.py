"""What only the PostgreSQL store does: URLs, connection errors, migrations, pgvector."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from sqlalchemy.exc import IntegrityError

from paperstand.errors import StoreError
from paperstand.index.pgvector import PgVectorIndex
from paperstand.index.vectors import vector_index
from paperstand.models import Paper
from paperstand.search import Searcher
from paperstand.settings import load_settings
from paperstand.store import open_store
from paperstand.store.embeddings import HnswVectors
from paperstand.store.engine import describe

PAPERSTAND = str(Path(sys.executable).parent / "paperstand")


def test_socket_urls_and_the_postgres_scheme_both_open(postgres_url: str) -> None:
    # pgserver hands out a socket URL: postgresql://postgres:@/paperstand?host=/dir
    assert "@/" in postgres_url and "?host=/" in postgres_url
    for url in (postgres_url, postgres_url.replace("postgresql://", "postgres://", 1)):
        with open_store(url) as store:
            assert store.stats()["papers"] == 0


def test_messages_never_show_the_password() -> None:
    assert describe("postgresql://ann:secret@db.example:5433/papers") == (
        "postgresql://ann@db.example:5433/papers"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://[broken", "bad database URL: "),
        ("postgresql://u@h/db?nonsense=1", "bad database URL: "),
        ("postgresql://u@127.0.0.1:1/db", "cannot connect to postgresql://u@127.0.0.1:1/db: "),
        ("postgresql://u@/db?host=/nonexistent", "cannot connect to "),
        ("mysql://u@h/db", "unsupported database URL "),
    ],
)
def test_bad_or_unreachable_urls_give_one_line_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match="^" + message.replace("?", r"\?").replace("[", r"\[")):
        open_store(url)
    result = subprocess.run(
        [PAPERSTAND, "--database-url", url, "stats"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_database_is_a_one_line_error(postgres_url: str) -> None:
    with pytest.raises(StoreError, match='database "nope" does not exist'):
        open_store(postgres_url.replace("/paperstand?", "/nope?"))


def test_hnsw_search_finds_the_exact_neighbours(postgres_url: str) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"2401.{i:05d}" for i in range(300)]
    store = open_store(postgres_url)
    assert isinstance(store.vectors, HnswVectors)
    store.upsert_papers([Paper(id=i, title=i) for i in ids])
    store.save_embeddings("m", [(i, "h", v) for i, v in zip(ids, vectors, strict=True)])
    store.upsert_papers([Paper(id=ids[0], deleted=True)])
    found = store.vectors.nearest_embeddings("m", vectors[0], 10)
    exact = store.vectors.nearest_embeddings("m", vectors[0], 10, exact=True)
    assert [i for i, _ in found] == [i for i, _ in exact]
    assert ids[0] not in {i for i, _ in found}  # deleted papers are left out
    scores = np.array([d for _, d in exact])
    assert np.all(np.diff(scores) >= 0)
    with store.engine.connect() as conn:  # no sign-bit codes: only SQLite's search reads them
        assert conn.exec_driver_sql("SELECT count(code) FROM embeddings").scalar() == 0
        options = conn.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname LIKE %s",
            (HnswVectors.index_prefix("m") + "%",),
        ).scalar_one()
        assert sorted(options) == ["ef_construction=128", "m=16"]  # the measured build
    store.close()


def test_the_hnsw_index_answers_shallow_and_deep_searches(postgres_url: str) -> None:
    """On a few hundred rows the planner prefers an exact scan to the HNSW index (so the
    test above never walks the graph): here sequential scans, bitmap scans and sorts are
    priced out for every connection of the store, so its searches go through the index.
    Sorts matter when the table's statistics are stale (an earlier test in the shared
    database analyzed it with other models' rows): the planner then guesses one row for
    ``model = 'deep'``, reads it by the model's btree and sorts, an exact scan that no scan
    setting forbids. HNSW returns at most ``hnsw.ef_search`` rows (200 by default), so a
    search for more must raise it for itself, and a shallow search after it on the same
    pooled connection sets its own."""
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(450, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"2402.{i:05d}" for i in range(450)]
    options = quote("-c enable_seqscan=off -c enable_bitmapscan=off -c enable_sort=off")
    with open_store(f"{postgres_url}&options={options}") as store:
        store.upsert_papers([Paper(id=i, title=i) for i in ids])
        store.save_embeddings("deep", [(i, "h", v) for i, v in zip(ids, vectors, strict=True)])
        with store.read() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN SELECT pk FROM embeddings WHERE model = 'deep' "
                "ORDER BY vector::vector(8) <=> CAST(%s AS vector(8)) LIMIT 10",
                (str(vectors[5].tolist()),),
            ).scalars()
            assert HnswVectors.index_prefix("deep") in "\n".join(plan)
        deep = store.vectors.nearest_embeddings("deep", vectors[5], 300)
        assert len(deep) == 300 and len({i for i, _ in deep}) == 300
        shallow = store.vectors.nearest_embeddings("deep", vectors[5], 10)
        exact = store.vectors.nearest_embeddings("deep", vectors[5], 10, exact=True)
        assert [i for i, _ in shallow] == [i for i, _ in exact]
        assert [i for i, _ in deep[:10]] == [i for i, _ in exact]


def test_ef_search_trades_time_for_recall_and_comes_from_the_settings(
    postgres_url: str, tmp_path: Path
) -> None:
    """``PAPERSTAND_HNSW_EF_SEARCH`` reaches pgvector: a search visiting 10 candidates of a
    graph of 2,000 random vectors misses some of the exact nearest, one visiting 1,000 (half
    the graph) misses almost none. Scans and sorts are priced out as above, so the index
    answers even though the table is small."""
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = rng.normal(size=(30, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ids = [f"2403.{i:05d}" for i in range(2000)]
    options = quote("-c enable_seqscan=off -c enable_bitmapscan=off -c enable_sort=off")
    url = f"{postgres_url}&options={options}"
    with open_store(url) as store:
        store.upsert_papers([Paper(id=i, title=i) for i in ids])
        store.save_embeddings("wide", [(i, "h", v) for i, v in zip(ids, vectors, strict=True)])

        def recall(ef_search: int) -> float:
            index = vector_index(store, "wide", ef_search=ef_search)
            found = 0
            for query in queries:
                exact = store.vectors.nearest_embeddings("wide", query, 5, exact=True)
                found += len({i for i, _ in index.knn(query, 5)} & {i for i, _ in exact})
            return found / (5 * len(queries))

        narrow, wide = recall(10), recall(1000)
        assert narrow < wide and wide >= 0.95, (narrow, wide)
        settings = load_settings(home=tmp_path, database_url=url, hnsw_ef_search=10)
        searcher = Searcher(store, settings)
        assert isinstance(searcher.vectors, PgVectorIndex)
        assert searcher.vectors.ef_search == 10


def test_a_bulk_load_leaves_the_planner_statistics_of_what_it_loaded(postgres_url: str) -> None:
    """The load drops and rebuilds the index of the papers' days, an index on an expression:
    without ANALYZE the planner knows nothing of the values of that expression (and guesses
    how many papers a day has) until autovacuum comes by, some while after the load."""

    def statistics(store, index: str) -> int:
        with store.read() as conn:
            query = "SELECT count(*) FROM pg_stats WHERE tablename = %s"
            return conn.exec_driver_sql(query, (index,)).scalar_one()

    with open_store(postgres_url) as store:
        papers = [
            Paper(id=f"2503.0000{n}", title="T", listed=f"2025-03-0{n}", categories=["cs.LG"])
            for n in range(1, 4)
        ]
        with store.bulk_load() as empty:
            assert empty
            store.upsert_papers(papers)
        assert statistics(store, "papers_day") == 1  # the one expression of the index


def test_a_bulk_write_of_vectors_builds_the_hnsw_index_once_at_its_end(postgres_url: str) -> None:
    """Inside ``bulk_embeddings`` the model's HNSW index is gone (each insert would walk
    the graph); it is built when the block ends, even when the block failed."""

    def hnsw_indexes(store) -> list[str]:
        with store.read() as conn:
            query = "SELECT indexname FROM pg_indexes WHERE starts_with(indexname, %s)"
            return list(conn.exec_driver_sql(query, (HnswVectors.index_prefix("m"),)).scalars())

    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(50, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"2401.{i:05d}" for i in range(50)]
    with open_store(postgres_url) as store:
        store.upsert_papers([Paper(id=i, title=i) for i in ids])
        store.save_embeddings("m", [(ids[0], "h", vectors[0])])
        built = hnsw_indexes(store)
        assert len(built) == 1
        with pytest.raises(RuntimeError), store.bulk_embeddings("m"):
            store.save_embeddings("m", [(i, "h", v) for i, v in zip(ids, vectors, strict=True)])
            assert hnsw_indexes(store) == []
            raise RuntimeError("the writer failed")
        assert hnsw_indexes(store) == built
        with store.bulk_embeddings("m"):  # nothing written: the index is built again
            assert hnsw_indexes(store) == []
        assert hnsw_indexes(store) == built
        assert store.vectors.nearest_embeddings("m", vectors[3], 1)[0][0] == ids[3]


def test_a_bulk_load_commits_its_batches_without_waiting_and_nothing_else(
    postgres_url: str,
) -> None:
    """Only the batches of a bulk load give up waiting for the disk, and only for their own
    transaction (``SET LOCAL``): the connection goes back to the pool as it was."""
    from paperstand.store.dialect import commit_without_waiting

    show = "SHOW synchronous_commit"
    with open_store(postgres_url) as store:
        with store.read() as conn:
            configured = conn.exec_driver_sql(show).scalar_one()  # the tests' server: off
        with store.write() as conn:
            conn.exec_driver_sql("SET LOCAL synchronous_commit = on")
            commit_without_waiting(conn)
            assert conn.exec_driver_sql(show).scalar_one() == "off"
        with store.write() as conn:  # the same pooled connection, its next transaction
            assert conn.exec_driver_sql(show).scalar_one() == configured
        with store.bulk_load():
            store.upsert_papers([Paper(id="2503.00001", title="T", authors=["A. B."])])
        assert store.get_paper("2503.00001") is not None


def test_a_bulk_load_rebuilds_the_keys_of_the_author_and_category_rows(postgres_url: str) -> None:
    """Into an empty store the author and category rows go straight into their tables,
    whose primary keys are dropped for the load (nothing is staged) and built at its end:
    the keys are back and still refuse a duplicate, and the staging tables stay empty."""

    def keys() -> set[str]:
        with store.read() as conn:
            return set(
                conn.exec_driver_sql(
                    "SELECT conname FROM pg_constraint WHERE contype = 'p' AND conrelid IN "
                    "('paper_authors'::regclass, 'paper_categories'::regclass)"
                ).scalars()
            )

    with open_store(postgres_url) as store:
        with store.bulk_load() as empty:
            assert empty
            store.upsert_papers(
                [
                    Paper(
                        id=f"2503.0000{n}",
                        title="T",
                        authors=["Ada Lovelace", "A. B."],
                        listed=f"2025-03-0{n}",
                        categories=["cs.LG", "stat.ML"],
                    )
                    for n in range(1, 4)
                ]
            )
            assert keys() == set()
            with store.read() as conn:
                assert conn.exec_driver_sql("SELECT count(*) FROM paper_authors").scalar() == 6
        assert keys() == {"paper_authors_key", "paper_categories_key"}
        with store.read() as conn:
            for table in ("paper_authors_load", "paper_categories_load"):
                assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one() == 0
        assert [p.id for p in store.papers_by_author("ada lovelace", limit=5)] == [
            "2503.00003",
            "2503.00002",
            "2503.00001",
        ]
        assert len(store.papers_in_category("stat.ML", limit=5)) == 3
        with pytest.raises(IntegrityError, match="paper_authors_key"), store.write() as conn:
            conn.exec_driver_sql(
                "INSERT INTO paper_authors SELECT name_key, day, pk FROM paper_authors LIMIT 1"
            )
