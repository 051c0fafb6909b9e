"""Nearest-neighbour search for the PostgreSQL store: pgvector's HNSW index.

One HNSW index (cosine) per model lives in the database beside the vectors
(``PostgresStore.save_embeddings`` creates it), so every web process and worker shares it
and nothing is held in memory here. Restricting the search to ``candidates`` compares those
papers exactly instead: a short list needs no index.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from paperstand.index.vectors import VectorIndex


class PgVectorIndex(VectorIndex):
    def has_vectors(self) -> bool:
        return self.store.has_embeddings(self.model)  # type: ignore[attr-defined]

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
        found = self.store.nearest_embeddings(  # type: ignore[attr-defined]
            self.model,
            np.asarray(vector, dtype=np.float32).reshape(-1),
            k + len(skip),
            among=None if candidates is None else list(candidates),
        )
        return [(pid, 1.0 - distance) for pid, distance in found if pid not in skip][:k]
