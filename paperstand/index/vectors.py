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

import copy
import functools
import logging
import os
import threading
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from paperstand.store import Store
from paperstand.store.embeddings import BitCodeVectors

log = logging.getLogger(__name__)

# A neighbour search: (vector, k, candidates=..., exclude=...) -> [(paper id, similarity)].
Knn = Callable[..., list[tuple[str, float]]]


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

    def snapshot(self) -> Knn | None:
        """The neighbour search (:meth:`knn`) over the vectors as they are now, for one
        search that asks whether there are any and then searches them (None: no paper has
        an embedding of this model). The in-memory SQLite index checks the embeddings'
        version once here instead of once per call."""
        return self.knn if self.has_vectors() else None

    def warm(self) -> None:
        """Get ready to search, so that the first search does not wait: a server calls it
        in the background at start. An index kept in the database has nothing to do."""
        return None

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
# Vectors a query scans: those of its nearest clusters (of about sqrt(n): 1,651 at 2.7M
# vectors), nearest first, until this many. A budget of vectors rather than a number of
# clusters: clusters differ in size up to tenfold, and 64 clusters held recall@10 on text
# queries at 0.77 while about the same number of vectors, spread over more small
# clusters, reach 0.93, and 150,000 0.955 (benchmarks/scale_vectors.py).
CLUSTER_SCAN = 128_000
# Vectors appended to the clusters since they were made (new papers, re-embedded ones)
# that make a background re-clustering, as a share of the clustered ones.
RECLUSTER_SHARE = 0.2
# Candidates of the bit-code stage re-scored exactly (at least twice k). Re-scoring costs
# about 1 ms per 100 candidates; benchmarks/search_speed.py measures the recall it buys.
RESCORE = 150
# The cache file of an in-memory copy (SQLiteVecIndex, small models): bump when its layout
# changes, and a cache of another format is read no more (the vectors are read again).
CACHE_FORMAT = 2
# Rows of a cache file whose vectors are compared with the store's before it is trusted.
CACHE_CHECKS = 32


def id_array(ids: Sequence[str]) -> np.ndarray:
    """Paper ids as one fixed-width bytes array (UTF-8), not a list of ``str``.

    At 2.73M papers a list of ids is 2.73M objects the cyclic garbage collector walks on
    every full collection: 300-450 ms in a server, one request stalled each time; the array
    is one object, and a third of the memory."""
    if not ids:
        return np.zeros(0, dtype="S1")
    return np.array("\0".join(ids).encode().split(b"\0"), dtype=np.bytes_)


@dataclass
class _Loaded:
    """One consistent in-memory copy of a model's vectors. A change builds a new one (or
    writes rows in place) and swaps it in whole, so a query never sees half an update."""

    version: tuple[int, int] | None = None
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ids: np.ndarray = field(default_factory=lambda: id_array([]))  # see id_array
    # Column-major: one row per 8 (or 1) bytes of code, so the Hamming distance is a few
    # passes over contiguous memory.
    columns: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.uint64))
    vectors: np.ndarray | None = None  # small models only: searched exactly
    clusters: Clusters | None = None  # ... by their nearest clusters when many
    row_of: dict[str, int] | None = None  # paper id -> row, made on first use

    def rows_by_id(self) -> dict[str, int]:
        if self.row_of is None:
            self.row_of = {pid.decode(): row for row, pid in enumerate(self.ids.tolist())}
        return self.row_of


class SQLiteVecIndex(VectorIndex):
    """Bit-code first stage in memory, exact sqlite-vec re-scoring (see the module doc).

    The copy in memory follows the store's writes incrementally: rows stamped after the
    version it holds are read (through an index), known papers' rows overwritten, new ones
    appended (with clusters: to their nearest cluster). Only the first load, a deletion of
    embeddings, or clusters grown by ``RECLUSTER_SHARE`` (re-clustered in a background
    thread while queries use the old copy) read every vector again.

    A copy of float vectors (a small model: at 2.73M papers, reading and clustering them
    takes about a minute of CPU) is also kept in the file ``cache`` when one is given,
    written in the background after each full read. The first load starts from it when it
    is still this store's: written at an embeddings version no deletion has passed since,
    and ``CACHE_CHECKS`` of its vectors equal to the store's; then it catches up with the
    rows written since, as any copy does. Anything else reads every vector again."""

    def __init__(
        self,
        store: Store,
        vectors: BitCodeVectors,
        model: str,
        *,
        rescore: int = RESCORE,
        cache: Path | None = None,
    ) -> None:
        super().__init__(store, model)
        self.vectors = vectors
        self.rescore = rescore
        self.cache = cache
        self._lock = threading.Lock()
        self._loaded = _Loaded()
        self._reclustering: threading.Thread | None = None
        self._saving: threading.Thread | None = None

    def _load(self) -> _Loaded:
        """The current copy, brought up to date when any process changed the embeddings."""
        version = self.vectors.embeddings_version()
        if version == self._loaded.version:
            return self._loaded
        with self._lock:
            loaded = self._loaded
            if version == loaded.version:  # another thread caught up meanwhile
                return loaded
            if loaded.version is None:
                loaded = self._read_cache(version) or loaded
            if loaded.version is None or version[1] > loaded.version[0]:
                self._loaded = self._read_all(version)
                self._save_in_background(self._loaded)
            else:
                self._loaded = self._catch_up(loaded, version)
                self._maybe_recluster()
            return self._loaded

    def warm(self) -> None:
        """Load the copy (from the cache file when it can), and write the cache file when
        every vector was read."""
        self._load()
        saving = self._saving
        if saving is not None:
            saving.join()

    # --- the cache file -----------------------------------------------------------------

    def _save_in_background(self, loaded: _Loaded) -> None:
        """Write ``loaded`` to the cache file in a thread: no search waits for the disk."""
        if self.cache is None or loaded.vectors is None or not len(loaded.ids):
            return
        self._saving = threading.Thread(
            target=self._save, args=(loaded,), name=f"vector-cache-{self.model}", daemon=True
        )
        self._saving.start()

    def _save(self, loaded: _Loaded) -> None:
        """Write the cache file whole, then move it into place: a reader sees the old file
        or the new one, never half of one."""
        assert self.cache is not None and loaded.version is not None
        clusters = loaded.clusters.arrays() if loaded.clusters is not None else {}
        partial = self.cache.with_name(f"{self.cache.name}.{os.getpid()}.partial")
        try:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as out:
                np.savez(
                    out,
                    meta=np.array([CACHE_FORMAT, *loaded.version], dtype=np.int64),
                    model=np.frombuffer(self.model.encode(), dtype=np.uint8),
                    keys=loaded.keys,
                    ids=loaded.ids,
                    columns=loaded.columns,
                    vectors=loaded.vectors,
                    **{f"clusters_{name}": array for name, array in clusters.items()},
                )
            partial.replace(self.cache)
        except OSError as exc:  # a read-only or full disk: the next start reads the store
            log.warning("vector cache not written to %s: %s", self.cache, exc)
            partial.unlink(missing_ok=True)

    def _read_cache(self, version: tuple[int, int]) -> _Loaded | None:
        """The copy in the cache file when it is still this store's (see the class doc),
        else None."""
        if self.cache is None or not self.cache.exists():
            return None
        try:
            with np.load(self.cache, allow_pickle=False) as saved:
                meta = saved["meta"]
                if (
                    int(meta[0]) != CACHE_FORMAT
                    or saved["model"].tobytes().decode() != self.model
                    or version[1] > int(meta[1])  # embeddings deleted since
                    or version[0] < int(meta[1])  # an older store than the cache's
                ):
                    return None
                keys, vectors = saved["keys"], saved["vectors"]
                clusters = {
                    name.removeprefix("clusters_"): saved[name]
                    for name in saved.files
                    if name.startswith("clusters_")
                }
                loaded = _Loaded(
                    version=(int(meta[1]), int(meta[2])),
                    keys=keys,
                    ids=saved["ids"],
                    columns=saved["columns"],
                    vectors=vectors,
                    clusters=Clusters.from_arrays(clusters) if clusters else None,
                )
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            log.warning("vector cache %s not read: %s", self.cache, exc)
            return None
        return loaded if self._matches_store(loaded) else None

    def _matches_store(self, loaded: _Loaded) -> bool:
        """Whether ``CACHE_CHECKS`` rows of ``loaded``, spread over it, hold the store's
        vectors: a cache left by another store (a copy, a restored backup) is not."""
        assert loaded.vectors is not None
        if len(loaded.keys) != len(loaded.ids) or len(loaded.keys) != len(loaded.vectors):
            return False
        if not len(loaded.keys):
            return True
        rows = np.unique(np.linspace(0, len(loaded.keys) - 1, CACHE_CHECKS).astype(np.int64))
        probe = loaded.vectors[rows[0]]
        distances = (1.0 - loaded.vectors[rows] @ probe).tolist()
        expected = dict(zip(loaded.keys[rows].tolist(), distances, strict=True))
        found = dict(self.vectors.embedding_distances(self.model, probe, list(expected)))
        return found.keys() == expected.keys() and all(
            abs(found[key] - distance) < 1e-4 for key, distance in expected.items()
        )

    def _read(
        self, since: int | None, small: bool
    ) -> tuple[list[int], list[str], np.ndarray, np.ndarray | None]:
        """Keys, ids, codes and (small models) float vectors of the rows written after
        version ``since`` (all with None)."""
        keys, ids, blob, floats = self.vectors.embedding_codes(
            self.model, with_vectors=small, since=since
        )
        width = len(blob) // len(keys) if keys else 1
        codes = np.frombuffer(blob, dtype=np.uint8).reshape(len(keys), width)
        if width % 8 == 0:  # popcount 8 bytes at a time
            codes = codes.view(np.uint64)
        vectors = (
            np.frombuffer(floats, dtype=np.float32).reshape(len(keys), -1)
            if small and keys and floats is not None
            else None
        )
        return keys, ids, codes, vectors

    def _read_all(self, version: tuple[int, int]) -> _Loaded:
        # Sign bits of a small model say too little (recall@10 0.31 with 64-d vectors);
        # its float vectors are small enough to hold and scan exactly.
        small = self.vectors.embedding_code_width(self.model) * 8 <= EXACT_MAX_DIM
        keys, ids, codes, vectors = self._read(None, small)
        key_array, id_rows = np.asarray(keys, dtype=np.int64), id_array(ids)
        clusters = None
        if vectors is not None and len(keys) >= CLUSTER_FROM:
            # Rows are kept in cluster order, so a cluster is one contiguous run.
            clusters = Clusters(vectors)
            order = clusters.order
            vectors, codes = vectors[order], codes[order]
            key_array, id_rows = key_array[order], id_rows[order]
        return _Loaded(
            version=version,
            keys=key_array,
            ids=id_rows,
            columns=np.ascontiguousarray(codes.T),
            vectors=vectors,
            clusters=clusters,
        )

    def _catch_up(self, loaded: _Loaded, version: tuple[int, int]) -> _Loaded:
        """``loaded`` with the rows written since its version: known papers' rows
        overwritten in place (with clusters: retired, and the new vector appended to its
        nearest cluster), new papers appended."""
        assert loaded.version is not None
        if not len(loaded.ids):  # nothing held yet: the first rows decide the layout
            return self._read_all(version)
        keys, ids, codes, vectors = self._read(loaded.version[0], loaded.vectors is not None)
        row_of = loaded.rows_by_id()
        known = [i for i, pid in enumerate(ids) if pid in row_of]
        columns, all_vectors = loaded.columns, loaded.vectors
        if known and loaded.clusters is None:  # copies: queries still read the old ones
            rows = [row_of[ids[i]] for i in known]
            columns = columns.copy()
            columns[:, rows] = codes[known].T
            if all_vectors is not None and vectors is not None:
                all_vectors = all_vectors.copy()
                all_vectors[rows] = vectors[known]
        appended = known if loaded.clusters is not None else []
        appended = sorted([*appended, *(i for i, pid in enumerate(ids) if pid not in row_of)])
        if not appended:
            return replace(loaded, version=version, columns=columns, vectors=all_vectors)
        clusters = loaded.clusters
        new_vectors = None if vectors is None else vectors[appended]
        if clusters is not None and new_vectors is not None:
            clusters = clusters.appended(
                new_vectors, retired=[row_of[ids[i]] for i in known], first_row=len(loaded.ids)
            )
        new_ids = np.concatenate([loaded.ids, id_array([ids[i] for i in appended])])
        new_keys = np.concatenate([loaded.keys, np.asarray(keys, dtype=np.int64)[appended]])
        columns = np.concatenate([columns, codes[appended].T], axis=1)
        if all_vectors is not None and new_vectors is not None:
            all_vectors = np.concatenate([all_vectors, new_vectors])
        if clusters is None and np.any(np.diff(new_keys) < 0):
            # The bit-code stage finds rows by key (np.searchsorted): keep keys sorted.
            order = np.argsort(new_keys, kind="stable")
            new_keys, new_ids = new_keys[order], new_ids[order]
            columns = columns[:, order]
            all_vectors = None if all_vectors is None else all_vectors[order]
        return _Loaded(
            version=version,
            keys=new_keys,
            ids=new_ids,
            columns=np.ascontiguousarray(columns),
            vectors=all_vectors,
            clusters=clusters,
        )

    def _maybe_recluster(self) -> None:
        """Re-cluster in a background thread once the vectors appended since the clusters
        were made reach ``RECLUSTER_SHARE`` of them: appended vectors join the cluster
        nearest to them, but the centroids no longer move with the data."""
        loaded = self._loaded
        clusters = loaded.clusters
        if clusters is None:  # an exact scan grown past CLUSTER_FROM gets clusters
            if loaded.vectors is None or len(loaded.ids) < CLUSTER_FROM:
                return
        elif clusters.appended_rows < RECLUSTER_SHARE * clusters.clustered:
            return
        if self._reclustering is not None and self._reclustering.is_alive():
            return
        self._reclustering = threading.Thread(
            target=self.recluster, name=f"recluster-{self.model}", daemon=True
        )
        self._reclustering.start()

    def recluster(self) -> None:
        """Read every vector and cluster them again, then swap the new copy in (queries
        use the old one meanwhile) and catch up with what was written during the work."""
        version = self.vectors.embeddings_version()
        fresh = self._read_all(version)
        with self._lock:
            self._loaded = fresh
        self._save_in_background(fresh)
        self._load()

    def has_vectors(self) -> bool:
        return len(self._load().keys) > 0

    def snapshot(self) -> Knn | None:
        loaded = self._load()
        return functools.partial(self._knn, loaded) if len(loaded.keys) else None

    def _nearest_codes(
        self, loaded: _Loaded, query: np.ndarray, rows: np.ndarray | None, wanted: int
    ) -> np.ndarray:
        """Row numbers of (about) the ``wanted`` codes nearest to the query's, by Hamming
        distance, chosen with a histogram of the distances instead of a sort."""
        columns = loaded.columns if rows is None else loaded.columns[:, rows]
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
        return self._knn(self._load(), vector, k, candidates=candidates, exclude=exclude)

    def _knn(
        self,
        loaded: _Loaded,
        vector: np.ndarray,
        k: int = 10,
        *,
        candidates: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[tuple[str, float]]:
        keys, ids = loaded.keys, loaded.ids
        if k <= 0 or len(keys) == 0:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
        rows = None
        if candidates is not None:
            row_of = loaded.rows_by_id()
            rows = np.fromiter((row_of[p] for p in candidates if p in row_of), dtype=np.int64)
            if len(rows) == 0:
                return []
        skip = set(exclude)
        if loaded.vectors is not None:
            return self._exact(loaded, query, rows, k, skip)
        best = self._nearest_codes(loaded, query, rows, max(self.rescore, 2 * k) + len(skip))
        exact = self.vectors.embedding_distances(self.model, query, keys[best].tolist())
        positions = np.searchsorted(keys, [key for key, _ in exact])
        scored = sorted(
            (
                (ids[pos].decode(), 1.0 - dist)
                for pos, (_, dist) in zip(positions, exact, strict=True)
            ),
            key=lambda hit: -hit[1],
        )
        return [hit for hit in scored if hit[0] not in skip][:k]

    def _exact(
        self, loaded: _Loaded, query: np.ndarray, rows: np.ndarray | None, k: int, skip: set[str]
    ) -> list[tuple[str, float]]:
        assert loaded.vectors is not None
        wanted = k + len(skip)
        if rows is None and loaded.clusters is not None:
            best_rows, scores = loaded.clusters.nearest(loaded.vectors, query, wanted)
        else:
            if rows is not None and loaded.clusters is not None:
                rows = rows[~loaded.clusters.retired[rows]]
            vectors = loaded.vectors if rows is None else loaded.vectors[rows]
            # einsum, not BLAS: a multi-threaded BLAS call on a busy 2-core machine stalls
            # for tens of ms, while this single-threaded loop scans 100k x 64 floats in a
            # few ms.
            similarity = np.einsum("ij,j->i", vectors, query)
            best = top(similarity, wanted)
            best_rows, scores = (best if rows is None else rows[best]), similarity[best]
        hits = [(loaded.ids[r].decode(), float(s)) for r, s in zip(best_rows, scores, strict=True)]
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
    then scans only the vectors of its nearest clusters, exactly.

    Built in memory when the index loads (k-means on a sample, then every vector assigned
    to its nearest centroid in chunks); seeded, so a store always gets the same clusters.
    The number of clusters grows with the square root of the vectors; a query scans its
    nearest clusters until ``scan`` vectors (``CLUSTER_SCAN``). Recall@10 against the exact
    scan, and what it costs, are measured by benchmarks/scale_vectors.py
    (docs/benchmarks.md)."""

    SAMPLE = 50_000  # vectors k-means is trained on
    ROUNDS = 8  # k-means iterations
    CHUNK = 65_536  # vectors assigned to centroids at once (bounds the temporary memory)

    def __init__(self, vectors: np.ndarray, *, scan: int = 0, seed: int = 0) -> None:
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
        self.scan = scan or CLUSTER_SCAN
        assigned = self.assign(vectors)
        # Row numbers in cluster order, and where each cluster's run starts in that order.
        self.order = np.argsort(assigned, kind="stable")
        self.starts = np.searchsorted(assigned[self.order], np.arange(len(self.centroids) + 1))
        # Rows appended later (``appended``) past the ``clustered`` ones in cluster order,
        # with their clusters, and the rows whose paper has a newer row (never a hit).
        self.clustered = n
        self.extra_rows = np.zeros(0, dtype=np.int64)
        self.extra_clusters = np.zeros(0, dtype=np.int64)
        self.retired = np.zeros(n, dtype=bool)

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """The nearest centroid of each vector."""
        return np.concatenate(
            [
                np.argmax(vectors[start : start + self.CHUNK] @ self.centroids.T, axis=1)
                for start in range(0, len(vectors), self.CHUNK)
            ]
            or [np.zeros(0, dtype=np.int64)]
        )

    # What :meth:`arrays` saves and :meth:`from_arrays` restores: the clusters themselves,
    # not the vectors (kept in cluster order beside them) nor the order they came in.
    SAVED = ("centroids", "starts", "extra_rows", "extra_clusters", "retired")

    def arrays(self) -> dict[str, np.ndarray]:
        """The clusters as arrays, for the cache file of ``SQLiteVecIndex``."""
        return {
            "clustered": np.array([self.clustered], dtype=np.int64),
            **{name: getattr(self, name) for name in self.SAVED},
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Clusters:
        """Clusters as :meth:`arrays` saved them, without clustering again."""
        clusters = cls.__new__(cls)
        for name in cls.SAVED:
            setattr(clusters, name, arrays[name])
        clusters.clustered = int(arrays["clustered"][0])
        clusters.scan = CLUSTER_SCAN
        clusters.order = np.zeros(0, dtype=np.int64)  # used only while first clustering
        return clusters

    @property
    def appended_rows(self) -> int:
        return len(self.extra_rows)

    def appended(self, vectors: np.ndarray, *, retired: Sequence[int], first_row: int) -> Clusters:
        """These clusters with ``vectors`` appended as rows ``first_row``... (each to its
        nearest centroid) and the rows ``retired`` (superseded by a newer vector) left
        out of every answer; the centroids stay as they are."""
        grown = copy.copy(self)
        rows = np.arange(first_row, first_row + len(vectors), dtype=np.int64)
        grown.extra_rows = np.concatenate([self.extra_rows, rows])
        grown.extra_clusters = np.concatenate([self.extra_clusters, self.assign(vectors)])
        grown.retired = np.zeros(first_row + len(vectors), dtype=bool)
        grown.retired[: len(self.retired)] = self.retired
        grown.retired[list(retired)] = True
        return grown

    def nearest(
        self, ordered: np.ndarray, query: np.ndarray, wanted: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``ordered`` (the vectors in :attr:`order`) and cosine similarities of
        (about) the ``wanted`` vectors nearest to ``query``, best first."""
        ranked = np.argsort(-(self.centroids @ query))
        scanned = np.cumsum(np.diff(self.starts)[ranked])
        clusters = ranked[: int(np.searchsorted(scanned, self.scan)) + 1]
        runs = [(int(self.starts[c]), int(self.starts[c + 1])) for c in clusters]
        extra = self.extra_rows[np.isin(self.extra_clusters, clusters)]
        rows = np.concatenate([*(np.arange(start, end) for start, end in runs), extra])
        similarity = np.empty(len(rows), dtype=np.float32)
        at = 0
        for start, end in runs:  # each run in place: no copy of the vectors
            # einsum, not BLAS: see SQLiteVecIndex._exact.
            np.einsum("ij,j->i", ordered[start:end], query, out=similarity[at : at + end - start])
            at += end - start
        if len(extra):
            similarity[at:] = np.einsum("ij,j->i", ordered[extra], query)
        if len(self.extra_rows):  # only appends retire rows
            similarity[self.retired[rows]] = -np.inf
        best = top(similarity, wanted)
        best = best[similarity[best] > -np.inf]
        return rows[best], similarity[best]


def vector_index(
    store: Store, model: str, *, cache: Path | None = None, ef_search: int | None = None
) -> VectorIndex:
    """The vector index for embeddings of ``model``, by the search ``store.vectors`` offers;
    ``cache`` a folder where an index held in memory may keep a copy for the next start,
    ``ef_search`` the candidates an HNSW search visits (PostgreSQL; None for the default)."""
    if isinstance(store.vectors, BitCodeVectors):
        file = cache / f"{model}.npz" if cache is not None else None
        return SQLiteVecIndex(store, store.vectors, model, cache=file)
    from paperstand.index.pgvector import PgVectorIndex  # written with the PostgreSQL store

    return PgVectorIndex(store, store.vectors, model, ef_search=ef_search)
