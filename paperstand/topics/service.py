"""Building the topic map from the store, keeping it current, and reading it back.

Two ways to build (``build_topics``):

- **Full fit** (``full=True``, the first build, or after the embedding model changed):
  every embedded paper is clustered and projected afresh, keywords are extracted for all
  of them, and the old map is replaced in one transaction. Minutes for 100k papers, so it
  runs on a schedule (job kind ``topics-refit``) or by hand (``topics build --full``).
- **Incremental** (otherwise, job kind ``topics-update`` after each ingest and embedding
  job): only papers embedded since are placed, into the existing map near their nearest
  mapped neighbours and into the cluster of the nearest centroid; clusters and labels stay
  as the last fit left them, so the map does not shift under a reader between refits.

Papers appear on the map only once they have an embedding of the configured model: the
map is a picture of the embedding space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from paperstand.errors import InvalidInput
from paperstand.models import Paper, TopicCluster, TopicPoint
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.topics import compute, mapview
from paperstand.topics.trends import TrendPaper, compute_trends

# (stage, done, total), as ``index build`` reports progress.
Progress = Callable[[str, int, int | None], None]

BATCH = 2000
# Mapped papers a placement compares new papers with, and texts that give keyword
# extraction its document frequencies in an incremental build: a sample is as good as all
# of them for both, and keeps an update to seconds.
PLACEMENT_REFERENCE = 20_000
KEYWORD_REFERENCE = 5_000
KEYWORDS_PER_PAPER = 8
LABEL_WORDS = 3
TREND_DAYS = 200  # weekly charts span 26 weeks; rising keywords look back 120 days


@dataclass
class TopicReport:
    mode: str  # "full", "incremental" or "empty"
    papers: int  # on the map after the build
    placed: int  # papers fitted (full) or placed (incremental) by this build
    clusters: int
    keywords: int  # papers whose keywords were extracted

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"topics ({self.mode}): {self.placed} papers placed, {self.papers} on the map "
            f"in {self.clusters} clusters, keywords for {self.keywords}"
        )


def paper_text(paper: Paper) -> str:
    return f"{paper.title.strip()}. {paper.abstract.strip()}"


def _embedded_ids(store: Store, model: str) -> list[str]:
    return [s.id for batch in store.iter_embedding_sources() for s in batch if s.model == model]


def _vectors(
    store: Store, model: str, ids: Sequence[str], progress: Progress | None, stage: str
) -> np.ndarray:
    rows: list[np.ndarray] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        found = store.get_embeddings(model, chunk)
        rows.extend(found[i] for i in chunk)
        if progress:
            progress(stage, min(start + BATCH, len(ids)), len(ids))
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 1), np.float32)


def _papers(store: Store, ids: Sequence[str]) -> list[Paper]:
    out: list[Paper] = []
    for start in range(0, len(ids), BATCH):
        out.extend(store.get_papers(ids[start : start + BATCH]))
    return out


def _spread(ids: Sequence[str], most: int) -> list[str]:
    """At most ``most`` of ``ids``, evenly spaced (deterministic, covers the whole map)."""
    if len(ids) <= most:
        return list(ids)
    step = len(ids) / most
    return [ids[int(n * step)] for n in range(most)]


def build_topics(
    store: Store,
    settings: Settings,
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> TopicReport:
    """Bring the topic map, clusters and keywords up to date (see the module docstring)."""
    model = settings.embedding_model
    embedded = _embedded_ids(store, model)
    if full or store.topics.model() != model or not store.topics.clusters():
        return _full_fit(store, settings, embedded, progress)
    return _update(store, model, embedded, progress)


def _full_fit(
    store: Store, settings: Settings, ids: list[str], progress: Progress | None
) -> TopicReport:
    model = settings.embedding_model
    # Only papers whose record and embedding are both there (one may be deleted meanwhile).
    papers = {p.id: p for p in _papers(store, ids) if not p.deleted}
    ids = [i for i in ids if i in papers]
    if not ids:
        store.topics.replace_map(model, [], [])
        return TopicReport("empty", 0, 0, 0, 0)
    vectors = _vectors(store, model, ids, progress, "topics: embeddings")
    texts = [paper_text(papers[i]) for i in ids]
    stage = "topics: fit"
    if progress:
        progress(stage, 0, 4)
    counts = compute.PhraseCounts.of(texts)
    k = compute.cluster_count(len(ids), settings.topics_clusters)
    assignment, centroids = compute.fit_clusters(vectors, k)
    if progress:
        progress(stage, 1, 4)
    coords = compute.fit_projection(vectors)
    if progress:
        progress(stage, 2, 4)
    labels = compute.cluster_labels(counts, assignment, k)
    keywords = compute.paper_keywords(counts, range(len(ids)), count=KEYWORDS_PER_PAPER)
    if progress:
        progress(stage, 3, 4)
    clusters = []
    for c in range(k):
        members = coords[assignment == c]
        centre = np.median(members, axis=0) if len(members) else np.array([0.5, 0.5])
        words = labels[c]
        clusters.append(
            TopicCluster(
                id=c,
                label=", ".join(words[:LABEL_WORDS]) or f"topic {c + 1}",
                keywords=words,
                x=float(centre[0]),
                y=float(centre[1]),
                centroid=centroids[c],
            )
        )
    points = [
        TopicPoint(paper_id, int(assignment[n]), float(coords[n, 0]), float(coords[n, 1]))
        for n, paper_id in enumerate(ids)
    ]
    store.topics.replace_map(model, clusters, points)
    store.topics.save_keywords(list(zip(ids, keywords, strict=True)))
    if progress:
        progress(stage, 4, 4)
    return TopicReport("full", len(ids), len(ids), k, len(ids))


def _update(
    store: Store, model: str, embedded: list[str], progress: Progress | None
) -> TopicReport:
    mapped = [p.paper_id for p in store.topics.points(with_hidden=True)]
    on_map = set(mapped)
    new_ids = [i for i in embedded if i not in on_map]
    papers = {p.id: p for p in _papers(store, new_ids) if not p.deleted}
    new_ids = [i for i in new_ids if i in papers]
    clusters = store.topics.clusters()
    if not new_ids:
        return TopicReport("incremental", len(mapped), 0, len(clusters), 0)
    vectors = _vectors(store, model, new_ids, progress, "topics: new papers")
    reference_ids = _spread(mapped, PLACEMENT_REFERENCE)
    reference = store.topics.points(paper_ids=reference_ids)
    reference_vectors = store.get_embeddings(model, [p.paper_id for p in reference])
    reference = [p for p in reference if p.paper_id in reference_vectors]
    coords = compute.place(
        vectors,
        np.vstack([reference_vectors[p.paper_id] for p in reference])
        if reference
        else np.zeros((0, vectors.shape[1]), np.float32),
        np.array([[p.x, p.y] for p in reference], dtype=np.float32).reshape(-1, 2),
    )
    centroids = np.vstack([np.asarray(c.centroid, dtype=np.float32) for c in clusters])
    ids_of_rows = np.array([c.id for c in clusters])
    assignment = ids_of_rows[compute.nearest_cluster(vectors, centroids)]
    store.topics.add_points(
        [
            TopicPoint(paper_id, int(assignment[n]), float(coords[n, 0]), float(coords[n, 1]))
            for n, paper_id in enumerate(new_ids)
        ]
    )
    # Keywords of the new papers, against a sample of the map for document frequencies.
    background = _papers(store, _spread(mapped, KEYWORD_REFERENCE))
    texts = [paper_text(papers[i]) for i in new_ids] + [paper_text(p) for p in background]
    counts = compute.PhraseCounts.of(texts)
    keywords = compute.paper_keywords(counts, range(len(new_ids)), count=KEYWORDS_PER_PAPER)
    store.topics.save_keywords(list(zip(new_ids, keywords, strict=True)))
    if progress:
        progress("topics: new papers", len(new_ids), len(new_ids))
    return TopicReport(
        "incremental", len(mapped) + len(new_ids), len(new_ids), len(clusters), len(new_ids)
    )


# --- reading ------------------------------------------------------------------------------


def keywords_of(store: Store, papers: Sequence[Paper]) -> dict[str, list[str]]:
    """The keywords to show for each paper: Hugging Face's ``ai_keywords`` where the
    source gave them (written for that paper by a model that read it whole), else the
    extracted ones."""
    extracted = store.topics.keywords([p.id for p in papers if not p.ai_keywords])
    return {p.id: list(p.ai_keywords) or extracted.get(p.id, []) for p in papers}


def trends(store: Store, *, since: str | None = None) -> dict[str, Any]:
    """Weekly papers per cluster and per category, and rising keywords (see
    :func:`paperstand.topics.trends.compute_trends`), over the mapped papers. Rising
    keywords use the extracted keywords of every paper, so that papers from a source that
    brings its own keywords do not weigh more than others."""
    points = [p for p in store.topics.points(since=since) if p.day]
    if not points:
        return compute_trends([], {})
    latest = max(p.day for p in points)
    recent_from = (date.fromisoformat(latest[:10]) - timedelta(days=TREND_DAYS)).isoformat()
    recent = [p for p in points if p.day >= recent_from]
    keywords = store.topics.keywords([p.paper_id for p in recent])
    labels = {c.id: c.label for c in store.topics.clusters()}
    return compute_trends(
        (
            TrendPaper(
                p.day, [p.category] if p.category else [], p.cluster, keywords.get(p.paper_id, [])
            )
            for p in recent
        ),
        labels,
    )


def map_points(
    store: Store, *, since: str | None = None, limit: int | None = None
) -> tuple[list[TopicPoint], list[TopicCluster]]:
    """The map's points (papers of ``since`` or later; the most recent ``limit`` of them)
    and its clusters, sized by the points shown."""
    points = store.topics.points(since=since)
    if limit is not None and len(points) > limit:
        points = sorted(points, key=lambda p: p.day or "", reverse=True)[:limit]
    shown: dict[int, int] = {}
    for point in points:
        shown[point.cluster] = shown.get(point.cluster, 0) + 1
    clusters = [replace(c, size=shown.get(c.id, 0)) for c in store.topics.clusters()]
    return points, clusters


def map_payload(
    store: Store, *, since: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    """The browser's map: see :func:`paperstand.topics.mapview.payload`."""
    return mapview.payload(*map_points(store, since=since, limit=limit))


def draw_map_png(store: Store, out: Path, *, since: str | None = None) -> int:
    """Draw the map to ``out`` with the latest day's papers ringed; how many papers."""
    points, clusters = map_points(store, since=since)
    latest = max((p.day for p in points if p.day), default=None)
    title = f"paperstand topic map: {len(points):,} papers" + (f" since {since}" if since else "")
    try:
        mapview.draw_png(
            points,
            [c for c in clusters if c.size],
            out,
            title=title,
            highlight={p.paper_id for p in points if latest and p.day == latest},
        )
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from None
    return len(points)
