"""The arithmetic of topics: keywords, clusters, labels, a 2-D map, placement of new papers.

Pure functions over texts and embedding matrices: no store, no settings, so each step is
tested and benchmarked on its own (``benchmarks/topics.py``).

- **Keywords** are the phrases (one to three words, never across a stop word or
  punctuation) with the highest TF-IDF weight in a paper, against a reference corpus that
  gives the document frequencies. TF-IDF rather than KeyBERT-style similarity: ranking
  candidate phrases by their similarity to the paper needs a good phrase embedding, and
  the only model cheap enough to embed millions of phrases (``static-64``) picked
  fragments like "lacks flexibility unknown"; YAKE took 30 ms of CPU a paper (50 minutes
  for 100k) and still returned single generic words. Corpus statistics say at once which
  phrases are specific to a paper.
- **Clusters**: mini-batch k-means over the L2-normalised embeddings (on the unit sphere,
  Euclidean k-means orders points like cosine similarity), labelled by class-based TF-IDF:
  the phrases frequent in one cluster and rare in the others.
- **Map**: UMAP of the embeddings (cosine metric) to 2-D, scaled into the unit square;
  above 20,000 papers, UMAP of a sample and the others placed among it.
- **Placement**: a new paper goes where its nearest mapped neighbours are (the
  similarity-weighted mean of their coordinates; UMAP's own ``transform`` starts from the
  same point), and into the cluster of the nearest centroid. Placing needs only stored
  coordinates and embeddings, never a pickled UMAP model, so any worker on any machine
  can place papers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer

# Words of the genre, frequent in every field's abstracts and never what a paper is about.
ACADEMIC_WORDS = frozenset(
    """
    paper propose proposed proposes novel approach approaches method methods result results
    using use used uses based show shows shown demonstrate demonstrates new framework
    frameworks task tasks existing achieve achieves achieving performance significantly
    significant work works study studies present presents introduce introduces state art
    extensive experiments experimental furthermore moreover however address addresses
    problem problems challenge challenges challenging effectively effective various recent
    recently code available publicly provide provides key critical crucial remains widely
    simple strong efficient comprehensive outperforms outperform including specifically
    leverage leverages leveraging enable enables enabling improve improves improved
    improving benchmark benchmarks evaluate evaluation evaluations analysis results
    demonstrating achieved superior compared existing prior previous typically offers
    despite high low large small different potential et al github com https http www
    model models data mathrm mathbf mathcal text
    """.split()
)
STOP_WORDS = ENGLISH_STOP_WORDS | ACADEMIC_WORDS
_TOKEN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_BREAK = re.compile(r"[^a-z0-9\-\s]+")
_MATH = re.compile(r"\$[^$]*\$")
MAX_PHRASE_WORDS = 3
PLACEMENT_SHARPNESS = 0.05  # cosine similarity; a neighbour 0.05 less similar weighs 1/e
# Papers UMAP is fitted on; the others of a larger map are placed among them.
PROJECTION_SAMPLE = 20_000


def phrases(text: str) -> list[str]:
    """Candidate keywords of a text: every run of one to three consecutive words with no
    stop word, number or punctuation between them ("graph neural network", "message
    passing"), lower-cased, with repeats (the counts are term frequencies). LaTeX math
    (``$...$``) breaks a phrase and gives none."""
    out: list[str] = []
    for piece in _BREAK.split(_MATH.sub(" . ", text.lower())):
        run: list[str] = []
        for word in piece.split() + [""]:
            if _TOKEN.fullmatch(word) and len(word) > 2 and word not in STOP_WORDS:
                run.append(word)
                continue
            for size in range(1, min(MAX_PHRASE_WORDS, len(run)) + 1):
                out.extend(" ".join(run[i : i + size]) for i in range(len(run) - size + 1))
            run = []
    return out


@dataclass
class PhraseCounts:
    """Phrase counts of a corpus: ``matrix[i, j]`` is how often phrase ``vocabulary[j]``
    occurs in text ``i``. The one pass over the texts that keywords and labels share."""

    matrix: sparse.csr_matrix
    vocabulary: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[str], *, min_df: int = 2) -> PhraseCounts:
        # A phrase in one text only says nothing about a topic; in a tiny corpus keep all.
        vectorizer = CountVectorizer(
            analyzer=phrases, min_df=min_df if len(texts) >= 50 else 1, dtype=np.float32
        )
        try:
            matrix = vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # no text had a single candidate phrase
            return cls(sparse.csr_matrix((len(texts), 0), dtype=np.float32), np.array([]))
        return cls(matrix, vectorizer.get_feature_names_out())


def _best_phrases(
    scores: np.ndarray, columns: np.ndarray, vocabulary: np.ndarray, count: int
) -> list[str]:
    """The ``count`` best-scoring phrases, never one inside another: a longer phrase takes
    the place of a shorter one it contains when it scores at least half as well ("graph
    neural network" for "graph"), a phrase inside one already picked is skipped. So a
    few keywords cover several ideas, each as precisely as the text names it."""
    picked: list[tuple[str, float]] = []
    for j in np.argsort(-scores, kind="stable"):
        score = float(scores[j])
        if score <= 0:
            break
        phrase = str(vocabulary[columns[j]])
        inside = [n for n, (p, s) in enumerate(picked) if p in phrase and score >= s / 2]
        if inside:
            picked[inside[0]] = (phrase, picked[inside[0]][1])
            picked = [item for n, item in enumerate(picked) if n not in inside[1:]]
            continue
        if any(phrase in p or p in phrase for p, _ in picked):
            continue
        if len(picked) < count:
            picked.append((phrase, score))
        elif len(phrase.split()) == 1:
            break  # only a longer phrase could still change the list
    return [p for p, _ in picked]


def _length_boost(vocabulary: np.ndarray) -> np.ndarray:
    """Longer phrases name a topic more precisely than their words alone."""
    words = np.char.count(vocabulary.astype(str), " ") + 1 if len(vocabulary) else np.ones(0)
    return 1.0 + 0.25 * (np.asarray(words, dtype=np.float32) - 1)


def paper_keywords(counts: PhraseCounts, rows: Sequence[int], *, count: int = 8) -> list[list[str]]:
    """The keywords of the texts at ``rows`` of ``counts``: TF-IDF (sublinear term
    frequency, document frequency from the whole corpus of ``counts``) times a bonus for
    longer phrases."""
    if not counts.vocabulary.size:
        return [[] for _ in rows]
    weights = TfidfTransformer(sublinear_tf=True, norm=None).fit(counts.matrix)
    tfidf = weights.transform(counts.matrix[list(rows)]).tocsr()
    boost = _length_boost(counts.vocabulary)
    out = []
    for i in range(tfidf.shape[0]):
        start, end = tfidf.indptr[i], tfidf.indptr[i + 1]
        columns = tfidf.indices[start:end]
        out.append(
            _best_phrases(tfidf.data[start:end] * boost[columns], columns, counts.vocabulary, count)
        )
    return out


def cluster_count(papers: int, requested: int = 0) -> int:
    """How many clusters for this many papers: ``requested`` when given, else about
    sqrt(papers / 20) (16 for a month of a few thousand papers, capped at 60 for 100k, so
    each label stays readable on the map)."""
    if papers < 2:
        return papers
    k = requested or round((papers / 20) ** 0.5)
    return int(min(max(k, 2), 60 if not requested else k, papers))


def fit_clusters(vectors: np.ndarray, k: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k-means over L2-normalised ``vectors``: (assignment of each row, unit centroids)."""
    from sklearn.cluster import MiniBatchKMeans

    unit = _unit(vectors)
    if k <= 1 or len(unit) <= 1:
        centroid = _unit(unit.mean(axis=0, keepdims=True)) if len(unit) else unit[:0]
        return np.zeros(len(unit), dtype=np.int32), centroid
    model = MiniBatchKMeans(
        n_clusters=k, n_init=3, batch_size=4096, random_state=seed, max_no_improvement=20
    ).fit(unit)
    return model.labels_.astype(np.int32), _unit(model.cluster_centers_.astype(np.float32))


def nearest_cluster(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The cluster of each row: the centroid most similar by cosine."""
    return np.argmax(_unit(vectors) @ centroids.T, axis=1).astype(np.int32)


def cluster_labels(
    counts: PhraseCounts, assignment: np.ndarray, k: int, *, count: int = 5
) -> list[list[str]]:
    """The top phrases of each cluster by class-based TF-IDF: a phrase's frequency in the
    cluster's texts taken together, times log(1 + average phrases per cluster / the
    phrase's frequency over all clusters), so words every cluster uses sink."""
    if not counts.vocabulary.size or k == 0:
        return [[] for _ in range(k)]
    members = sparse.csr_matrix(
        (np.ones(len(assignment), dtype=np.float32), (assignment, np.arange(len(assignment)))),
        shape=(k, len(assignment)),
    )
    per_cluster = (members @ counts.matrix).tocsr()
    totals = np.asarray(per_cluster.sum(axis=1)).ravel()
    frequency = np.asarray(per_cluster.sum(axis=0)).ravel()
    idf = np.log1p(totals.mean() / np.maximum(frequency, 1e-9))
    boost = _length_boost(counts.vocabulary)
    labels = []
    for c in range(k):
        start, end = per_cluster.indptr[c], per_cluster.indptr[c + 1]
        columns = per_cluster.indices[start:end]
        tf = per_cluster.data[start:end] / max(totals[c], 1.0)
        # Phrases of a single paper do not describe a cluster of many.
        tf = np.where(per_cluster.data[start:end] >= min(3, max(totals[c], 1)), tf, 0)
        labels.append(
            _best_phrases(tf * idf[columns] * boost[columns], columns, counts.vocabulary, count)
        )
    return labels


def fit_projection(
    vectors: np.ndarray, *, seed: int | None = None, sample: int = PROJECTION_SAMPLE
) -> np.ndarray:
    """2-D coordinates of each row in the unit square: UMAP with the cosine metric (15
    neighbours: local topics stay together, the layout of the whole stays readable). Fewer
    than 16 papers: their first two principal components.

    Above ``sample`` rows, UMAP is fitted on ``sample`` of them, evenly spread, and the
    others are placed among those as new papers are (:func:`place`). UMAP's neighbour
    search and layout cost several times more CPU per paper at 100k papers than at 20k
    (most of a 100k fit, on two cores more than the ten minutes a refit may take), while
    20,000 papers already show every topic of the field; placing the rest takes seconds
    and puts each paper where its nearest fitted neighbours are."""
    unit = _unit(vectors)
    if len(unit) < 16:
        return _unit_square(_principal(unit))
    fitted = (
        np.linspace(0, len(unit), sample, endpoint=False).astype(np.int64)
        if len(unit) > sample
        else np.arange(len(unit))
    )
    import umap

    reducer = umap.UMAP(
        n_neighbors=15,
        n_components=2,
        metric="cosine",
        min_dist=0.1,
        low_memory=True,
        random_state=seed,
        n_jobs=1 if seed is not None else -1,
    )
    coords = np.empty((len(unit), 2), dtype=np.float32)
    coords[fitted] = reducer.fit_transform(unit[fitted]).astype(np.float32)
    if len(fitted) < len(unit):
        rest = np.setdiff1d(np.arange(len(unit)), fitted, assume_unique=True)
        coords[rest] = place(unit[rest], unit[fitted], coords[fitted])
    return _unit_square(coords)


def place(
    vectors: np.ndarray,
    reference_vectors: np.ndarray,
    reference_coords: np.ndarray,
    *,
    neighbours: int = 10,
    chunk: int = 2048,
) -> np.ndarray:
    """Coordinates for new papers in an existing map: the mean of the coordinates of their
    ``neighbours`` most similar mapped papers, weighted by exp((similarity - best) /
    ``PLACEMENT_SHARPNESS``): a paper nearly identical to a mapped one lands on it, a
    paper between several lands between them."""
    if not len(vectors):
        return np.zeros((0, 2), dtype=np.float32)
    if not len(reference_vectors):
        return np.full((len(vectors), 2), 0.5, dtype=np.float32)
    reference = _unit(reference_vectors)
    k = min(neighbours, len(reference))
    out = np.empty((len(vectors), 2), dtype=np.float32)
    for start in range(0, len(vectors), chunk):
        sims = _unit(vectors[start : start + chunk]) @ reference.T
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        close = np.take_along_axis(sims, nearest, axis=1)
        weights = np.exp((close - close.max(axis=1, keepdims=True)) / PLACEMENT_SHARPNESS)
        weights /= weights.sum(axis=1, keepdims=True)
        out[start : start + chunk] = np.einsum("nk,nkd->nd", weights, reference_coords[nearest])
    return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _principal(vectors: np.ndarray) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0, keepdims=True) if len(vectors) else vectors
    if len(centred) < 2:
        return np.zeros((len(centred), 2), dtype=np.float32)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ components[:2].T
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((len(coords), 2 - coords.shape[1]))])
    return coords.astype(np.float32)


def _unit_square(coords: np.ndarray) -> np.ndarray:
    """Scale both axes by the same factor into [0, 1] (shapes keep their proportions)."""
    if not len(coords):
        return coords.reshape(0, 2).astype(np.float32)
    low = coords.min(axis=0)
    span = float((coords.max(axis=0) - low).max()) or 1.0
    scaled = (coords - low) / span
    # Centre the shorter axis.
    scaled += (1.0 - scaled.max(axis=0)) / 2
    return scaled.astype(np.float32)
