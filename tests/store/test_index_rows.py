"""Author and category pages, on both backends, over rows keyed by (name or category, day,
paper pk): a day's papers come latest arrival first, page by page both ways across the ties,
whatever their ids; a cursor names its paper by id, as page URLs always have; hidden papers
stay out; follows and claims find their papers by pk."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from paperstand.models import Cursor, Paper, Window
from paperstand.store import Store

DAY = "2025-03-10"
# The papers of one day in the order they arrive, which their ids do not follow.
ARRIVALS = ["2503.00007", "2503.00002", "2503.00009", "2503.00001", "2503.00005"]
AUTHORS = ["Ada Byron", "Li Wei"]


def _paper(pid: str, day: str | None) -> Paper:
    return Paper(id=pid, title=pid, authors=AUTHORS, categories=["cs.LG", "stat.ML"], listed=day)


@pytest.fixture
def expected(store: Store) -> list[str]:
    """The store's papers, one upsert each (so in this arrival order), and their order on
    every author and category page: the latest day first, a day's latest arrival first,
    papers without a day last."""
    later, earlier, dayless = (
        _paper("2503.00050", "2025-03-11"),
        _paper("2503.00100", "2025-03-09"),
        _paper("2503.00200", None),
    )
    for paper in (dayless, later, *(_paper(pid, DAY) for pid in ARRIVALS), earlier):
        store.upsert_papers([paper])
    return ["2503.00050", *reversed(ARRIVALS), "2503.00100", "2503.00200"]


def walk(window: Callable[..., Window], value: str, limit: int) -> tuple[list, list]:
    """Every page of ``value`` as ids, older to the end, then newer back to the first."""
    older, page = [], window(value, limit=limit)
    while True:
        older.append([p.id for p in page.papers])
        if page.older is None:
            break
        page = window(value, limit=limit, before=page.older)
    newer = []
    while page.newer is not None:
        page = window(value, limit=limit, after=page.newer)
        newer.append([p.id for p in page.papers])
    return older, newer


def chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_pages_step_through_a_day_of_ties_by_arrival_both_ways(
    store: Store, expected: list[str], limit: int
) -> None:
    pages = chunks(expected, limit)
    for window, value in (
        (store.author_window, "ada byron"),
        (store.author_window, "LI  WEI"),
        (store.category_window, "stat.ML"),
    ):
        older, newer = walk(window, value, limit)
        assert older == pages
        assert newer == pages[:-1][::-1]
    assert [p.id for p in store.papers_by_author("Li Wei", limit=99)] == expected
    assert [p.id for p in store.papers_in_category("cs.LG", limit=3, offset=2)] == expected[2:5]
    assert store.newest_by_authors(["Ada Byron"], per_author=4) == {"ada byron": expected[:4]}


def test_a_cursor_names_its_paper_by_id_and_an_unknown_id_stands_for_its_day(
    store: Store, expected: list[str]
) -> None:
    page = store.category_window("cs.LG", limit=2)
    assert page.older == Cursor(DAY, ARRIVALS[-1])  # as a URL carries it: day and id
    assert page.older.text() == f"{DAY}_{ARRIVALS[-1]}"
    # A link written while ties were ordered by id: the papers past that paper, by arrival.
    middle = Cursor(DAY, ARRIVALS[2])
    assert [p.id for p in store.category_window("cs.LG", limit=9, before=middle).papers] == (
        expected[expected.index(ARRIVALS[2]) + 1 :]
    )
    assert [p.id for p in store.category_window("cs.LG", limit=9, after=middle).papers] == (
        expected[: expected.index(ARRIVALS[2])]
    )
    unknown = Cursor(DAY, "2503.99999")
    older = store.category_window("cs.LG", limit=9, before=unknown)
    assert [p.id for p in older.papers] == ["2503.00100", "2503.00200"]
    assert older.newer == Cursor("2025-03-09", "2503.00100")
    newer = store.category_window("cs.LG", limit=9, after=unknown)
    assert [p.id for p in newer.papers] == ["2503.00050"]
    assert newer.older == Cursor("2025-03-11", "2503.00050")


def test_hidden_papers_stay_out_of_every_page(store: Store, expected: list[str]) -> None:
    admin = store.accounts.add_user("admin@lab.example", "admin", None).id
    for pid in (ARRIVALS[1], ARRIVALS[3]):
        store.community.set_paper_hidden(pid, admin, True)
    shown = [pid for pid in expected if pid not in (ARRIVALS[1], ARRIVALS[3])]
    older, newer = walk(store.author_window, "Ada Byron", 2)
    assert older == chunks(shown, 2) and newer == chunks(shown, 2)[:-1][::-1]
    assert [p.id for p in store.papers_in_category("stat.ML", limit=99)] == shown
    # A cursor at a hidden paper still marks its place.
    past = store.author_window("Ada Byron", limit=2, before=Cursor(DAY, ARRIVALS[3]))
    assert [p.id for p in past.papers] == [ARRIVALS[2], ARRIVALS[0]]


def test_a_paper_moved_to_another_day_or_author_moves_on_its_pages(
    store: Store, expected: list[str]
) -> None:
    moved = Paper(
        id=ARRIVALS[0],
        version=2,
        title="moved",
        authors=["Ada Byron"],
        categories=["cs.LG", "stat.ML"],
        listed="2025-03-12",
    )
    store.upsert_papers([moved])
    assert [p.id for p in store.papers_by_author("Ada Byron", limit=2)] == [
        ARRIVALS[0],
        "2503.00050",
    ]
    assert ARRIVALS[0] not in [p.id for p in store.papers_by_author("Li Wei", limit=99)]
    store.upsert_papers([Paper(id=ARRIVALS[0], version=3, title="gone", deleted=True)])
    assert ARRIVALS[0] not in [p.id for p in store.papers_in_category("cs.LG", limit=99)]
