"""Reciprocal rank fusion: the arithmetic, weights and ties."""

from __future__ import annotations

import pytest

from paperstand.index.fusion import reciprocal_rank_fusion


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
