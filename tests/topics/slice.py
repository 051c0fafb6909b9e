"""The real papers of ``tests/data/topics-arxiv.jsonl.gz`` and their embeddings.

480 arXiv papers: 60 random ones from each of December 2025, January and February 2026,
244 random ones from March 2026 and every March 2026 paper about graph neural networks
(56: "graph neural network" in the title or abstract, or "GNN" in the title).
``topics-arxiv.minilm-l6-int8.npy`` holds their embeddings by the default model
(``document_text`` of title and abstract, as ``index build`` makes them), stored as float16:
embedding them takes minutes on a loaded two-core machine, clustering them a moment.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import numpy as np

from paperstand.index.embeddings import document_text
from paperstand.models import Paper
from paperstand.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"
MODEL = "minilm-l6-int8"


@cache
def rows() -> tuple[dict, ...]:
    with gzip.open(DATA / "topics-arxiv.jsonl.gz", "rt") as stream:
        return tuple(json.loads(line) for line in stream)


def papers() -> list[Paper]:
    return [
        Paper(
            id=r["id"],
            title=r["title"],
            abstract=r["abstract"],
            authors=r["authors"],
            categories=r["categories"],
            listed=r["listed"],
        )
        for r in rows()
    ]


def texts() -> list[str]:
    return [document_text(r["title"], r["abstract"]) for r in rows()]


def vectors() -> np.ndarray:
    return np.load(DATA / f"topics-arxiv.{MODEL}.npy").astype(np.float32)


def is_gnn() -> np.ndarray:
    return np.array(
        [
            "graph neural network" in f"{r['title']} {r['abstract']}".lower() or "GNN" in r["title"]
            for r in rows()
        ]
    )


def load(store: Store, rows: slice = slice(None)) -> None:
    """Put these papers of the slice and their embeddings into ``store``."""
    chosen = papers()[rows]
    store.upsert_papers(chosen)
    store.save_embeddings(
        MODEL, [(p.id, "h", v) for p, v in zip(chosen, vectors()[rows], strict=True)]
    )
