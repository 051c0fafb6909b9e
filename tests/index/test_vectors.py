"""The vector index of each backend: storing, replacing, deleting and nearest neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from paperstand.index import vectors as vectors_module
from paperstand.index.vectors import Clusters, SQLiteVecIndex, vector_index
from paperstand.models import Paper
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


def test_empty_index_and_unknown_papers(store: Store) -> None:
    index = vector_index(store, "m1")
    query = unit(np.random.default_rng(2), 1)[0]
    assert index.knn(query, 10) == []
    index.upsert([("not-a-paper", "h", query)])  # ignored: no such paper
    assert index.count() == 0 and index.get(["not-a-paper"]) == {}


def test_clusters_partition_the_vectors_and_probing_all_is_exact() -> None:
    rng = np.random.default_rng(3)
    vectors = unit(rng, 2000, 64)
    clusters = Clusters(vectors, probe=10_000)
    # Every row is in exactly one cluster, and the runs cover the rows in order.
    assert sorted(clusters.order.tolist()) == list(range(2000))
    assert clusters.starts[0] == 0 and clusters.starts[-1] == 2000
    assert np.all(np.diff(clusters.starts) >= 0)
    ordered = vectors[clusters.order]
    query = unit(rng, 1, 64)[0]
    rows, scores = clusters.nearest(ordered, query, 10)
    assert [int(clusters.order[r]) for r in rows] == exact(vectors, query, 10)
    assert np.allclose(scores, ordered[rows] @ query, atol=1e-5)


def test_probing_a_few_clusters_keeps_most_neighbours() -> None:
    # Papers come in topics: vectors scattered around 40 centres, like real embeddings.
    rng = np.random.default_rng(4)
    centres = unit(rng, 40, 64)
    vectors = centres[rng.integers(0, 40, 4000)] + 0.6 * unit(rng, 4000, 64) / 8**0.5
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    clusters = Clusters(vectors, probe=8)  # 8 of 63 clusters: an eighth of the vectors
    ordered = vectors[clusters.order]
    found = 0
    for row in range(0, 4000, 200):
        rows, _ = clusters.nearest(ordered, vectors[row], 10)
        found += len({int(clusters.order[r]) for r in rows} & set(exact(vectors, vectors[row], 10)))
    assert found >= 0.9 * 20 * 10


def test_a_large_small_model_index_searches_by_clusters(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The threshold lowered so a test-sized store is clustered (on SQLite; PostgreSQL
    # answers the same questions with HNSW).
    monkeypatch.setattr(vectors_module, "CLUSTER_FROM", 500)
    monkeypatch.setattr(vectors_module, "CLUSTER_PROBE", 100)  # every cluster: exact
    ids, vectors = fill(store, 900, model="m64", dim=64)
    index = vector_index(store, "m64")
    rng = np.random.default_rng(5)
    for row in (0, 450, 899):
        query = vectors[row] + 0.05 * unit(rng, 1, 64)[0]
        query /= np.linalg.norm(query)
        hits = index.knn(query, 10, exclude={ids[1]})
        truth = [ids[i] for i in exact(vectors, query, 11) if i != 1][:10]
        assert [pid for pid, _ in hits] == truth
    # Candidates and deletions still work on the reordered rows.
    allowed = set(ids[100:110])
    assert {pid for pid, _ in index.knn(vectors[0], 20, candidates=allowed)} == allowed
    index.delete([ids[450]])
    assert ids[450] not in [pid for pid, _ in index.knn(vectors[450], 5)]
    if isinstance(index, SQLiteVecIndex):
        assert index._clusters is not None
