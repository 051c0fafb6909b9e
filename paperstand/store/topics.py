"""Topics in the store: the topic map (clusters, each paper's cluster and place) and the
keywords extracted for each paper, written once for SQLite and PostgreSQL.

Why the tables look as they do:

- **One map at a time.** ``topic_fit`` (one row) names the embedding model the map was
  fitted on; a full refit replaces ``topic_clusters`` and ``topic_points`` in one
  transaction, so a reader never sees clusters of one fit with points of another.
- **Points hang off papers** (``ON DELETE CASCADE``); a paper's day and category are read
  from ``papers`` when points are read, never copied, so they cannot go stale.
- **Centroids** are float32 bytes: an incremental update assigns new papers to the nearest
  one without refitting (and without a pickled model in the database).
- **Keywords** are one row per (paper, rank), replaced per paper, so a paper's keywords
  are rewritten without touching its record; indexed by keyword for search facets.
- **Every write bumps the data version** that page caches key on: a paper's cluster badge
  and keywords show on the next request after a build, as an ingest's changes do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    delete,
    func,
    or_,
    select,
)

from paperstand.models import TopicCluster, TopicPoint
from paperstand.store import dialect
from paperstand.store.papers import bump_data_version
from paperstand.store.part import Part
from paperstand.store.schema import Json, Key, Stamp, metadata, papers, visible

topic_fit = Table(
    "topic_fit",
    metadata,
    Column("id", Integer, CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    Column("model", Text, nullable=False),
    Column("fitted_at", Stamp, nullable=False),
)

topic_clusters = Table(
    "topic_clusters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("label", Text, nullable=False),
    Column("keywords", Json, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("centroid", LargeBinary, nullable=False),  # float32, unit length
)

topic_points = Table(
    "topic_points",
    metadata,
    Column(
        "paper_pk",
        Key,
        ForeignKey("papers.pk", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("cluster", Integer, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
)
Index("topic_points_cluster", topic_points.c.cluster)

paper_keywords = Table(
    "paper_keywords",
    metadata,
    Column("paper_pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("keyword", Text, nullable=False),
    PrimaryKeyConstraint("paper_pk", "rank"),
)
# A keyword facet looks papers up by keyword.
Index("paper_keywords_keyword", paper_keywords.c.keyword)

# Ids per IN list: well under SQLite's limit on bound parameters.
CHUNK = 900
_DAY = func.coalesce(papers.c.submitted_on, papers.c.listed)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class TopicsStore(Part):
    """The topic map and paper keywords (``store.topics``)."""

    def _pks(self, conn, paper_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(list(dict.fromkeys(paper_ids))):
            rows = conn.execute(select(papers.c.id, papers.c.pk).where(papers.c.id.in_(chunk)))
            found.update({paper_id: pk for paper_id, pk in rows})
        return found

    # --- the map ------------------------------------------------------------------------

    def replace_map(
        self, model: str, clusters: Sequence[TopicCluster], points: Sequence[TopicPoint]
    ) -> None:
        """Replace the whole map (clusters, points, the model it was fitted on) in one
        transaction. Points of papers not in the store are left out."""
        with self.write() as conn:
            conn.execute(delete(topic_points))
            conn.execute(delete(topic_clusters))
            conn.execute(delete(topic_fit))
            conn.execute(
                topic_fit.insert().values(id=1, model=model, fitted_at=dialect.now(self.dialect))
            )
            if clusters:
                conn.execute(
                    topic_clusters.insert(),
                    [
                        {
                            "id": c.id,
                            "label": c.label,
                            "keywords": list(c.keywords),
                            "x": c.x,
                            "y": c.y,
                            "centroid": np.asarray(c.centroid, dtype=np.float32).tobytes(),
                        }
                        for c in clusters
                    ],
                )
            self._insert_points(conn, points)
            bump_data_version(conn)

    def add_points(self, points: Sequence[TopicPoint]) -> None:
        """Add points to the current map, or move ones already on it."""
        with self.write() as conn:
            pks = self._pks(conn, [p.paper_id for p in points])
            for chunk in _chunks(list(pks.values())):
                conn.execute(delete(topic_points).where(topic_points.c.paper_pk.in_(chunk)))
            self._insert_points(conn, points, pks)
            bump_data_version(conn)

    def _insert_points(
        self, conn, points: Sequence[TopicPoint], pks: dict[str, int] | None = None
    ) -> None:
        pks = pks if pks is not None else self._pks(conn, [p.paper_id for p in points])
        rows = [
            {"paper_pk": pks[p.paper_id], "cluster": p.cluster, "x": p.x, "y": p.y}
            for p in points
            if p.paper_id in pks
        ]
        if rows:
            conn.execute(topic_points.insert(), rows)

    def has_map(self) -> bool:
        """Whether a topic map with clusters exists (papers get badges only then)."""
        with self.read() as conn:
            return dialect.holds_rows(conn, topic_clusters)

    def model(self) -> str | None:
        """The embedding model of the current map; None before the first fit."""
        with self.read() as conn:
            return conn.execute(select(topic_fit.c.model)).scalar()

    def stamp(self) -> tuple[str | None, str | None, int]:
        """(model, fit time, number of points): changes whenever the map does, for caches."""
        with self.read() as conn:
            fit = conn.execute(select(topic_fit.c.model, topic_fit.c.fitted_at)).first()
            count = conn.execute(select(func.count()).select_from(topic_points)).scalar()
        model, fitted = fit if fit else (None, None)
        return model, str(fitted) if fitted else None, int(count or 0)

    def of_papers(self, paper_ids: Sequence[str]) -> dict[str, TopicCluster]:
        """The cluster each of these papers is in (without centroid and size), in one
        query per 900 ids: what a page of paper cards badges its papers with. Papers not
        on the map are left out."""
        query = (
            select(papers.c.id, topic_clusters.c.id, topic_clusters.c.label)
            .join(topic_points, topic_points.c.cluster == topic_clusters.c.id)
            .join(papers, papers.c.pk == topic_points.c.paper_pk)
        )
        found: dict[str, TopicCluster] = {}
        with self.read() as conn:
            for chunk in _chunks(list(dict.fromkeys(paper_ids))):
                for paper_id, cluster, label in conn.execute(query.where(papers.c.id.in_(chunk))):
                    found[paper_id] = TopicCluster(cluster, label, [], 0.0, 0.0)
        return found

    def clusters(self) -> list[TopicCluster]:
        """The clusters of the current map, by id, with how many papers (visible ones) each
        holds."""
        sizes = (
            select(topic_points.c.cluster, func.count().label("size"))
            .join(papers, papers.c.pk == topic_points.c.paper_pk)
            .where(visible())
            .group_by(topic_points.c.cluster)
            .subquery()
        )
        query = (
            select(topic_clusters, func.coalesce(sizes.c.size, 0))
            .outerjoin(sizes, sizes.c.cluster == topic_clusters.c.id)
            .order_by(topic_clusters.c.id)
        )
        with self.read() as conn:
            return [
                TopicCluster(
                    id=row.id,
                    label=row.label,
                    keywords=list(row.keywords),
                    x=row.x,
                    y=row.y,
                    centroid=np.frombuffer(row.centroid, dtype=np.float32),
                    size=row[-1],
                )
                for row in conn.execute(query)
            ]

    def points(
        self,
        *,
        since: str | None = None,
        paper_ids: Sequence[str] | None = None,
        cluster: int | None = None,
        with_hidden: bool = False,
    ) -> list[TopicPoint]:
        """Points of papers not deleted (nor hidden by an admin, unless ``with_hidden``:
        the map keeps their places), with each paper's day and primary category, in
        the order of the papers' days (then ids); ``since`` keeps papers of that day or
        later, ``paper_ids`` and ``cluster`` keep those papers or that cluster's."""
        query = (
            select(
                papers.c.id,
                topic_points.c.cluster,
                topic_points.c.x,
                topic_points.c.y,
                _DAY,
                papers.c.primary_category,
            )
            .join(papers, papers.c.pk == topic_points.c.paper_pk)
            .where(~papers.c.deleted if with_hidden else visible())
            .order_by(_DAY, papers.c.id)
        )
        if since is not None:
            query = query.where(_DAY >= since)
        if cluster is not None:
            query = query.where(topic_points.c.cluster == cluster)
        with self.read() as conn:
            if paper_ids is None:
                return [TopicPoint(*row) for row in conn.execute(query)]
            out: list[TopicPoint] = []
            for chunk in _chunks(list(paper_ids)):
                out.extend(
                    TopicPoint(*row) for row in conn.execute(query.where(papers.c.id.in_(chunk)))
                )
            return out

    # --- keywords -------------------------------------------------------------------------

    def save_keywords(self, rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Replace the extracted keywords of these papers (best first), in one transaction."""
        with self.write() as conn:
            pks = self._pks(conn, [paper_id for paper_id, _ in rows])
            for chunk in _chunks(list(pks.values())):
                conn.execute(delete(paper_keywords).where(paper_keywords.c.paper_pk.in_(chunk)))
            values = [
                {"paper_pk": pks[paper_id], "rank": rank, "keyword": keyword}
                for paper_id, keywords in rows
                if paper_id in pks
                for rank, keyword in enumerate(dict.fromkeys(keywords))
            ]
            if values:
                conn.execute(paper_keywords.insert(), values)
            bump_data_version(conn)

    def keywords(self, paper_ids: Sequence[str]) -> dict[str, list[str]]:
        """Extracted keywords of these papers, best first; papers without any left out."""
        found: dict[str, list[str]] = {}
        query = (
            select(papers.c.id, paper_keywords.c.keyword)
            .join(papers, papers.c.pk == paper_keywords.c.paper_pk)
            .order_by(papers.c.id, paper_keywords.c.rank)
        )
        with self.read() as conn:
            for chunk in _chunks(list(paper_ids)):
                for paper_id, keyword in conn.execute(query.where(papers.c.id.in_(chunk))):
                    found.setdefault(paper_id, []).append(keyword)
        return found

    def papers_with_keyword(self, keyword: str) -> list[str]:
        """Ids of the papers (not deleted) that have ``keyword``, latest day first: among
        their extracted keywords (lower-cased, as extracted) or, exactly as written, among
        the ``ai_keywords`` their source gave. What a keyword facet of search keeps."""
        extracted = select(paper_keywords.c.paper_pk).where(
            paper_keywords.c.keyword == keyword.lower()
        )
        query = (
            select(papers.c.id)
            .where(
                ~papers.c.deleted,
                or_(
                    papers.c.pk.in_(extracted),
                    dialect.json_array_has(self.dialect, papers.c.ai_keywords, keyword),
                ),
            )
            .order_by(_DAY.desc().nulls_last(), papers.c.id.desc())
        )
        with self.read() as conn:
            return list(conn.execute(query).scalars())
