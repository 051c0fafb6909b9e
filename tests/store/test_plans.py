"""Plans of the queries whose cost must not grow with the store, on every backend.

Author and category pages read by keyset: each step of a page is one ordered range of an
index, never a sort of every paper of the author or category. At 1.6 million papers a sort
of cs.LG took a second on PostgreSQL, whose backwards index scan gives ``DESC NULLS
FIRST``: a query asking for ``DESC NULLS LAST`` had to sort. The curated (daily) lists are
two index ranges, never a scan of every paper (3.4 s on PostgreSQL at 1.6 million)."""

from __future__ import annotations

import pytest
from sqlalchemy import Select, func, select

from paperstand.models import Paper
from paperstand.store import Store
from paperstand.store.community import _curated_filter
from paperstand.store.papers import _NEXT_KEYS, _TOP_PK, _window_keys
from paperstand.store.schema import papers

SHAPES = ("first", "older", "newer")
VALUES = {"value": "cs.LG", "count": 3, "day": 20152, "pk": 5}  # a day number


def plan(store: Store, statement: Select, values: dict, avoid: str = "enable_sort") -> str:
    """The backend's plan of ``statement``, with what PostgreSQL should not need (sorting,
    a scan of a whole table) priced out of reach: a plan that still has it is one no index
    spares."""
    with store.read() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        values = compiled.construct_params(values)
        bound = tuple(values[n] for n in compiled.positiontup or ()) or values
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET {avoid} = off")  # reads run in autocommit
            try:
                rows = list(conn.exec_driver_sql(f"EXPLAIN {compiled}", bound).scalars())
            finally:
                conn.exec_driver_sql(f"RESET {avoid}")
        else:
            found = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", bound)
            rows = (row[-1] for row in found)
        return "\n".join(rows)


@pytest.mark.parametrize("table", ["paper_categories", "paper_authors"])
@pytest.mark.parametrize("shape", SHAPES)
def test_each_step_of_a_page_reads_an_index_range_without_sorting(
    store: Store, table: str, shape: str
):
    found = plan(store, _window_keys(table, shape), VALUES)
    assert "TEMP B-TREE" not in found  # SQLite's sort
    assert "Sort" not in found, found  # PostgreSQL's
    assert f"SCAN {table}" not in found, found  # SQLite: a range of its key, not a scan
    assert f"Seq Scan on {table}" not in found, found


def test_papers_without_a_day_come_last_on_every_page(store: Store):
    dated = [
        Paper(id=f"2503.0000{n}", title=str(n), listed=f"2025-03-0{n}", categories=["cs.LG"])
        for n in range(1, 6)
    ]
    dayless = [Paper(id=f"2503.0001{n}", title=str(n), categories=["cs.LG"]) for n in range(3)]
    store.upsert_papers([*dated, *dayless])
    expected = [p.id for p in reversed(dated)] + [p.id for p in reversed(dayless)]

    pages, window = [], store.category_window("cs.LG", limit=3)
    while True:
        pages.append([p.id for p in window.papers])
        if window.older is None:
            break
        window = store.category_window("cs.LG", limit=3, before=window.older)
    assert [pid for page in pages for pid in page] == expected
    assert [len(page) for page in pages] == [3, 3, 2]

    back = [p.id for p in store.category_window("cs.LG", limit=3, after=window.newer).papers]
    assert back == expected[3:6]  # across the step from the dated papers to the dayless


@pytest.mark.parametrize("by_submitter", [False, True])
def test_a_curated_list_reads_two_index_ranges_not_every_paper(store: Store, by_submitter: bool):
    where = _curated_filter(store.dialect, by_submitter)
    statement = select(func.count()).select_from(papers).where(*where)
    values = {"first": "2025-03-03", "last": "2025-03-09", "submitter": "ann"}
    found = plan(store, statement, values, avoid="enable_seqscan")
    assert "SCAN papers" not in found, found  # SQLite's scan of the table
    assert "Seq Scan on papers" not in found, found  # PostgreSQL's


@pytest.mark.parametrize("statement", [_NEXT_KEYS, _TOP_PK], ids=["next keys", "top pk"])
def test_every_upsert_numbers_its_rows_from_one_end_of_an_index_not_a_scan(
    store: Store, statement: Select
):
    """Each upsert (each batch of a bulk load) reads the highest pk and revision: a scan
    there costs a whole index per batch, a load's cost growing with its square."""
    store.upsert_papers([Paper(id="2503.00001", title="t", listed="2025-03-01")])
    found = plan(store, statement, {}, avoid="enable_seqscan")
    assert "SCAN papers" not in found, found  # SQLite's scan of the table or an index
    assert "Aggregate" not in found, found  # PostgreSQL's max() of a whole scan
