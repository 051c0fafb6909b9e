"""Nearest-neighbour search over paper embeddings, one implementation per store backend.

:class:`VectorIndex` is the interface the search service uses. Storage goes through the
store's embedding methods (``Store.save_embeddings`` and friends), so SQL stays in
``paperstand/store``; only the neighbour search differs between backends:

- :class:`SQLiteVecIndex` (embedded store): a two-stage search. The first stage ranks every
  paper by the Hamming distance of the sign bits of its vector to the query's (48 bytes a
  paper for 384 dimensions, held in memory: 5 MB at 100k papers, 130 MB at 2.7M); the
  second re-scores the best ``rescore`` candidates exactly with sqlite-vec's
  ``vec_distance_cosine`` on the float32 vectors in the database. Measured at 100k papers
  and 384 dimensions: sqlite-vec's own ``vec0`` KNN took 70-85 ms per query (float32 and
  int8) and 21 ms even on bit vectors at k=50, too slow for a 20 ms "similar papers"
  budget; the bit scan in numpy takes a few ms, and re-scoring a few hundred candidates keeps recall
  close to exact search (see docs/benchmarks.md). A small model (at most 128 dimensions)
  is held as float32 vectors and searched exactly instead, since its sign bits say too
  little; past ``CLUSTER_FROM`` vectors only those of the nearest k-means clusters
  (:class:`Clusters`), since one scan of 2.7M vectors takes 100 ms of CPU.
- ``paperstand.index.pgvector.PgVectorIndex`` (pgvector HNSW) for the PostgreSQL store.

:func:`vector_index` picks one by the type of ``store.vectors``, the search the store offers.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence

import numpy as np

from paperstand.store import Store
from paperstand.store.embeddings import BitCodeVectors


class VectorIndex(ABC):
    """The embeddings of one model in one store."""

    def __init__(self, store: Store, model: str) -> None:
        self.store = store
        self.model = model

    def upsert(self, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Store (paper id, content hash, L2-normalised float32 vector) rows."""
        self.store.save_embeddings(self.model, rows)

    def delete(self, paper_ids: Sequence[str]) -> int:
        return self.store.delete_embeddings(paper_ids)

    def get(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self.store.get_embeddings(self.model, paper_ids)

    def count(self) -> int:
        return self.store.embedding_counts().get(self.model, 0)

    def has_vectors(self) -> bool:
        """Whether any paper has an embedding of this model (asked before every search,
        so backends answer it cheaply)."""
        return self.count() > 0

    @abstractmethod
    def knn(
        self,
        vector: np.ndarray,
        k: int = 10,
        *,
        candidates: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[tuple[str, float]]:
        """The ``k`` papers nearest to ``vector`` as (paper id, cosine similarity), best
        first; only among ``candidates`` when given, never those in ``exclude``."""


# Models of at most this many dimensions are searched exactly, in memory (64-d: 26 MB at
# 100k papers); larger ones by bit codes first, then re-scoring.
EXACT_MAX_DIM = 128
# From this many vectors on, a small model's vectors are partitioned into clusters
# (:class:`Clusters`) and a query scans only the nearest clusters: scanning every one of
# 2.7M 64-d vectors takes 100-200 ms, past the whole search's budget.
CLUSTER_FROM = 200_000
# Clusters a query scans (of about sqrt(n): 1,652 at 2.7M vectors).
CLUSTER_PROBE = 64
# Candidates of the bit-code stage re-scored exactly (at least twice k). Re-scoring costs
# about 1 ms per 100 candidates; benchmarks/search_speed.py measures the recall it buys.
RESCORE = 150


class SQLiteVecIndex(VectorIndex):
    """Bit-code first stage in memory, exact sqlite-vec re-scoring (see the module doc)."""

    def __init__(
        self, store: Store, vectors: BitCodeVectors, model: str, *, rescore: int = RESCORE
    ) -> None:
        super().__init__(store, model)
        self.vectors = vectors
        self.rescore = rescore
        self._lock = threading.Lock()
        self._version: int | None = None
        self._keys = np.zeros(0, dtype=np.int64)
        self._ids: list[str] = []
        # Column-major: one row per 8 (or 1) bytes of code, so the Hamming distance is a
        # few passes over contiguous memory.
        self._columns = np.zeros((0, 0), dtype=np.uint64)
        self._vectors: np.ndarray | None = None  # small models only: searched exactly
        self._clusters: Clusters | None = None  # ... by their nearest clusters when many
        self._row_of: dict[str, int] | None = None

    def _load(self) -> None:
        """(Re)load the bit codes when any process changed the embeddings since."""
        version = self.vectors.embeddings_version()
        if version == self._version:
            return
        with self._lock:
            # Sign bits of a small model say too little (recall@10 0.31 with 64-d vectors);
            # its float vectors are small enough to hold and scan exactly.
            small = self.vectors.embedding_code_width(self.model) * 8 <= EXACT_MAX_DIM
            keys, ids, blob, floats = self.vectors.embedding_codes(self.model, with_vectors=small)
            width = len(blob) // len(keys) if keys else 1
            codes = np.frombuffer(blob, dtype=np.uint8).reshape(len(keys), width)
            if width % 8 == 0:  # popcount 8 bytes at a time
                codes = codes.view(np.uint64)
            self._vectors = (
                np.frombuffer(floats, dtype=np.float32).reshape(len(keys), -1)
                if small and keys
                else None
            )
            self._keys = np.asarray(keys, dtype=np.int64)
            self._clusters = None
            if self._vectors is not None and len(keys) >= CLUSTER_FROM:
                # Rows are kept in cluster order, so a cluster is one contiguous run.
                self._clusters = Clusters(self._vectors)
                order = self._clusters.order
                self._vectors, codes = self._vectors[order], codes[order]
                self._keys, ids = self._keys[order], [ids[row] for row in order]
            self._columns = np.ascontiguousarray(codes.T)
            self._ids = ids
            self._row_of = None
            self._version = version

    def has_vectors(self) -> bool:
        self._load()
        return len(self._keys) > 0

    def _rows_of(self, paper_ids: Collection[str]) -> np.ndarray:
        if self._row_of is None:
            self._row_of = {pid: row for row, pid in enumerate(self._ids)}
        row_of = self._row_of
        return np.fromiter((row_of[p] for p in paper_ids if p in row_of), dtype=np.int64)

    def _nearest_codes(self, query: np.ndarray, rows: np.ndarray | None, wanted: int) -> np.ndarray:
        """Row numbers of (about) the ``wanted`` codes nearest to the query's, by Hamming
        distance, chosen with a histogram of the distances instead of a sort."""
        columns = self._columns if rows is None else self._columns[:, rows]
        qcode = np.packbits(query > 0, bitorder="little").view(columns.dtype)
        distance = np.zeros(columns.shape[1], dtype=np.uint16)
        for column, word in zip(columns, qcode, strict=True):
            distance += np.bitwise_count(column ^ word)
        if wanted < len(distance):
            counts = np.cumsum(np.bincount(distance))
            limit = int(np.searchsorted(counts, wanted))
            best = np.flatnonzero(distance <= limit)
            if len(best) > 2 * wanted:  # many ties at the limit: keep the nearest
                best = best[np.argpartition(distance[best], wanted - 1)[:wanted]]
        else:
            best = np.arange(len(distance))
        return best if rows is None else rows[best]

    def knn(
        self,
        vector: np.ndarray,
        k: int = 10,
        *,
        candidates: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[tuple[str, float]]:
        self._load()
        keys, ids = self._keys, self._ids
        if k <= 0 or len(keys) == 0:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
        rows = None if candidates is None else self._rows_of(candidates)
        if rows is not None and len(rows) == 0:
            return []
        skip = set(exclude)
        if self._vectors is not None:
            return self._exact(query, rows, k, skip)
        best = self._nearest_codes(query, rows, max(self.rescore, 2 * k) + len(skip))
        exact = self.vectors.embedding_distances(self.model, query, keys[best].tolist())
        positions = np.searchsorted(keys, [key for key, _ in exact])
        scored = sorted(
            ((ids[pos], 1.0 - dist) for pos, (_, dist) in zip(positions, exact, strict=True)),
            key=lambda hit: -hit[1],
        )
        return [hit for hit in scored if hit[0] not in skip][:k]

    def _exact(
        self, query: np.ndarray, rows: np.ndarray | None, k: int, skip: set[str]
    ) -> list[tuple[str, float]]:
        wanted = k + len(skip)
        if rows is None and self._clusters is not None:
            best_rows, scores = self._clusters.nearest(self._vectors, query, wanted)
        else:
            vectors = self._vectors if rows is None else self._vectors[rows]
            # einsum, not BLAS: a multi-threaded BLAS call on a busy 2-core machine stalls
            # for tens of ms, while this single-threaded loop scans 100k x 64 floats in a
            # few ms.
            similarity = np.einsum("ij,j->i", vectors, query)
            best = top(similarity, wanted)
            best_rows, scores = (best if rows is None else rows[best]), similarity[best]
        hits = [(self._ids[r], float(s)) for r, s in zip(best_rows, scores, strict=True)]
        return [hit for hit in hits if hit[0] not in skip][:k]


def top(similarity: np.ndarray, wanted: int) -> np.ndarray:
    """Positions of the ``wanted`` largest similarities (all, if fewer), best first,
    without sorting the rest."""
    wanted = min(wanted, len(similarity))
    if wanted <= 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-similarity, wanted - 1)[:wanted]
    return best[np.argsort(-similarity[best])]


class Clusters:
    """An inverted file over float vectors: k-means clusters, and the order that makes each
    cluster one contiguous run of rows, so a query compares itself with the centroids and
    then scans only the vectors of its ``probe`` nearest clusters, exactly.

    Built in memory when the index loads (k-means on a sample, then every vector assigned
    to its nearest centroid in chunks); seeded, so a store always gets the same clusters.
    The number of clusters grows with the square root of the vectors, so a query scans
    about ``probe / sqrt(n)`` of them. Recall@10 against the exact scan, and what it costs,
    are measured by benchmarks/scale_vectors.py (docs/benchmarks.md)."""

    SAMPLE = 50_000  # vectors k-means is trained on
    ROUNDS = 8  # k-means iterations
    CHUNK = 65_536  # vectors assigned to centroids at once (bounds the temporary memory)

    def __init__(self, vectors: np.ndarray, *, probe: int = 0, seed: int = 0) -> None:
        n = len(vectors)
        count = max(1, int(np.sqrt(n)))
        rng = np.random.default_rng(seed)
        sample = vectors[np.sort(rng.choice(n, min(n, self.SAMPLE), replace=False))]
        centroids = sample[rng.choice(len(sample), min(count, len(sample)), replace=False)]
        for _ in range(self.ROUNDS):
            nearest = np.argmax(sample @ centroids.T, axis=1)
            sums = np.zeros_like(centroids)
            np.add.at(sums, nearest, sample)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            # An empty cluster keeps its centroid.
            centroids = np.where(norms > 0, sums / np.maximum(norms, 1e-12), centroids)
        self.centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        self.probe = min(len(self.centroids), probe or CLUSTER_PROBE)
        assigned = np.concatenate(
            [
                np.argmax(vectors[start : start + self.CHUNK] @ self.centroids.T, axis=1)
                for start in range(0, n, self.CHUNK)
            ]
        )
        # Row numbers in cluster order, and where each cluster's run starts in that order.
        self.order = np.argsort(assigned, kind="stable")
        self.starts = np.searchsorted(assigned[self.order], np.arange(len(self.centroids) + 1))

    def nearest(
        self, ordered: np.ndarray, query: np.ndarray, wanted: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``ordered`` (the vectors in :attr:`order`) and cosine similarities of
        (about) the ``wanted`` vectors nearest to ``query``, best first."""
        closeness = self.centroids @ query
        probe = min(self.probe, len(closeness))
        clusters = np.argpartition(-closeness, probe - 1)[:probe]
        runs = [(int(self.starts[c]), int(self.starts[c + 1])) for c in clusters]
        rows = np.concatenate([np.arange(start, end) for start, end in runs])
        similarity = np.empty(len(rows), dtype=np.float32)
        at = 0
        for start, end in runs:  # each run in place: no copy of the vectors
            # einsum, not BLAS: see SQLiteVecIndex._exact.
            np.einsum("ij,j->i", ordered[start:end], query, out=similarity[at : at + end - start])
            at += end - start
        best = top(similarity, wanted)
        return rows[best], similarity[best]


def vector_index(store: Store, model: str) -> VectorIndex:
    """The vector index for embeddings of ``model``, by the search ``store.vectors`` offers."""
    if isinstance(store.vectors, BitCodeVectors):
        return SQLiteVecIndex(store, store.vectors, model)
    from paperstand.index.pgvector import PgVectorIndex  # written with the PostgreSQL store

    return PgVectorIndex(store, store.vectors, model)
