"""The topic map built from a real store (both backends): full fit, incremental placement
after new papers are embedded, keywords, trends, the browser's JSON and the PNG."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.topics import service
from tests.topics import slice as real
from tests.topics.test_compute import has_graph_word

FIRST = 400  # fitted; the last 80 papers of the slice arrive later


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, embedding_model=real.MODEL, topics_clusters=8)


def gnn_ids() -> set[str]:
    return {p.id for p, g in zip(real.papers(), real.is_gnn(), strict=True) if g}


def test_first_build_fits_clusters_map_and_keywords(store: Store, settings: Settings) -> None:
    real.load(store, slice(0, FIRST))
    stages: list[str] = []
    report = service.build_topics(store, settings, progress=lambda s, d, t: stages.append(s))
    assert (report.mode, report.papers, report.placed, report.clusters) == ("full", 400, 400, 8)
    assert "topics: fit" in stages
    assert store.topics.model() == real.MODEL
    clusters = store.topics.clusters()
    assert [c.id for c in clusters] == list(range(8))
    assert sum(c.size for c in clusters) == 400
    assert all(c.label and c.keywords and len(c.centroid) == 384 for c in clusters)
    points = store.topics.points()
    assert len(points) == 400
    assert all(0 <= p.x <= 1 and 0 <= p.y <= 1 and p.day and p.category for p in points)
    # The cluster most GNN papers fell into is about graphs, and the only one.
    gnn = gnn_ids()
    by_cluster = np.bincount([p.cluster for p in points if p.paper_id in gnn], minlength=8)
    graph_cluster = clusters[int(by_cluster.argmax())]
    assert has_graph_word(graph_cluster.keywords[:2])
    assert sum(has_graph_word(c.keywords[:2]) for c in clusters) == 1
    # Every paper got keywords; Hugging Face's own win where a paper has them.
    some = real.papers()[:3]
    assert all(len(k) == 8 for k in store.topics.keywords([p.id for p in some]).values())
    hf = replace(some[0], ai_keywords=["given keyword"])
    assert service.keywords_of(store, [hf, some[1]]) == {
        hf.id: ["given keyword"],
        some[1].id: store.topics.keywords([some[1].id])[some[1].id],
    }


def test_new_papers_are_placed_into_the_existing_map(store: Store, settings: Settings) -> None:
    real.load(store, slice(0, FIRST))
    service.build_topics(store, settings)
    before = {c.id: (c.label, c.x, c.y) for c in store.topics.clusters()}
    old_points = {p.paper_id: (p.x, p.y) for p in store.topics.points()}
    assert service.build_topics(store, settings).placed == 0  # nothing new: nothing moves

    real.load(store, slice(FIRST, None))
    report = service.build_topics(store, settings)
    assert (report.mode, report.placed, report.papers, report.keywords) == (
        "incremental",
        80,
        480,
        80,
    )
    # Clusters and the papers already mapped stay where they were.
    assert {c.id: (c.label, c.x, c.y) for c in store.topics.clusters()} == before
    points = {p.paper_id: p for p in store.topics.points()}
    assert {i: (points[i].x, points[i].y) for i in old_points} == old_points
    # New GNN papers join the graph cluster more often than all others together.
    gnn = gnn_ids()
    clusters = store.topics.clusters()
    graph = next(c.id for c in clusters if has_graph_word(c.keywords[:2]))
    new_ids = [p.id for p in real.papers()[FIRST:]]
    new_gnn = [i for i in new_ids if i in gnn]
    assert len(new_gnn) >= 5
    assert sum(points[i].cluster == graph for i in new_gnn) > len(new_gnn) / 2
    assert set(store.topics.keywords(new_ids)) == set(new_ids)


def test_a_full_refit_or_another_model_replaces_the_map(store: Store, settings: Settings) -> None:
    real.load(store, slice(0, 100))
    service.build_topics(store, settings)
    real.load(store, slice(100, 200))
    assert service.build_topics(store, settings, full=True).placed == 200
    assert len(store.topics.points()) == 200
    # Vectors of another model: the map is fitted anew on those only.
    other = settings.model_copy(update={"embedding_model": "static-64"})
    assert service.build_topics(store, other).mode == "empty"
    assert store.topics.points() == [] and store.topics.clusters() == []


def test_deleted_papers_leave_the_map(store: Store, settings: Settings) -> None:
    real.load(store, slice(0, 100))
    service.build_topics(store, settings)
    gone = replace(real.papers()[0], deleted=True)
    store.upsert_papers([gone])
    assert gone.id not in {p.paper_id for p in store.topics.points()}
    assert sum(c.size for c in store.topics.clusters()) == 99


def test_trends_count_weeks_per_cluster_and_category(store: Store, settings: Settings) -> None:
    real.load(store, slice(0, None))
    service.build_topics(store, settings)
    found = service.trends(store)
    assert found["latest"] == max(r["listed"] for r in real.rows())
    assert len(found["weeks"]) == 26 and found["weeks"][-1] == "2026-W14"
    total = sum(sum(c["counts"]) for c in found["clusters"])
    assert total == sum(sum(c["counts"]) for c in found["categories"]) + sum(
        1
        for r in real.rows()
        if r["categories"][0] not in {c["category"] for c in found["categories"]}
    )
    assert found["categories"][0]["category"] == "cs.CV"
    # March brought 56 GNN papers against none sampled before: graph words rise.
    rising = [r["keyword"] for r in found["rising"]]
    assert any("graph" in k for k in rising[:10])
    assert all(r["ratio"] > 1 and r["recent"] >= 3 for r in found["rising"])


def test_map_payload_is_compact_and_filters_by_day(store: Store, settings: Settings) -> None:
    real.load(store, slice(0, None))
    service.build_topics(store, settings)
    payload = service.map_payload(store)
    n = len(payload["ids"])
    assert n == 480 and all(len(payload[k]) == n for k in ("x", "y", "c", "d"))
    assert all(0 <= v <= payload["grid"] for v in payload["x"] + payload["y"])
    assert payload["day0"] == min(r["listed"] for r in real.rows())
    recent = service.map_payload(store, since="2026-03-15")
    assert 0 < len(recent["ids"]) < n
    assert sum(c["n"] for c in recent["clusters"]) == len(recent["ids"])
    newest = service.map_payload(store, limit=10)
    assert len(newest["ids"]) == 10


def test_the_map_is_drawn_to_a_png(store: Store, settings: Settings, tmp_path: Path) -> None:
    real.load(store, slice(0, 200))
    service.build_topics(store, settings)
    out = tmp_path / "map.png"
    assert service.draw_map_png(store, out) == 200
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000
