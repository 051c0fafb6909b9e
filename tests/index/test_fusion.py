"""Reciprocal rank fusion and score fusion: the arithmetic, weights and ties."""

from __future__ import annotations

import pytest

from paperstand.index.fusion import reciprocal_rank_fusion, score_fusion


def test_a_paper_found_by_both_lists_beats_one_found_by_one() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]])
    assert [pid for pid, _ in fused] == ["b", "a", "d", "c"]
    scores = dict(fused)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)


def test_k_and_weights_change_the_order() -> None:
    lists = [["a", "b"], ["b", "a"]]
    # Equal weights: a tie, broken by the first list.
    assert [pid for pid, _ in reciprocal_rank_fusion(lists)] == ["a", "b"]
    weighted = reciprocal_rank_fusion(lists, weights=[1.0, 2.0])
    assert [pid for pid, _ in weighted] == ["b", "a"]
    assert dict(reciprocal_rank_fusion([["a"]], k=0))["a"] == pytest.approx(1.0)


def test_duplicates_count_once_and_empty_lists_are_fine() -> None:
    assert dict(reciprocal_rank_fusion([["a", "a"]]))["a"] == pytest.approx(1 / 61)
    assert reciprocal_rank_fusion([[], []]) == []
    assert reciprocal_rank_fusion([]) == []


def test_one_weight_per_list() -> None:
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])


def test_score_fusion_keeps_how_far_ahead_a_hit_is() -> None:
    # BM25 has "a" far ahead; dense finds "b" and "a" almost alike. Ranks alone would tie
    # them (each first once, second once); normalised scores put "a" first.
    bm25 = [("a", 30.0), ("b", 10.0), ("c", 9.0)]
    dense = [("b", 0.61), ("a", 0.60), ("d", 0.20)]
    fused = score_fusion([bm25, dense])
    assert [pid for pid, _ in fused] == ["a", "b", "c", "d"]  # c, d tie at 0: first met
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1.0 + 0.40 / 0.41)
    assert scores["c"] == pytest.approx(0.0)
    assert scores["d"] == pytest.approx(0.0)
    assert [pid for pid, _ in reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]])][:2] == [
        "a",
        "b",
    ]  # a tie, broken by the first list


def test_score_fusion_weights_one_hit_lists_and_duplicates() -> None:
    lists = [[("a", 2.0), ("b", 1.0)], [("b", 5.0), ("a", 1.0)]]
    assert [pid for pid, _ in score_fusion(lists, weights=[1.0, 2.0])] == ["b", "a"]
    assert score_fusion([[("x", 3.0)]]) == [("x", 1.0)]  # one hit: it is the best
    assert dict(score_fusion([[("a", 2.0), ("a", 1.0), ("b", 1.0)]]))["a"] == pytest.approx(1.0)
    assert score_fusion([[], []]) == []
    with pytest.raises(ValueError):
        score_fusion([[("a", 1.0)]], weights=[1.0, 1.0])


def test_score_fusion_floors_fix_what_earns_nothing() -> None:
    """A floor replaces the list's lowest score as the zero: BM25 from 0 keeps each hit's
    share of the best score, and a score below the floor earns nothing, never less."""
    bm25 = [("a", 10.0), ("b", 8.0), ("c", 2.0)]
    dense = [("b", 0.9), ("d", 0.5), ("a", 0.3), ("e", 0.1)]
    scores = dict(score_fusion([bm25, dense], weights=[1.0, 0.5], floors=[0.0, 0.5]))
    assert scores["a"] == pytest.approx(1.0)  # below the dense floor: nothing from dense
    assert scores["b"] == pytest.approx(0.8 + 0.5)
    assert scores["c"] == pytest.approx(0.2)  # min-max would give it 0
    assert scores["d"] == pytest.approx(0.0)
    assert scores["e"] == pytest.approx(0.0)
    # Reading a list deeper changes nothing when the floors stay.
    deeper = [*bm25, ("f", 1.0)]
    assert (
        score_fusion([deeper, dense], floors=[0.0, 0.5])[:3]
        == score_fusion([bm25, dense], floors=[0.0, 0.5])[:3]
    )
    # None is min-max, as without floors.
    assert score_fusion([bm25], floors=[None]) == score_fusion([bm25])
    with pytest.raises(ValueError):
        score_fusion([bm25, dense], floors=[0.0])
