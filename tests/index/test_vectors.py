"""The vector index of each backend: storing, replacing, deleting and nearest neighbours."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from paperstand.index import vectors as vectors_module
from paperstand.index.vectors import Clusters, SQLiteVecIndex, VectorIndex, vector_index
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store

DIM = 384


def unit(rng: np.random.Generator, count: int, dim: int = DIM) -> np.ndarray:
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fill(
    store: Store, count: int, model: str = "m1", seed: int = 0, dim: int = DIM
) -> tuple[list[str], np.ndarray]:
    ids = [f"2501.{i:05d}" for i in range(count)]
    store.upsert_papers([Paper(id=pid, title=f"paper {pid}") for pid in ids])
    vectors = unit(np.random.default_rng(seed), count, dim)
    vector_index(store, model).upsert([(pid, "h", v) for pid, v in zip(ids, vectors, strict=True)])
    return ids, vectors


def exact(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return list(np.argsort(-(vectors @ query))[:k])


# 384-d: bit codes then exact re-scoring; 64-d: exact search in memory (small models).
@pytest.mark.parametrize("dim", [384, 64])
def test_knn_finds_the_nearest_papers(store: Store, dim: int) -> None:
    # A model has one dimension: name the model by it (pgvector indexes a model's vectors).
    ids, vectors = fill(store, 600, model=f"m{dim}", dim=dim)
    index = vector_index(store, f"m{dim}")
    rng = np.random.default_rng(1)
    for row in (3, 77, 512):
        # A query close to one paper: that paper first, similarity about 1.
        query = vectors[row] + 0.05 * unit(rng, 1, dim)[0]
        query /= np.linalg.norm(query)
        hits = index.knn(query, 5)
        assert hits[0][0] == ids[row]
        assert 0.9 < hits[0][1] <= 1.0 + 1e-5
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # Against exact search: most of the true top 10 of a random query.
    query = unit(rng, 1, dim)[0]
    truth = {ids[i] for i in exact(vectors, query, 10)}
    found = {pid for pid, _ in index.knn(query, 10)}
    assert len(truth & found) >= 8


@pytest.mark.parametrize("dim", [384, 64])
def test_exclude_and_candidates(store: Store, dim: int) -> None:
    ids, vectors = fill(store, 200, model=f"m{dim}", dim=dim)
    index = vector_index(store, f"m{dim}")
    hits = index.knn(vectors[10], 5, exclude={ids[10]})
    assert ids[10] not in [pid for pid, _ in hits] and len(hits) == 5
    allowed = set(ids[100:120])
    hits = index.knn(vectors[10], 50, candidates=allowed)
    assert {pid for pid, _ in hits} == allowed
    assert index.knn(vectors[110], 1, candidates=allowed)[0][0] == ids[110]
    assert index.knn(vectors[10], 5, candidates=set()) == []


def test_models_are_kept_apart_and_replaced(store: Store) -> None:
    ids, vectors = fill(store, 50, model="m1")
    index = vector_index(store, "m1")
    other = vector_index(store, "m2")
    assert other.knn(vectors[0], 5) == [] and not other.has_vectors()
    assert index.has_vectors() and index.count() == 50
    # Re-embedding a paper with another model replaces its m1 vector.
    other.upsert([(ids[0], "h2", vectors[1])])
    assert store.embedding_counts() == {"m1": 49, "m2": 1}
    assert other.knn(vectors[1], 5) == [(ids[0], other.knn(vectors[1], 1)[0][1])]
    assert ids[0] not in [pid for pid, _ in index.knn(vectors[0], 50)]
    got = other.get([ids[0], ids[1], "9999.99999"])
    assert list(got) == [ids[0]] and np.allclose(got[ids[0]], vectors[1], atol=1e-6)


def test_delete_and_deleted_papers(store: Store) -> None:
    ids, vectors = fill(store, 30)
    index = vector_index(store, "m1")
    assert index.delete([ids[0], ids[1]]) == 2
    assert ids[0] not in [pid for pid, _ in index.knn(vectors[0], 30)]
    store.upsert_papers([Paper(id=ids[2], deleted=True)])
    fresh = vector_index(store, "m1")
    assert ids[2] not in [pid for pid, _ in fresh.knn(vectors[2], 30)]
    assert fresh.count() == 27


def test_a_long_lived_index_sees_writes_of_others(store: Store) -> None:
    ids, vectors = fill(store, 20)
    reader = vector_index(store, "m1")
    assert reader.knn(vectors[0], 1)[0][0] == ids[0]
    store.upsert_papers([Paper(id="2502.00001", title="late paper")])
    late = unit(np.random.default_rng(9), 1)[0]
    vector_index(store, "m1").upsert([("2502.00001", "h", late)])
    assert reader.knn(late, 1)[0][0] == "2502.00001"


def test_a_snapshot_searches_the_vectors_as_they_were(store: Store) -> None:
    index = vector_index(store, "m1")
    assert index.snapshot() is None  # no vectors of this model: nothing to embed a query for
    ids, vectors = fill(store, 20)
    snapshot = index.snapshot()
    assert snapshot is not None
    assert snapshot(vectors[3], 5) == index.knn(vectors[3], 5)
    assert snapshot(vectors[3], 5, exclude={ids[3]})[0][0] != ids[3]
    store.upsert_papers([Paper(id="2502.00001", title="late paper")])
    late = unit(np.random.default_rng(9), 1)[0]
    index.upsert([("2502.00001", "h", late)])
    later = index.snapshot()
    assert later is not None and later(late, 1)[0][0] == "2502.00001"


def test_empty_index_and_unknown_papers(store: Store) -> None:
    index = vector_index(store, "m1")
    query = unit(np.random.default_rng(2), 1)[0]
    assert index.knn(query, 10) == []
    index.upsert([("not-a-paper", "h", query)])  # ignored: no such paper
    assert index.count() == 0 and index.get(["not-a-paper"]) == {}


def test_clusters_partition_the_vectors_and_scanning_all_is_exact() -> None:
    rng = np.random.default_rng(3)
    vectors = unit(rng, 2000, 64)
    clusters = Clusters(vectors, scan=10_000)
    # Every row is in exactly one cluster, and the runs cover the rows in order.
    assert sorted(clusters.order.tolist()) == list(range(2000))
    assert clusters.starts[0] == 0 and clusters.starts[-1] == 2000
    assert np.all(np.diff(clusters.starts) >= 0)
    ordered = vectors[clusters.order]
    query = unit(rng, 1, 64)[0]
    rows, scores = clusters.nearest(ordered, query, 10)
    assert [int(clusters.order[r]) for r in rows] == exact(vectors, query, 10)
    assert np.allclose(scores, ordered[rows] @ query, atol=1e-5)


def test_scanning_a_few_clusters_keeps_most_neighbours() -> None:
    # Papers come in topics: vectors scattered around 40 centres, like real embeddings.
    rng = np.random.default_rng(4)
    centres = unit(rng, 40, 64)
    vectors = centres[rng.integers(0, 40, 4000)] + 0.6 * unit(rng, 4000, 64) / 8**0.5
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    clusters = Clusters(vectors, scan=500)  # an eighth of the vectors
    ordered = vectors[clusters.order]
    found = 0
    for row in range(0, 4000, 200):
        rows, _ = clusters.nearest(ordered, vectors[row], 10)
        found += len({int(clusters.order[r]) for r in rows} & set(exact(vectors, vectors[row], 10)))
    assert found >= 0.9 * 20 * 10


def clustered(
    store: Store, monkeypatch: pytest.MonkeyPatch, count: int
) -> tuple[list[str], np.ndarray, VectorIndex]:
    """``count`` 64-d vectors of a small model and its index, with the clustering threshold
    lowered so a test-sized store is clustered (on SQLite; PostgreSQL answers the same
    questions with HNSW) and a scan budget that covers every vector (so results are exact)."""
    monkeypatch.setattr(vectors_module, "CLUSTER_FROM", 500)
    monkeypatch.setattr(vectors_module, "CLUSTER_SCAN", 10_000)
    ids, vectors = fill(store, count, model="m64", dim=64)
    return ids, vectors, vector_index(store, "m64")


def test_a_large_small_model_index_searches_by_clusters(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, vectors, index = clustered(store, monkeypatch, 900)
    rng = np.random.default_rng(5)
    for row in (0, 450, 899):
        query = vectors[row] + 0.05 * unit(rng, 1, 64)[0]
        query /= np.linalg.norm(query)
        hits = [pid for pid, _ in index.knn(query, 10, exclude={ids[1]})]
        truth = [ids[i] for i in exact(vectors, query, 11) if i != 1][:10]
        if isinstance(index, SQLiteVecIndex):  # every vector scanned: exact
            assert hits == truth
        else:  # HNSW is approximate, and its graph depends on the insertion order
            assert ids[1] not in hits and len(set(hits) & set(truth)) >= 8
    # Candidates and deletions still work on the reordered rows.
    allowed = set(ids[100:110])
    assert {pid for pid, _ in index.knn(vectors[0], 20, candidates=allowed)} == allowed
    index.delete([ids[450]])
    assert ids[450] not in [pid for pid, _ in index.knn(vectors[450], 5)]
    if isinstance(index, SQLiteVecIndex):
        assert index._loaded.clusters is not None


@pytest.mark.parametrize("dim", [384, 64])
def test_a_loaded_index_catches_up_with_only_the_rows_written_since(store: Store, dim: int) -> None:
    model = f"m{dim}"
    ids = [f"2501.{i:05d}" for i in range(40)]
    store.upsert_papers([Paper(id=pid, title=f"paper {pid}") for pid in ids])
    vectors = unit(np.random.default_rng(3), 43, dim)
    writer = vector_index(store, model)
    # Papers 20..29 get their vectors later: their row keys lie among the loaded ones.
    writer.upsert([(ids[i], "h", vectors[i]) for i in [*range(20), *range(30, 40)]])
    reader = vector_index(store, model)
    assert reader.knn(vectors[5], 1)[0][0] == ids[5]
    reads: list[int | None] = []
    if isinstance(reader, SQLiteVecIndex):
        read = reader.vectors.embedding_codes

        def spy(model: str, **kwargs: object):  # type: ignore[no-untyped-def]
            reads.append(kwargs.get("since"))  # type: ignore[arg-type]
            return read(model, **kwargs)  # type: ignore[arg-type]

        reader.vectors.embedding_codes = spy  # type: ignore[method-assign]
    # A late paper, a paper embedded for the first time, and a re-embedded one.
    store.upsert_papers([Paper(id="2502.00001", title="late paper")])
    writer.upsert(
        [("2502.00001", "h", vectors[40]), (ids[25], "h", vectors[41]), (ids[5], "h2", vectors[42])]
    )
    for row, pid in ((40, "2502.00001"), (41, ids[25]), (42, ids[5])):
        assert reader.knn(vectors[row], 1)[0][0] == pid
    assert ids[5] not in [pid for pid, _ in reader.knn(vectors[5], 3)]
    hits = reader.knn(vectors[0], 100)
    assert len(hits) == 32 and len({pid for pid, _ in hits}) == 32
    if isinstance(reader, SQLiteVecIndex):
        assert reads and all(since is not None for since in reads)  # never all again
        assert list(reader._loaded.keys) == sorted(reader._loaded.keys)


@pytest.mark.parametrize("dim", [384, 64])
def test_the_loaded_ids_are_one_array_the_garbage_collector_does_not_walk(
    store: Store, dim: int
) -> None:
    # At 2.73M papers a list of ids cost every full collection of a server 150+ ms.
    model = f"m{dim}"
    ids = [f"2501.{i:05d}" for i in range(30)] + ["math.GT/0309136", "hal-04é21ñ"]
    store.upsert_papers([Paper(id=pid, title=f"paper {pid}") for pid in ids])
    vectors = unit(np.random.default_rng(4), len(ids), dim)
    index = vector_index(store, model)
    index.upsert([(pid, "h", v) for pid, v in zip(ids, vectors, strict=True)])
    if not isinstance(index, SQLiteVecIndex):
        pytest.skip("pgvector keeps no copy of the vectors in this process")
    for row in (0, 30, 31):  # ids of any length and alphabet come back as they were
        assert index.knn(vectors[row], 1)[0][0] == ids[row]
    assert sorted(pid for pid, _ in index.knn(vectors[0], 40)) == sorted(ids)
    assert index.knn(vectors[0], 3, candidates=[ids[31], ids[2]])[0][0] in {ids[31], ids[2]}
    assert not gc.is_tracked(index._loaded.ids)


def test_clusters_take_appended_vectors_and_recluster_in_the_background(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, vectors, index = clustered(store, monkeypatch, 600)
    if not isinstance(index, SQLiteVecIndex):
        pytest.skip("PostgreSQL searches with HNSW, which pgvector keeps up to date")
    assert index.knn(vectors[7], 1)[0][0] == ids[7]
    clusters = index._loaded.clusters
    assert clusters is not None
    late = [f"2502.{i:05d}" for i in range(20)]
    store.upsert_papers([Paper(id=pid, title=f"paper {pid}") for pid in late])
    more = unit(np.random.default_rng(8), 21, 64)
    index.upsert([(pid, "h", v) for pid, v in zip(late, more[:20], strict=True)])
    index.upsert([(ids[7], "h2", more[20])])
    for row, pid in enumerate([*late, ids[7]]):
        assert index.knn(more[row], 1)[0][0] == pid
    assert ids[7] not in [pid for pid, _ in index.knn(vectors[7], 5)]
    grown = index._loaded.clusters
    assert grown is not None and grown.centroids is clusters.centroids
    assert grown.appended_rows == 21 and grown.clustered == 600
    # Past RECLUSTER_SHARE of appended vectors, a background thread clusters them all.
    monkeypatch.setattr(vectors_module, "RECLUSTER_SHARE", 0.01)
    store.upsert_papers([Paper(id="2503.00001", title="one more")])
    index.upsert([("2503.00001", "h", vectors[0])])
    assert index.knn(vectors[0], 2)[1][0] in {ids[0], "2503.00001"}
    assert index._reclustering is not None
    index._reclustering.join()
    fresh = index._loaded.clusters
    assert fresh is not None and fresh.appended_rows == 0 and fresh.clustered == 621
    assert index.knn(more[20], 1)[0][0] == ids[7]
    assert {pid for pid, _ in index.knn(vectors[0], 2)} == {ids[0], "2503.00001"}


def test_a_restart_starts_from_the_cache_file_and_catches_up(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A small model's clustered copy is written to the cache file after a full read; a
    new index (a restarted server) starts from it, reading only the rows written since,
    and answers as one that read everything. A deletion of embeddings since, or a file
    whose vectors are not the store's, makes it read everything again."""
    ids, vectors, _ = clustered(store, monkeypatch, 600)
    cache = tmp_path / "vectors"
    first = vector_index(store, "m64", cache=cache)
    first.warm()
    assert first.knn(vectors[3], 1)[0][0] == ids[3]
    if not isinstance(first, SQLiteVecIndex):
        assert not cache.exists()  # HNSW lives in the database: nothing to keep
        return
    saved = cache / "m64.npz"
    assert saved.exists() and first._loaded.clusters is not None
    # Written after the cache: a new paper and a re-embedded one.
    store.upsert_papers([Paper(id="2502.00001", title="late paper")])
    more = unit(np.random.default_rng(9), 2, 64)
    first.upsert([("2502.00001", "h", more[0]), (ids[9], "h2", more[1])])

    def restarted() -> tuple[SQLiteVecIndex, list[object]]:
        index = vector_index(store, "m64", cache=cache)
        assert isinstance(index, SQLiteVecIndex)
        reads: list[object] = []
        read = index.vectors.embedding_codes

        def spy(model: str, **kwargs: object):  # type: ignore[no-untyped-def]
            reads.append(kwargs.get("since"))
            return read(model, **kwargs)  # type: ignore[arg-type]

        index.vectors.embedding_codes = spy  # type: ignore[method-assign]
        index.warm()
        return index, reads

    second, reads = restarted()
    assert reads and None not in reads  # the file, then only what was written since
    clusters = second._loaded.clusters
    assert clusters is not None and np.array_equal(
        clusters.centroids, first._loaded.clusters.centroids
    )
    assert second.knn(more[0], 1)[0][0] == "2502.00001"
    assert second.knn(more[1], 1)[0][0] == ids[9]
    assert ids[9] not in [pid for pid, _ in second.knn(vectors[9], 5)]
    assert [pid for pid, _ in second.knn(vectors[5], 10)] == [
        pid for pid, _ in first.knn(vectors[5], 10)
    ]
    # A file whose vectors are not this store's is not believed (a copied home).
    with np.load(saved) as old:
        arrays = {name: old[name] for name in old.files}
    arrays["vectors"] = unit(np.random.default_rng(10), len(arrays["vectors"]), 64)
    with saved.open("wb") as out:
        np.savez(out, **arrays)
    third, reads = restarted()
    assert None in reads and third.knn(vectors[3], 1)[0][0] == ids[3]
    # ... nor one that is no cache at all; and a deletion since the file: all read again.
    saved.write_bytes(b"not a cache")
    assert None in restarted()[1]
    third.delete([ids[4]])
    fourth, reads = restarted()
    assert None in reads and ids[4] not in [pid for pid, _ in fourth.knn(vectors[4], 3)]


def test_no_cache_file_without_a_cache_folder_or_for_large_models(
    store: Store, tmp_path: Path
) -> None:
    """384-d vectors are held as sign bits, read from the store at each start (no
    clustering to save); without a folder nothing is written anywhere."""
    ids, vectors = fill(store, 30)
    index = vector_index(store, "m1", cache=tmp_path / "vectors")
    index.warm()
    assert index.knn(vectors[2], 1)[0][0] == ids[2]
    assert not (tmp_path / "vectors").exists()
    assert Settings(home=tmp_path).vector_cache_path == tmp_path / "vectors"
    assert Settings(home=tmp_path, vector_cache="off").vector_cache_path is None
