"""``paperstand lists import`` as a script runs it: a real process over a real store, both
backends. The report is JSON on stdout; errors are one line and a non-zero exit, with
nothing imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperstand import library
from paperstand.models import Paper
from paperstand.store import Store
from tests.test_cli_user import fails, ok

BIBTEX = """@misc{good, title = {One}, eprint = {2604.00001}, archivePrefix = {arXiv}}
@article{nopaper, title = {No identifiers}, year = 2020}
@article{link, title = {Two}, url = {https://huggingface.co/papers/2604.00002}}
"""


@pytest.fixture
def owned(store: Store) -> int:
    store.upsert_papers([Paper(id=f"2604.0000{n}", title=f"Paper {n}") for n in (1, 2, 3)])
    user = store.accounts.add_user("ada@lab.example", "ada", None)
    return library.create_list(store, user.id, "Imported").id


def test_import_a_bibtex_file_and_pasted_references(
    store: Store, tmp_path: Path, owned: int
) -> None:
    bib = tmp_path / "zotero.bib"
    bib.write_text(BIBTEX)
    report = json.loads(
        ok(store, tmp_path, "lists", "import", "Ada@lab.example", str(owned), str(bib))
    )
    assert (report["added"], [p["where"] for p in report["problems"]]) == (2, ["entry nopaper"])
    pasted = tmp_path / "ids.txt"
    pasted.write_text("2604.00003\nhttps://arxiv.org/abs/2604.00001\nnot-a-paper\n")
    report = json.loads(
        ok(store, tmp_path, "lists", "import", "ada@lab.example", str(owned), str(pasted))
    )
    assert (report["added"], report["already"]) == (1, 1)
    assert report["problems"][0]["where"] == "line 3: not-a-paper"
    items = [item.paper_id for item in store.library.items(owned)]
    assert items == ["2604.00001", "2604.00002", "2604.00003"]


def test_bad_input_is_one_line_and_imports_nothing(
    store: Store, tmp_path: Path, owned: int
) -> None:
    latin = tmp_path / "latin1.bib"
    latin.write_bytes("@misc{x, title={Caf\xe9}, eprint={2604.00001}}".encode("latin-1"))
    assert "not UTF-8" in fails(
        store, tmp_path, "lists", "import", "ada@lab.example", str(owned), str(latin)
    )
    missing = str(tmp_path / "nowhere.bib")
    assert "cannot read" in fails(
        store, tmp_path, "lists", "import", "ada@lab.example", str(owned), missing
    )
    bib = tmp_path / "ok.bib"
    bib.write_text(BIBTEX)
    assert "no account" in fails(
        store, tmp_path, "lists", "import", "bo@lab.example", str(owned), str(bib)
    )
    assert "no list" in fails(
        store, tmp_path, "lists", "import", "ada@lab.example", "999", str(bib)
    )
    assert store.library.items(owned) == []
