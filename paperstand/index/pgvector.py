"""Nearest-neighbour search for the PostgreSQL store: pgvector's HNSW index.

One HNSW index (cosine) per model lives in the database beside the vectors
(``EmbeddingStore.save_embeddings`` creates it), so every web process and worker shares it
and nothing is held in memory here. Restricting the search to ``candidates`` compares those
papers exactly instead: a short list needs no index.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from paperstand.index.vectors import VectorIndex
from paperstand.store import Store
from paperstand.store.embeddings import HnswVectors


class PgVectorIndex(VectorIndex):
    def __init__(
        self, store: Store, vectors: HnswVectors, model: str, *, ef_search: int | None = None
    ) -> None:
        super().__init__(store, model)
        self.vectors = vectors
        # Candidates the graph search visits (None: the store's default): more buys recall
        # with time, which an operator of a large archive may want (docs/benchmarks.md).
        self.ef_search = ef_search

    def has_vectors(self) -> bool:
        return self.vectors.has_embeddings(self.model)

    def knn(
        self,
        vector: np.ndarray,
        k: int = 10,
        *,
        candidates: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[tuple[str, float]]:
        if k <= 0 or (candidates is not None and not candidates):
            return []
        skip = set(exclude)
        found = self.vectors.nearest_embeddings(
            self.model,
            np.asarray(vector, dtype=np.float32).reshape(-1),
            k + len(skip),
            among=None if candidates is None else list(candidates),
            ef_search=self.ef_search,
        )
        return [(pid, 1.0 - distance) for pid, distance in found if pid not in skip][:k]
