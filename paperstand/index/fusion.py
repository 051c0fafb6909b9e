"""Reciprocal rank fusion: one ranking out of several, using ranks only.

BM25 scores and cosine similarities live on scales that cannot be added; ranks can. A paper
at rank r (1-based) of a list with weight w earns ``w / (k + r)``; the fused score is the
sum over the lists it appears in (Cormack, Clarke & Büttcher, 2009). ``k`` = 60 is the
usual constant: a larger k flattens the gap between the top ranks and the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_K = 60


def _weights(count: int, weights: Sequence[float] | None) -> Sequence[float]:
    """One weight per list, 1 each when none are given."""
    if weights is None:
        return [1.0] * count
    if len(weights) != count:
        raise ValueError("one weight per ranking")
    return weights


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]],
    *,
    k: int = DEFAULT_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Fuse ranked lists of ids (best first) into (id, score), best first. Ties keep the
    order in which ids were first met, so the first list breaks them."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, _weights(len(rankings), weights), strict=True):
        seen: set[str] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:  # a list naming an id twice counts it once, at its best rank
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def score_fusion(
    rankings: Sequence[Sequence[tuple[str, float]]],
    *,
    weights: Sequence[float] | None = None,
    floors: Sequence[float | None] | None = None,
) -> list[tuple[str, float]]:
    """Fuse scored lists of (id, score), best first, by their normalised scores.

    Each list's scores are mapped linearly so that its best hit earns 1 and its floor 0,
    then weighted and summed; an id missing from a list earns nothing from it, and a score
    below its list's floor earns nothing either (never less than missing). A list's floor
    is given in ``floors`` (for BM25 its theoretical minimum 0, so a hit keeps its share of
    the best one's score however deep the list goes), or None: the list's lowest score
    (min-max). Unlike ranks, this keeps how far ahead a list's best hits are: a paper far
    above the rest in BM25 stays ahead of papers that both lists find middling. Ties keep
    the order in which ids were first met."""
    count = len(rankings)
    lows = [None] * count if floors is None else floors
    if len(lows) != count:
        raise ValueError("one floor per ranking")
    scores: dict[str, float] = {}
    for ranking, weight, low in zip(rankings, _weights(count, weights), lows, strict=True):
        if not ranking:
            continue
        values = [score for _, score in ranking]
        top = max(values)
        bottom = min(values) if low is None else low
        span = top - bottom
        seen: set[str] = set()
        for item, score in ranking:
            if item in seen:
                continue
            seen.add(item)
            share = max((score - bottom) / span, 0.0) if span > 0 else 1.0
            scores[item] = scores.get(item, 0.0) + weight * share
    return sorted(scores.items(), key=lambda pair: -pair[1])
