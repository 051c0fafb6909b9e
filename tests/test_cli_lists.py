"""``paperstand lists import`` and ``export`` as a script runs them: a real process over a
real store, both backends. The import's report is JSON on stdout; an export is the file
itself, parsed back here; errors are one line and a non-zero exit, with nothing imported."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import bibtexparser
import pytest

from paperstand import library
from paperstand.models import Paper
from paperstand.store import Store
from tests.test_cli_user import fails, ok, run

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


@pytest.fixture
def exported(store: Store, owned: int) -> int:
    """Ada's list ``owned`` with three papers (one noted), kept private, and Bo's account."""
    ada = store.accounts.user_by_email("ada@lab.example")
    for n in (2, 1, 3):
        library.add_paper(store, ada.id, owned, f"2604.0000{n}", "read §2" if n == 1 else "")
    store.accounts.add_user("bo@lab.example", "bo", None)
    return owned


def test_export_in_every_format_parses_back(store: Store, tmp_path: Path, exported: int) -> None:
    order = ["2604.00002", "2604.00001", "2604.00003"]
    as_ada = ("lists", "export", str(exported), "--email", "ada@lab.example")
    parsed = bibtexparser.parse_string(ok(store, tmp_path, *as_ada, "--format", "bib"))
    assert [e.fields_dict["eprint"].value for e in parsed.entries] == order
    assert not parsed.failed_blocks
    rows = list(csv.DictReader(io.StringIO(ok(store, tmp_path, *as_ada, "-f", "csv"))))
    assert [(r["position"], r["id"], r["note"]) for r in rows] == [
        ("1", "2604.00002", ""),
        ("2", "2604.00001", "read §2"),
        ("3", "2604.00003", ""),
    ]
    answer = json.loads(ok(store, tmp_path, *as_ada, "--format", "json"))
    assert (answer["name"], answer["public"]) == ("Imported", False)
    assert [(p["id"], p["note"]) for p in answer["papers"]][:2] == [
        ("2604.00002", ""),
        ("2604.00001", "read §2"),
    ]
    markdown = ok(store, tmp_path, *as_ada, "--format", "md")
    assert markdown.startswith("# Imported") and "> read §2" in markdown
    assert "(https://papers.lab.example/papers/2604.00001)" in markdown
    # --output writes the file (the very bytes stdout gets) and says so on stderr.
    target = tmp_path / "out.bib"
    done = run(store, tmp_path, *as_ada, "--output", str(target))
    assert (done.returncode, done.stdout) == (0, "")
    assert "wrote 3 papers" in done.stderr
    assert target.read_text().strip() == ok(store, tmp_path, *as_ada)
    # A public list needs no account.
    ada = store.accounts.user_by_email("ada@lab.example")
    library.update_list(store, ada.id, exported, public=True)
    visitor = json.loads(ok(store, tmp_path, "lists", "export", str(exported), "-f", "json"))
    assert visitor == {**answer, "public": True, "updated": visitor["updated"]}


def test_export_errors_are_one_line(store: Store, tmp_path: Path, exported: int) -> None:
    private = ("lists", "export", str(exported))
    # A private list is no list to anyone but its owner: the same answer as no list at all.
    assert f"no list {exported}" in fails(store, tmp_path, *private)
    assert f"no list {exported}" in fails(store, tmp_path, *private, "--email", "bo@lab.example")
    assert "no list 999" in fails(store, tmp_path, "lists", "export", "999")
    assert "no account" in fails(store, tmp_path, *private, "--email", "cy@lab.example")
    mine = (*private, "--email", "ada@lab.example")
    assert "unknown format 'docx'" in fails(store, tmp_path, *mine, "--format", "docx")
    assert "cannot write" in fails(
        store, tmp_path, *mine, "--output", str(tmp_path / "no" / "such" / "dir.bib")
    )
