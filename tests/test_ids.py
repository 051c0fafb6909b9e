"""Ids found in source records: the fast path for plain new-style ids changes nothing."""

from __future__ import annotations

import pytest

from paperstand import ids


@pytest.mark.parametrize(
    "raw",
    [
        "2401.00001",
        "0103.44677",
        "2401.0001",
        "2401.00001v2",
        " 2401.00001 ",
        "arXiv:2401.00001v3",
        "oai:arXiv.org:2401.00001",
        "hep-th/9901001v1",
        "math.AG/0601001",
        "https://arxiv.org/abs/2401.00001v2",
        "doi:10.1000/ABC",
        "٢٤٠١.٠٠٠٠١",  # Unicode digits: what the general path's \d accepts too
        "not an id",
    ],
)
def test_record_id_is_the_canonical_id_and_version_of_the_general_path(raw: str) -> None:
    assert ids.record_id(raw) == ids.split_version(ids.normalise_id(raw))


def test_a_plain_new_style_id_is_its_own_canonical_id() -> None:
    assert ids.record_id("2407.01234") == ("2407.01234", None)
    assert ids.record_id("hep-th/9901001") == ("hep-th/9901001", None)
