"""`index build`: bring the full-text index and the embeddings up to date with the store.

Incremental on purpose: a daily ingest adds a few hundred papers, and re-embedding 100k
abstracts takes minutes. The full-text index catches up by paper revision; a paper is
(re-)embedded only when it has no embedding, its title or abstract changed (a hash of the
text embedded is kept with the vector), or its embedding was made by another model, so
changing the model setting re-embeds everything on the next build.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paperstand.index.fulltext import FullTextIndex
from paperstand.index.vectors import vector_index
from paperstand.settings import Settings
from paperstand.store import Store

if TYPE_CHECKING:
    from paperstand.index.embeddings import Embedder

# Texts handed to the model at once, and saved in one transaction: big enough to keep the
# model busy, small enough that an interrupted build loses little.
BATCH_SIZE = 256

# (stage, done, total): stage is "full text" or "embeddings"; total may be None.
Progress = Callable[[str, int, int | None], None]


def content_hash(title: str, abstract: str) -> str:
    """A fingerprint of what a paper's embedding is made of."""
    return hashlib.sha1(f"{title.strip()}\n{abstract.strip()}".encode()).hexdigest()


@dataclass
class BuildReport:
    model: str
    indexed: int = 0  # papers (re)written to the full-text index
    embedded: int = 0  # papers (re)embedded
    up_to_date: int = 0  # papers whose embedding was kept
    embed_seconds: float = 0.0  # the whole embedding stage: reading, model, saving

    @property
    def rate(self) -> float | None:
        """Abstracts embedded per second."""
        return self.embedded / self.embed_seconds if self.embed_seconds > 0 else None

    def summary(self) -> str:
        line = (
            f"full text: {self.indexed} papers indexed; embeddings ({self.model}): "
            f"{self.embedded} embedded, {self.up_to_date} up to date"
        )
        if self.rate:
            line += f" ({self.rate:.0f} abstracts/s)"
        return line

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "indexed": self.indexed,
            "embedded": self.embedded,
            "up_to_date": self.up_to_date,
            "abstracts_per_second": self.rate,
        }


def sync_fulltext(store: Store, settings: Settings, progress: Progress | None = None) -> int:
    index = FullTextIndex(settings.fulltext_path)
    total = max(store.revision() - index.revision, 0)
    return index.sync(store, (lambda n: progress("full text", n, total)) if progress else None)


def stale_embeddings(store: Store, model: str) -> tuple[list[str], int]:
    """Ids of the papers whose embedding is missing or stale, and how many are current."""
    stale: list[str] = []
    current = 0
    for batch in store.iter_embedding_sources(batch_size=5000):
        for source in batch:
            if source.model == model and source.content_hash == content_hash(
                source.title, source.abstract
            ):
                current += 1
            else:
                stale.append(source.id)
    return stale, current


def embed_missing(
    store: Store,
    embedder: Embedder,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> BuildReport:
    """Embed every paper whose embedding is missing or stale, batch by batch."""
    from paperstand.index.embeddings import document_text as embedding_text

    report = BuildReport(model=embedder.name)
    stale, report.up_to_date = stale_embeddings(store, embedder.name)
    index = vector_index(store, embedder.name)
    if progress:
        progress("embeddings", 0, len(stale))
    began = time.perf_counter()
    for start in range(0, len(stale), batch_size):
        papers = store.get_papers(stale[start : start + batch_size])
        texts = [embedding_text(p.title, p.abstract) for p in papers]
        vectors = embedder.embed_documents(texts)
        index.upsert(
            [
                (p.id, content_hash(p.title, p.abstract), vector)
                for p, vector in zip(papers, vectors, strict=True)
            ]
        )
        report.embedded += len(papers)
        report.embed_seconds = time.perf_counter() - began
        if progress:
            progress("embeddings", report.embedded, len(stale))
    return report


def build_index(
    store: Store,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Update the full-text index, then embed what is missing with the configured model."""
    indexed = sync_fulltext(store, settings, progress)
    if embedder is None:
        from paperstand.index.embeddings import get_embedder

        embedder = get_embedder(settings.embedding_model)
    report = embed_missing(store, embedder, progress=progress)
    report.indexed = indexed
    return report
