"""The library service on both backends: saving, reading lists (order, notes, who sees
them), imports of pasted references and BibTeX files, and the job fetching what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperstand import library
from paperstand.errors import InvalidInput, NotFound
from paperstand.jobs import Worker
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from tests.replay import ATOM_PATH, Reply

ALICE, BOB = 1, 2
EMPTY_FEED = (
    b'<feed xmlns="http://www.w3.org/2005/Atom" '
    b'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
    b"<opensearch:totalResults>0</opensearch:totalResults></feed>"
)


def paper(pid: str, **fields) -> Paper:
    defaults = {"title": f"Paper {pid}", "authors": ["A. Author"], "published": "2026-04-28"}
    return Paper(id=pid, **{**defaults, **fields})


@pytest.fixture(autouse=True)
def accounts(store: Store) -> None:
    made = [store.accounts.add_user(f"u{n}@lab.example", f"u{n}", None) for n in (1, 2)]
    assert [user.id for user in made] == [ALICE, BOB]
    store.upsert_papers(
        [paper(f"2604.0000{n}") for n in range(1, 6)]
        + [paper("2604.00009", doi="10.1000/Nine"), paper("2604.00008", deleted=True)]
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, arxiv_delay=0, http_retries=0)


def order(store: Store, list_id: int, viewer: int = ALICE) -> list[str]:
    return [p.id for p in library.list_view(store, list_id, viewer).papers]


def test_saving_is_idempotent_and_feeds_saved_paper_ids(store: Store) -> None:
    assert library.save(store, ALICE, "https://arxiv.org/abs/2604.00001v2") == ("2604.00001", True)
    library.save(store, ALICE, "2604.00001")
    library.save(store, ALICE, "2604.00002")
    assert [p.id for p in library.saved_papers(store, ALICE)] == ["2604.00002", "2604.00001"]
    made = library.create_list(store, ALICE, "To read")
    library.add_paper(store, ALICE, made.id, "2604.00003")
    assert library.saved_paper_ids(store, ALICE) == {"2604.00001", "2604.00002", "2604.00003"}
    assert library.saved_paper_ids(store, BOB) == set()
    library.save(store, ALICE, "2604.00001", saved=False)
    library.save(store, ALICE, "2604.00001", saved=False)
    assert library.saved_paper_ids(store, ALICE) == {"2604.00002", "2604.00003"}
    assert library.saved_among(store, ALICE, ["2604.00001", "2604.00002"]) == {"2604.00002"}


@pytest.mark.parametrize("reference", ["2699.99999", "2604.00008", "not an id"])
def test_only_stored_visible_papers_can_be_saved(store: Store, reference: str) -> None:
    with pytest.raises(NotFound):
        library.save(store, ALICE, reference)


def test_a_list_keeps_its_order_through_moves_and_removals(store: Store) -> None:
    made = library.create_list(store, ALICE, "  Reading   group ", "Thursdays")
    assert (made.name, made.description, made.public, made.size) == (
        "Reading group",
        "Thursdays",
        False,
        0,
    )
    for n in (1, 2, 3, 4):
        library.add_paper(store, ALICE, made.id, f"2604.0000{n}")
    library.add_paper(store, ALICE, made.id, "2604.00002", note="again: keeps its place")
    assert order(store, made.id) == ["2604.00001", "2604.00002", "2604.00003", "2604.00004"]
    library.move_paper(store, ALICE, made.id, "2604.00004", 0)
    library.move_paper(store, ALICE, made.id, "2604.00001", 99)
    assert order(store, made.id) == ["2604.00004", "2604.00002", "2604.00003", "2604.00001"]
    library.remove_paper(store, ALICE, made.id, "2604.00002")
    library.move_paper(store, ALICE, made.id, "2604.00001", 1)
    assert order(store, made.id) == ["2604.00004", "2604.00001", "2604.00003"]
    assert [i.position for i in store.library.items(made.id)] == [0, 1, 2]
    library.set_note(store, ALICE, made.id, "2604.00003", "the proof in §3")
    notes = {p.id: item.note for p, item in library.list_view(store, made.id, ALICE).entries}
    assert notes["2604.00003"] == "the proof in §3"
    assert store.library.get_list(made.id).size == 3


def test_up_and_down_steps_move_from_where_the_paper_is_now(store: Store) -> None:
    made = library.create_list(store, ALICE, "Steps")
    for n in (1, 2, 3):
        library.add_paper(store, ALICE, made.id, f"2604.0000{n}")
    assert library.move_paper(store, ALICE, made.id, "2604.00003", by=-1) == 1
    assert library.move_paper(store, ALICE, made.id, "2604.00003", by=-1) == 0
    assert library.move_paper(store, ALICE, made.id, "2604.00003", by=-1) == 0  # stays first
    assert library.move_paper(store, ALICE, made.id, "2604.00001", by=1) == 2
    assert library.move_paper(store, ALICE, made.id, "2604.00001", by=1) == 2  # stays last
    assert order(store, made.id) == ["2604.00003", "2604.00002", "2604.00001"]
    with pytest.raises(NotFound):
        library.move_paper(store, ALICE, made.id, "2604.00005", by=1)
    with pytest.raises(NotFound):
        library.move_paper(store, BOB, made.id, "2604.00001", by=-1)


def test_a_list_page_reads_the_rows_in_order_like_the_full_view(store: Store) -> None:
    """The page's lean rows show what the whole papers would, in the same order, leaving
    out withdrawn and hidden papers and counting those still being fetched."""
    store.upsert_papers(
        [
            paper(
                "2604.00006",
                title="Many authors",
                authors=["A", "B", "C", "D", "E"],
                listed="2026-04-27",
                submitted_on="2026-04-29",
            )
        ]
    )
    made = library.create_list(store, ALICE, "Page", public=True)
    library.add_paper(store, ALICE, made.id, "2604.00006", note="five authors")
    for n in (3, 1, 2):
        library.add_paper(store, ALICE, made.id, f"2604.0000{n}")
    store.library.add_items(made.id, ALICE, [("2604.00008", ""), ("1707.08567", "")])
    admin = store.accounts.add_user("admin@lab.example", "admin", None)
    store.community.set_paper_hidden("2604.00001", admin.id, True)
    page = library.list_page(store, made.id, BOB)
    view = library.list_view(store, made.id, BOB)
    assert [row.paper_id for row in page.rows] == [p.id for p in view.papers]
    assert [row.paper_id for row in page.rows] == ["2604.00006", "2604.00003", "2604.00002"]
    assert page.pending == view.pending == ["1707.08567"]
    first = page.rows[0]
    assert (first.title, first.authors, first.day, first.note) == (
        "Many authors",
        ["A", "B", "C", "D", "E"],
        "2026-04-29",  # the Hugging Face day before the listing, as Paper.day
        "five authors",
    )
    assert (first.topic_id, first.topic_label) == (None, None)  # no topic map yet
    with pytest.raises(NotFound):
        library.list_page(store, library.create_list(store, ALICE, "Private").id, BOB)


def test_saved_ids_are_those_of_the_visible_saved_papers(store: Store) -> None:
    for n in (1, 2, 3):
        library.save(store, ALICE, f"2604.0000{n}")
    store.library.set_saved(ALICE, "2699.00001", True)  # saved, not stored (a race)
    admin = store.accounts.add_user("admin@lab.example", "admin", None)
    store.community.set_paper_hidden("2604.00002", admin.id, True)
    assert library.saved_ids(store, ALICE) == [p.id for p in library.saved_papers(store, ALICE)]
    assert sorted(library.saved_ids(store, ALICE)) == ["2604.00001", "2604.00003"]
    assert library.saved_ids(store, BOB) == []


def test_a_private_list_is_not_found_by_anyone_else(store: Store) -> None:
    made = library.create_list(store, ALICE, "Mine")
    library.add_paper(store, ALICE, made.id, "2604.00001")
    for viewer in (BOB, None):
        with pytest.raises(NotFound):
            library.list_view(store, made.id, viewer)
    with pytest.raises(NotFound):  # nor changed by them
        library.add_paper(store, BOB, made.id, "2604.00002")
    with pytest.raises(NotFound):
        library.update_list(store, BOB, made.id, public=True)
    with pytest.raises(NotFound):
        store.library.delete_list(made.id, BOB)
    changed = library.update_list(store, ALICE, made.id, name=" Ours ", public=True)
    assert (changed.name, changed.public) == ("Ours", True)
    assert order(store, made.id, viewer=BOB) == ["2604.00001"]
    assert order(store, made.id, viewer=None) == ["2604.00001"]
    store.library.delete_list(made.id, ALICE)
    with pytest.raises(NotFound):
        library.list_view(store, made.id, ALICE)


@pytest.mark.parametrize("name", ["", "   ", "x" * (library.MAX_NAME + 1)])
def test_a_list_needs_a_sensible_name(store: Store, name: str) -> None:
    with pytest.raises(InvalidInput):
        library.create_list(store, ALICE, name)


def test_a_paste_adds_what_it_can_and_says_why_not_for_the_rest(store: Store) -> None:
    made = library.create_list(store, ALICE, "Pasted")
    library.add_paper(store, ALICE, made.id, "2604.00005")
    text = (
        "2604.00001\n"
        "https://arxiv.org/abs/2604.00002v3, https://huggingface.co/papers/2604.00003\n"
        "\n"
        "doi:10.1000/NINE   10.5555/unknown\n"
        "hello 2604.00005 2604.00008 2604.00001\n"
        "1707.08567\n"
    )
    report = library.import_references(store, ALICE, made.id, text=text)
    assert report.added == 5  # 1, 2, 3, 9 and 1707.08567 (being fetched)
    assert report.already == 1
    assert report.fetching == ["1707.08567"]
    assert [where for where, _ in report.problems] == [
        "line 4: 10.5555/unknown",
        "line 5: hello",
        "line 5: 2604.00008",
    ]
    assert "not in this store" in report.problems[0][1]
    assert order(store, made.id) == [
        "2604.00005",
        "2604.00001",
        "2604.00002",
        "2604.00003",
        "2604.00009",
    ]
    assert library.list_view(store, made.id, ALICE).pending == ["1707.08567"]
    [job] = store.list_jobs()
    assert (job.kind, job.params) == ("library-fetch", {"ids": ["1707.08567"]})


BIBTEX = """
@misc{good1, title = {One}, eprint = {2604.00001}, archivePrefix = {arXiv}}
@article{good2, title = {Two}, doi = {10.1000/nine}, journal = {J}}
@article{nopaper, title = {No identifiers at all}, year = 2020}
@misc{broken, title = {Unclosed
@misc{good3, title = {Three}, url = {https://arxiv.org/abs/2604.00003}}
"""


def test_a_bibtex_import_reports_bad_entries_and_adds_the_good_ones(store: Store) -> None:
    made = library.create_list(store, ALICE, "From Zotero")
    report = library.import_references(store, ALICE, made.id, bibtex=BIBTEX)
    reasons = dict(report.problems)
    assert reasons["entry nopaper"] == "names no paper: no eprint, DOI or arXiv URL"
    assert any("well-formed" in why for why in reasons.values())
    assert set(order(store, made.id)) >= {"2604.00001", "2604.00009"}
    assert report.added == len(order(store, made.id))


def test_an_import_of_nothing_usable_changes_nothing(store: Store) -> None:
    made = library.create_list(store, ALICE, "Empty")
    report = library.import_references(store, ALICE, made.id, text="nothing here", bibtex="@@@")
    assert report.added == 0 and report.problems
    assert store.library.items(made.id) == [] and store.list_jobs() == []


def test_an_import_is_all_or_nothing(store: Store, monkeypatch) -> None:
    made = library.create_list(store, ALICE, "Atomic")

    def broken(*args, **kwargs):
        raise RuntimeError("the job cannot be queued")

    # The job's INSERT fails after the items' INSERT, in the same transaction.
    monkeypatch.setattr("paperstand.store.library.enqueue_statement", broken)
    with pytest.raises(RuntimeError):
        library.import_references(store, ALICE, made.id, text="2604.00001 1707.08567")
    assert store.library.items(made.id) == []


def test_the_fetch_job_stores_known_papers_and_drops_unknown_ones(
    store: Store, settings: Settings, replay
) -> None:
    settings = settings.model_copy(update={"arxiv_api_url": replay.atom_url})
    made = library.create_list(store, ALICE, "Fetched")
    library.import_references(store, ALICE, made.id, text="1707.08567 2604.00001")
    Worker(store, settings).run_one()
    assert order(store, made.id) == ["1707.08567", "2604.00001"]
    assert store.get_paper("1707.08567").published.startswith("2017-07-27")
    # A paper arXiv does not know leaves the list (arXiv answers with no entry).
    params = {"id_list": "2699.00001", "sortBy": "relevance", "sortOrder": "descending"}
    replay.add(ATOM_PATH, {**params, "start": 0, "max_results": 100}, Reply(EMPTY_FEED))
    store.library.add_items(made.id, ALICE, [("2699.00001", "")])
    result = library.fetch_missing(store, settings, ["2699.00001"])
    assert result["unknown"] == ["2699.00001"]
    assert [i.paper_id for i in store.library.items(made.id)] == ["1707.08567", "2604.00001"]
