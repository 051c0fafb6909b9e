"""Keywords, clusters, labels, map and placement on real papers (``tests/topics/slice.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from paperstand.topics import compute
from tests.topics import slice as real

GRAPH_WORDS = ("graph", "gnn", "node", "message passing")


def has_graph_word(phrases: list[str]) -> bool:
    return any(word in phrase for phrase in phrases for word in GRAPH_WORDS)


def test_phrases_never_cross_stop_words_punctuation_or_math():
    found = phrases = compute.phrases(
        "We propose a graph neural network for $\\mathcal{O}(n)$ message passing, and more."
    )
    assert "graph neural network" in found
    assert "message passing" in phrases
    assert not any("propose" in p or "mathcal" in p for p in found)
    assert not any("network message" in p for p in found)  # math breaks the run
    assert compute.phrases("") == []


def test_keywords_name_what_a_paper_is_about():
    counts = compute.PhraseCounts.of(real.texts())
    titles = [r["title"] for r in real.rows()]
    row = titles.index("Masked Diffusion for Generative Recommendation")
    (keywords,) = compute.paper_keywords(counts, [row], count=8)
    assert len(keywords) == 8
    assert "masked diffusion" in keywords and "recommendation" in keywords
    # No keyword is part of another: each says something new.
    assert not any(a != b and a in b for a in keywords for b in keywords)


def test_keywords_of_texts_without_words_are_empty():
    counts = compute.PhraseCounts.of(["$x$", "1 2 3"])
    assert compute.paper_keywords(counts, [0, 1]) == [[], []]


def test_a_cluster_of_graph_neural_network_papers_is_labelled_with_graph_words():
    counts = compute.PhraseCounts.of(real.texts())
    gnn = real.is_gnn()
    labels = compute.cluster_labels(counts, gnn.astype(np.int32), 2)
    assert has_graph_word(labels[1][:2])
    assert not has_graph_word(labels[0])


def test_clustering_real_embeddings_gathers_graph_papers_under_a_graph_label():
    vectors, gnn = real.vectors(), real.is_gnn()
    assignment, centroids = compute.fit_clusters(vectors, 8)
    assert centroids.shape == (8, vectors.shape[1])
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1, atol=1e-5)
    gnn_cluster = np.bincount(assignment[gnn], minlength=8).argmax()
    members = assignment == gnn_cluster
    # Most GNN papers land together, and they are most of their cluster.
    assert (members & gnn).sum() >= 0.6 * gnn.sum()
    assert (members & gnn).sum() >= 0.5 * members.sum()
    labels = compute.cluster_labels(compute.PhraseCounts.of(real.texts()), assignment, 8)
    assert has_graph_word(labels[gnn_cluster][:2])
    others = [labels[c] for c in range(8) if c != gnn_cluster]
    assert sum(has_graph_word(label[:2]) for label in others) == 0


@pytest.mark.parametrize(
    ("papers", "expected"), [(0, 0), (1, 1), (480, 5), (5400, 16), (10**6, 60)]
)
def test_cluster_count_grows_slowly_with_the_papers(papers, expected):
    assert compute.cluster_count(papers) == expected


def test_nearest_cluster_is_the_most_similar_centroid():
    vectors = real.vectors()
    assignment, centroids = compute.fit_clusters(vectors, 6)
    assert (compute.nearest_cluster(vectors, centroids) == assignment).mean() > 0.95


def test_map_keeps_neighbours_close_and_places_new_papers_among_them():
    vectors, gnn = real.vectors(), real.is_gnn()
    fitted, new = slice(0, 400), slice(400, 480)
    coords = compute.fit_projection(vectors[fitted], seed=3)
    assert coords.shape == (400, 2)
    assert coords.min() >= 0 and coords.max() <= 1 + 1e-6
    # GNN papers sit together: their nearest neighbours on the map are GNN papers far more
    # often than papers at random are (3.5-4.2 times as often over seeds 1-5 here, about 1
    # for a random layout). Judged by neighbours, not by mean distances, whose ratio (about
    # 0.6) moves with the CPU's floating point in UMAP's compiled code.
    g = coords[gnn[fitted]]
    rest = coords[~gnn[fitted]]
    distances = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    neighbours = np.argsort(distances, axis=1)[:, :10]
    assert gnn[fitted][neighbours[gnn[fitted]]].mean() > 2.5 * gnn[fitted].mean()
    # A paper placed anew lands on itself, new GNN papers land among the fitted ones.
    again = compute.place(vectors[:5], vectors[fitted], coords)
    assert np.abs(again - coords[:5]).max() < 0.1
    placed = compute.place(vectors[new], vectors[fitted], coords)
    new_gnn = placed[gnn[new]]
    assert len(new_gnn) > 5
    centre = g.mean(axis=0)
    assert (
        np.linalg.norm(new_gnn - centre, axis=1).mean()
        < np.linalg.norm(rest - centre, axis=1).mean()
    )


def test_tiny_maps_need_no_umap():
    vectors = real.vectors()[:3]
    coords = compute.fit_projection(vectors)
    assert coords.shape == (3, 2) and coords.min() >= 0 and coords.max() <= 1 + 1e-6
    assert compute.fit_projection(vectors[:0]).shape == (0, 2)
    assert compute.place(vectors, vectors[:0], np.zeros((0, 2))).tolist() == [[0.5, 0.5]] * 3


def test_a_large_map_is_fitted_on_a_sample_and_the_rest_placed_among_it():
    vectors, gnn = real.vectors(), real.is_gnn()
    coords = compute.fit_projection(vectors, seed=3, sample=160)
    assert coords.shape == (480, 2)
    assert coords.min() >= 0 and coords.max() <= 1 + 1e-6
    fitted = np.linspace(0, 480, 160, endpoint=False).astype(int)
    placed = np.setdiff1d(np.arange(480), fitted)
    # A placed paper is where its fitted neighbours are, so GNN papers, fitted or
    # placed, still sit together (less tightly than in a map of 400 fitted papers: UMAP
    # saw only 160 here), and placed GNN papers land near the fitted ones.
    again = compute.place(vectors[placed], vectors[fitted], coords[fitted])
    assert np.abs(again - coords[placed]).max() < 1e-5
    g = coords[gnn]
    rest = coords[~gnn]
    inside = np.linalg.norm(g[:, None] - g[None], axis=2).mean()
    across = np.linalg.norm(g[:, None] - rest[None], axis=2).mean()
    assert inside < 0.8 * across
    centre = coords[fitted][gnn[fitted]].mean(axis=0)
    placed_gnn = coords[placed][gnn[placed]]
    assert len(placed_gnn) > 20
    assert (
        np.linalg.norm(placed_gnn - centre, axis=1).mean()
        < np.linalg.norm(rest - centre, axis=1).mean()
    )
