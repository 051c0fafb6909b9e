"""The storage contract: what every backend (``store`` fixture: SQLite, PostgreSQL) must do."""

from __future__ import annotations

import pytest

from paperstand.models import Paper
from paperstand.sources.base import Checkpoint
from paperstand.store import Store, open_store
from paperstand.store.schema import PACK_FROM, text_packer, unpack_text


def paper(paper_id: str, **fields) -> Paper:
    base = {
        "title": f"Title of {paper_id}",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "abstract": f"Abstract of {paper_id}.",
        "categories": ["cs.LG", "stat.ML"],
        "version": 1,
        "listed": "2024-05-01",
    }
    return Paper(id=paper_id, **{**base, **fields})


def test_upsert_counts_added_updated_unchanged(store: Store) -> None:
    first = store.upsert_papers([paper("2401.00001"), paper("2401.00002")])
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    again = store.upsert_papers(
        [paper("2401.00001"), paper("2401.00002", title="New title"), paper("2401.00003")]
    )
    assert (again.added, again.updated, again.unchanged) == (1, 1, 1)
    assert store.get_paper("2401.00002").title == "New title"


def test_a_paper_round_trips_every_field(store: Store) -> None:
    full = paper(
        "2401.00010",
        comment="12 pages",
        journal_ref="J. Things 1 (2024)",
        doi="10.1000/xyz",
        license="http://creativecommons.org/licenses/by/4.0/",
        published="2024-01-02T03:04:05Z",
        updated="2024-01-03",
        upvotes=42,
        submitted_by="akhaliq",
        submitted_on="2024-05-02",
        github_repo="https://github.com/a/b",
        github_stars=7,
        project_page="https://example.org",
        ai_summary="In short.",
        ai_keywords=["graphs", "ünïcode"],
        extra={"thumbnail": "t.png", "nested": {"a": [1, 2]}},
    )
    store.upsert_papers([full])
    assert store.get_paper("2401.00010") == full


def test_merge_keeps_stored_values_that_the_new_record_lacks(store: Store) -> None:
    store.upsert_papers([paper("2401.00001", doi="10.1/a", extra={"a": 1})])
    store.upsert_papers([Paper(id="2401.00001", upvotes=5, extra={"b": 2})])
    merged = store.get_paper("2401.00001")
    assert merged.title == "Title of 2401.00001"
    assert merged.doi == "10.1/a"
    assert merged.upvotes == 5
    assert merged.extra == {"a": 1, "b": 2}


def test_an_older_version_does_not_overwrite_a_newer_one(store: Store) -> None:
    store.upsert_papers([paper("2401.00001", version=3, title="Version three")])
    result = store.upsert_papers([paper("2401.00001", version=2, title="Version two")])
    assert result.unchanged == 1
    stored = store.get_paper("2401.00001")
    assert (stored.version, stored.title) == (3, "Version three")
    # Community fields still merge from an older record.
    store.upsert_papers([Paper(id="2401.00001", version=1, upvotes=9)])
    assert store.get_paper("2401.00001").upvotes == 9


def test_duplicates_within_one_batch_are_merged(store: Store) -> None:
    result = store.upsert_papers(
        [paper("2401.00001", title="First"), Paper(id="2401.00001", upvotes=3)]
    )
    assert result.added == 1
    stored = store.get_paper("2401.00001")
    assert (stored.title, stored.upvotes) == ("First", 3)


def test_deleted_papers_are_marked_and_counted_apart(store: Store) -> None:
    store.upsert_papers([paper("2401.00001"), paper("2401.00002", listed="2024-06-01")])
    store.upsert_papers([Paper(id="2401.00002", deleted=True)])
    assert store.get_paper("2401.00002").deleted is True
    stats = store.stats()
    assert (stats["papers"], stats["deleted"]) == (1, 1)
    assert stats["latest_listing"] == "2024-05-01"
    # A later full record brings it back.
    store.upsert_papers([paper("2401.00002", version=2)])
    assert store.get_paper("2401.00002").deleted is False


def test_stats_of_an_empty_store(store: Store) -> None:
    assert store.stats()["papers"] == 0
    assert store.stats()["latest_listing"] is None


def test_checkpoint_is_written_with_its_batch(store: Store) -> None:
    store.upsert_papers([paper("2401.00001")], Checkpoint("oai:cs", {"token": "abc", "page": 2}))
    assert store.get_checkpoint("oai:cs") == {"token": "abc", "page": 2}
    store.upsert_papers([], Checkpoint("oai:cs", {"token": "def", "page": 3}))
    assert store.get_checkpoint("oai:cs") == {"token": "def", "page": 3}
    store.upsert_papers([], Checkpoint("oai:cs", None))
    assert store.get_checkpoint("oai:cs") is None
    assert store.get_checkpoint("never") is None


def test_a_failed_batch_writes_neither_papers_nor_checkpoint(store: Store) -> None:
    store.upsert_papers([], Checkpoint("k", {"page": 1}))
    bad = paper("2401.00002")
    bad.authors = object()  # type: ignore[assignment] - cannot be serialised
    with pytest.raises(TypeError):
        store.upsert_papers([paper("2401.00001"), bad], Checkpoint("k", {"page": 2}))
    assert store.get_paper("2401.00001") is None
    assert store.get_checkpoint("k") == {"page": 1}
    # The store is usable after the failure.
    assert store.upsert_papers([paper("2401.00001")]).added == 1


def test_get_papers_keeps_the_order_asked_and_skips_unknown(store: Store) -> None:
    store.upsert_papers([paper(f"2401.0000{i}") for i in range(1, 6)])
    got = store.get_papers(["2401.00004", "missing", "2401.00001", "2401.00004"])
    assert [p.id for p in got] == ["2401.00004", "2401.00001", "2401.00004"]
    assert store.get_papers([]) == []
    assert store.get_paper("missing") is None


def test_find_by_doi_ignores_case(store: Store) -> None:
    store.upsert_papers([paper("2401.00001", doi="10.1000/ABC.def"), paper("2401.00002")])
    assert store.find_by_doi("10.1000/abc.DEF").id == "2401.00001"
    assert store.find_by_doi(" 10.1000/ABC.def ").id == "2401.00001"
    assert store.find_by_doi("10.9/none") is None


def test_iter_papers_yields_everything_in_batches_deleted_included(store: Store) -> None:
    store.upsert_papers([paper(f"2401.{i:05d}") for i in range(25)])
    store.upsert_papers([Paper(id="2401.00003", deleted=True)])
    batches = list(store.iter_papers(batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    ids = [p.id for b in batches for p in b]
    assert ids == [f"2401.{i:05d}" for i in range(25)]
    assert list(store.iter_papers(batch_size=100))[0][3].deleted


def test_migrate_twice_keeps_the_data(store: Store) -> None:
    store.upsert_papers([paper("2401.00001")])
    version = store.migrate()
    assert store.migrate() == version
    assert store.get_paper("2401.00001") is not None


def _index_names(store: Store) -> set[str]:
    from paperstand.store.dialect import index_names

    with store.engine.connect() as conn:
        return index_names(conn)


DEFERRED = {"paper_categories_pk", "papers_day", "papers_listed"}


def test_a_bulk_load_into_an_empty_store_builds_its_indexes_at_the_end(store: Store) -> None:
    with store.bulk_load() as deferred:
        assert deferred
        store.upsert_papers([paper("2401.00001"), paper("2401.00002", authors=["Émile Borel"])])
        assert not DEFERRED & _index_names(store)
        assert store.get_paper("2401.00002") is not None  # committed batch by batch
    assert DEFERRED <= _index_names(store)
    assert [p.id for p in store.papers_by_author("emile borel", limit=5)] == ["2401.00002"]
    assert len(store.papers_in_category("stat.ML", limit=5)) == 2
    # A store that holds papers keeps its indexes in step.
    with store.bulk_load() as deferred:
        assert not deferred
        store.upsert_papers([paper("2401.00003")])
        assert DEFERRED <= _index_names(store)
    assert len(store.papers_by_author("Ada Lovelace", limit=5)) == 2


def test_an_interrupted_bulk_load_gets_its_indexes_back_when_the_store_opens(
    store: Store,
) -> None:
    load = store.bulk_load()
    load.__enter__()
    store.upsert_papers([paper("2401.00001")])
    # The process dies here: the block never ends. The next open (which migrates) repairs.
    assert not DEFERRED & _index_names(store)
    store.migrate()
    assert DEFERRED <= _index_names(store)
    assert [p.id for p in store.papers_by_author("Ada Lovelace", limit=5)] == ["2401.00001"]
    assert [p.id for p in store.papers_in_category("cs.LG", limit=5)] == ["2401.00001"]
    assert [p.id for p in store.papers_on_days("2024-05-01", "2024-05-01", limit=5)] == [
        "2401.00001"
    ]
    load.__exit__(None, None, None)


def _index_table_rows(store: Store) -> dict[str, list[tuple]]:
    """Every author and category row, sorted, and what they should be: the rows of each
    stored paper as the store makes them (``papers._index_rows``)."""
    from sqlalchemy import select

    from paperstand.store.papers import _index_rows, paper_authors, paper_categories, papers

    with store.engine.connect() as conn:
        found = {
            t.name: sorted(tuple(row) for row in conn.execute(select(t)).all())
            for t in (paper_authors, paper_categories)
        }
        pks = {i: pk for i, pk in conn.execute(select(papers.c.id, papers.c.pk)).all()}
    authors: list[tuple] = []
    categories: list[tuple] = []
    for stored in store.get_papers(sorted(pks)):
        _index_rows(pks[stored.id], stored, authors, categories)
    expected = {"paper_authors": sorted(authors), "paper_categories": sorted(categories)}
    return {"found": found, "expected": expected}  # type: ignore[dict-item]


def test_a_paper_written_again_within_a_bulk_load_keeps_only_its_new_rows(store: Store) -> None:
    """A bulk load into an empty store that meets a paper a second time, with other
    authors, categories and day, leaves that paper's new rows only (on PostgreSQL the rows
    are written without their keys until the end, and found by paper to be replaced)."""
    with store.bulk_load() as deferred:
        assert deferred
        store.upsert_papers([paper("2401.00001"), paper("2401.00002")])
        store.upsert_papers([paper("2401.00003")])
        again = paper(
            "2401.00001",
            version=2,
            authors=["Émile Borel"],
            categories=["math.PR"],
            listed="2024-06-03",
        )
        assert store.upsert_papers([again, paper("2401.00004")]).updated == 1
        store.upsert_papers([paper("2401.00002", deleted=True)])
    rows = _index_table_rows(store)
    assert rows["found"] == rows["expected"]
    assert [p.id for p in store.papers_by_author("emile borel", limit=5)] == ["2401.00001"]
    assert [p.id for p in store.papers_by_author("Ada Lovelace", limit=5)] == [
        "2401.00004",
        "2401.00003",
    ]
    assert [p.id for p in store.papers_in_category("math.PR", limit=5)] == ["2401.00001"]
    assert DEFERRED <= _index_names(store)
    assert not {"paper_authors_loading_pk", "paper_categories_loading_pk"} & _index_names(store)


def test_author_names_that_the_copy_format_must_escape_are_stored_as_they_are(
    store: Store,
) -> None:
    """Author and category rows go to PostgreSQL as ``COPY`` text formatted by the store;
    a backslash takes the driver's escaping path."""
    odd = ["Back\\slash O'Name", "Tab\tTed", "Per%cent %s"]
    with store.bulk_load():
        store.upsert_papers([paper("2401.00001", authors=odd, categories=["cs.LG", "c\\s"])])
        store.upsert_papers([paper("2401.00002", authors=["Per%cent %s"])])
    for name in odd:
        assert [p.id for p in store.papers_by_author(name, limit=5)][-1] == "2401.00001"
    assert len(store.papers_by_author("Per%cent %s", limit=5)) == 2
    assert [p.id for p in store.papers_in_category("c\\s", limit=5)] == ["2401.00001"]
    rows = _index_table_rows(store)
    assert rows["found"] == rows["expected"]
    assert len(rows["found"]["paper_authors"]) == 4


def test_a_bulk_load_cut_short_then_run_again_makes_the_store_of_one_uninterrupted_run(
    store: Store,
) -> None:
    """Batches commit with their checkpoint; the process dies mid-load (the block never
    ends, a paper had been written twice); the next open repairs the store, and the ingest
    run again from the start adds what was missing, without a duplicate row."""
    from paperstand.ingest import ingest

    items = [
        paper("2401.00001"),
        paper("2401.00002", authors=["Émile Borel", "Ada Lovelace"]),
        Checkpoint("jsonl:a", {"line": 2}),
        paper("2401.00001", version=2, authors=["Alan Turing"], listed="2024-05-02"),
        paper("2401.00003", categories=["math.PR"]),
        Checkpoint("jsonl:a", {"line": 4}),
        paper("2401.00004"),
        paper("2401.00003", version=2, categories=["math.PR", "cs.AI"]),
    ]
    load = store.bulk_load()
    assert load.__enter__()
    store.upsert_papers(items[:2], items[2])
    store.upsert_papers(items[3:5], items[5])
    # The process dies here; the next open (which migrates) repairs, then the run again.
    store.migrate()
    assert ingest(store, items, batch_size=2).written.added == 1
    rows = _index_table_rows(store)
    assert rows["found"] == rows["expected"]
    assert [p.id for p in store.papers_in_category("cs.AI", limit=5)] == ["2401.00003"]
    assert [p.id for p in store.papers_by_author("Alan Turing", limit=5)] == [
        "2401.00001",
        "2401.00004",
        "2401.00003",
    ]
    assert DEFERRED <= _index_names(store)
    load.__exit__(None, None, None)


def test_a_paper_repeated_within_a_bulk_load_ends_as_one_row_with_its_last_version(
    store: Store,
) -> None:
    with store.bulk_load() as deferred:
        assert deferred
        store.upsert_papers([paper("2401.00001"), paper("2401.00002")])
        store.upsert_papers([paper("2401.00003")])
        again = store.upsert_papers(
            [
                paper("2401.00001", version=2, title="Second", authors=["Emmy Noether"]),
                paper("2401.00004"),
                paper("2401.00001", version=3, title="Third", authors=["Emmy Noether"]),
            ]
        )
        assert (again.added, again.updated) == (1, 1)
    assert store.stats()["papers"] == 4
    assert (store.get_paper("2401.00001").version, store.get_paper("2401.00001").title) == (
        3,
        "Third",
    )
    assert [p.id for p in store.papers_by_author("emmy noether", limit=5)] == ["2401.00001"]
    assert "2401.00001" not in [p.id for p in store.papers_by_author("Ada Lovelace", limit=5)]


def test_a_bulk_load_finds_papers_another_writer_added_meanwhile(store: Store) -> None:
    other = open_store(store.url, migrate=False)
    try:
        with store.bulk_load() as deferred:
            assert deferred
            store.upsert_papers([paper("2401.00001")])
            other.upsert_papers([paper("2401.00002", title="From elsewhere")])
            late = store.upsert_papers([paper("2401.00002", version=2, title="Newer")])
            assert (late.added, late.updated) == (0, 1)
            assert store.upsert_papers([paper("2401.00001")]).unchanged == 1
    finally:
        other.close()
    assert store.stats()["papers"] == 2
    assert store.get_paper("2401.00002").title == "Newer"


def test_a_bulk_load_run_again_after_a_crash_updates_what_the_first_wrote(store: Store) -> None:
    load = store.bulk_load()
    load.__enter__()
    store.upsert_papers([paper("2401.00001"), paper("2401.00002")])
    # The process dies here; the next run opens the store (which repairs it) and loads again.
    store.migrate()
    with store.bulk_load() as deferred:
        assert not deferred
        rerun = store.upsert_papers(
            [paper("2401.00001"), paper("2401.00002", version=2), paper("2401.00003")]
        )
    assert (rerun.added, rerun.updated, rerun.unchanged) == (1, 1, 1)
    assert store.stats()["papers"] == 3
    assert len(store.papers_by_author("Ada Lovelace", limit=5)) == 3
    load.__exit__(None, None, None)


def _stored_abstracts(store: Store) -> dict[str, tuple[str, object]]:
    """Each paper's abstract as the database holds it: (its SQL type, the raw value)."""
    with store.engine.connect() as conn:
        kind = "typeof(abstract)" if store.dialect == "sqlite" else "pg_typeof(abstract)::text"
        rows = conn.exec_driver_sql(f"SELECT id, {kind}, abstract FROM papers")
        return {paper_id: (kind, value) for paper_id, kind, value in rows}


# Abstracts as arXiv writes them: long, LaTeX and unicode, short, empty, at the threshold.
ABSTRACTS = {
    "2401.00001": "Diffusion models Zoë ∑ learn to denoise $x_t$. " * 40,  # 1,960 characters
    "2401.00002": "Short.",
    "2401.00003": "",
    "2401.00004": "é" * (PACK_FROM - 1),
    "2401.00005": "日本語の要旨。" * (PACK_FROM // 7 + 1),
}


def test_long_abstracts_are_packed_and_read_back_whole(store: Store) -> None:
    long = ABSTRACTS["2401.00001"]
    store.upsert_papers([paper(pid, abstract=text) for pid, text in ABSTRACTS.items()])
    merged = store.upsert_papers([paper("2401.00002", abstract=long + " Revised.")])
    assert merged.updated == 1
    expected = {**ABSTRACTS, "2401.00002": long + " Revised."}
    assert {p.id: p.abstract for p in store.get_papers(list(expected))} == expected
    assert store.get_paper("2401.00001").abstract == long
    assert {p.id: p.abstract for p in store.papers_by_author("ada lovelace", limit=9)} == expected
    assert {p.id: p.abstract for b in store.iter_papers() for p in b} == expected
    raw = _stored_abstracts(store)
    # Deflated to under half; short text stays as it is (SQLite text, PostgreSQL UTF-8).
    if store.dialect == "sqlite":
        assert raw["2401.00001"][0] == "blob" and len(raw["2401.00001"][1]) < len(long) / 2
        assert raw["2401.00004"] == ("text", ABSTRACTS["2401.00004"])
    else:
        assert {kind for kind, _ in raw.values()} == {"bytea"}
        assert raw["2401.00001"][1][:1] == b"\x00" and len(raw["2401.00001"][1]) < len(long) / 2
        assert raw["2401.00004"][1] == ABSTRACTS["2401.00004"].encode()
        assert raw["2401.00003"][1] == b""


def test_abstracts_written_by_a_bulk_load_read_back_whole(store: Store) -> None:
    with store.bulk_load():
        store.upsert_papers([paper(pid, abstract=text) for pid, text in ABSTRACTS.items()])
        store.upsert_papers([paper("2401.00003", abstract=ABSTRACTS["2401.00001"] + "!")])
    expected = {**ABSTRACTS, "2401.00003": ABSTRACTS["2401.00001"] + "!"}
    assert {p.id: p.abstract for p in store.get_papers(list(expected))} == expected
    assert {s.id: s.abstract for b in store.iter_embedding_sources() for s in b} == expected


@pytest.mark.parametrize(
    "text", ["", "a", "\x00 starts with NUL", "\x00" * 300, "ü" * 500, "x" * PACK_FROM]
)
def test_packed_text_round_trips_on_either_backend(text: str) -> None:
    for dialect in ("sqlite", "postgresql"):
        assert unpack_text(text_packer(dialect)(text), dialect) == text


def test_abstracts_stored_unpacked_read_back(store: Store) -> None:
    """Long abstracts written before packing: text on SQLite (no migration), their UTF-8
    bytes on PostgreSQL (revision 0014's conversion in place)."""
    long = "An abstract written by an older paperstand, Zoë. " * 30
    store.upsert_papers([paper("2401.00001")])
    sql, value = "UPDATE papers SET abstract = ?", long
    if store.dialect != "sqlite":
        sql, value = "UPDATE papers SET abstract = %s", long.encode()
    with store.engine.begin() as conn:
        conn.exec_driver_sql(sql, (value,))
    assert _stored_abstracts(store)["2401.00001"][1] == value
    assert store.get_paper("2401.00001").abstract == long


def test_vectors_written_in_a_bulk_block_are_searched_when_it_ends(store: Store) -> None:
    import numpy as np

    from paperstand.index.vectors import vector_index

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"2401.{n:05d}" for n in range(40)]
    store.upsert_papers([paper(i) for i in ids])
    store.save_embeddings("bulk-8", [(ids[0], "h", vectors[0])])  # a model's index exists
    with store.bulk_embeddings("bulk-8"):
        for start in (0, 20):
            rows = [(ids[n], "h", vectors[n]) for n in range(start, start + 20)]
            store.save_embeddings("bulk-8", rows)
    assert store.embedding_counts() == {"bulk-8": 40}
    index = vector_index(store, "bulk-8")
    for n in (0, 7, 39):
        assert index.knn(vectors[n], 1)[0][0] == ids[n]
