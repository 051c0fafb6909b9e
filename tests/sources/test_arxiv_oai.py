"""arXiv OAI-PMH harvests against the recorded responses, replayed by a local HTTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperstand.errors import FetchError, InvalidInput, SourceError
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.sources import arxiv_oai, http
from paperstand.sources.base import Checkpoint, Malformed
from paperstand.sources.http import Fetcher
from paperstand.store import Store, open_store
from tests.replay import OAI_PATH, Replay, Reply

RAW_PAGE = "mikesaelim__ListRecordsResponse.xml"  # arXivRaw, 6 records, a real token
TOKEN = "726959|1001"
HEP_TH_PAGE = "hepcrawl__functional__arxiv-physics-hep-th.xml"  # arXiv format, 3 records
RAW_WINDOW = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01"}
SMALL_WINDOW = {
    "verb": "ListRecords",
    "metadataPrefix": "arXiv",
    "from": "2015-01-01",
    "until": "2015-01-03",
}


@pytest.fixture
def two_pages(replay: Replay) -> Replay:
    """The recorded page with a resumption token, whose token leads to a last page."""
    replay.add_oai({"verb": "ListRecords", "resumptionToken": TOKEN}, HEP_TH_PAGE)
    return replay


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'paperstand.sqlite3'}")
    yield store
    store.close()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses the fetcher asks for, recorded instead of slept."""
    pauses: list[float] = []
    monkeypatch.setattr(http.time, "sleep", pauses.append)
    return pauses


def fetcher(**options: float) -> Fetcher:
    return Fetcher(**{"backoff": 0.01, "retries": 3, **options})


def raw_harvest(replay: Replay, store: Store | None = None, **options: float):
    return arxiv_oai.records(
        replay.oai_url,
        metadata_prefix="arXivRaw",
        from_date="2014-10-01",
        checkpoints=store,
        fetcher=fetcher(**options),
    )


def papers(items) -> dict[str, Paper]:
    return {item.id: item for item in items if isinstance(item, Paper)}


def test_follows_the_resumption_token_and_checkpoints_each_page(two_pages: Replay) -> None:
    items = list(raw_harvest(two_pages))
    key = arxiv_oai.checkpoint_key(two_pages.oai_url, "arXivRaw", None, "2014-10-01", None)
    checkpoints = [item for item in items if isinstance(item, Checkpoint)]
    # After page 1: the token; at the end: the window cleared and the next "from" remembered.
    assert items.index(checkpoints[0]) == 6
    assert checkpoints[0].key == key
    assert checkpoints[0].value["token"] == TOKEN
    assert checkpoints[0].value["complete_list_size"] == "58011"
    assert checkpoints[1] == Checkpoint(key, None)
    assert checkpoints[2].value == {"from": "2015-01-06"}
    assert len(papers(items)) == 9
    assert two_pages.asked(OAI_PATH) == [
        RAW_WINDOW,
        {"verb": "ListRecords", "resumptionToken": TOKEN},
    ]
    assert two_pages.user_agents == {"paperstand/0.1"}


def test_arxiv_raw_records(two_pages: Replay) -> None:
    found = papers(raw_harvest(two_pages))
    limits = found["0704.0716"]
    assert limits.title == "Limit distributions and scaling functions"
    assert limits.authors == ["Christoph Richard"]
    assert limits.version == 4
    assert limits.published == "2007-04-05T12:45:03Z"
    assert limits.updated == "2008-11-14T09:07:25Z"
    assert limits.categories == ["math-ph", "math.MP"]
    assert limits.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert limits.journal_ref.startswith("Polygons, polyominoes and polycubes")
    assert "pedagogic review" in limits.abstract
    symmetry = found["0704.0471"]
    # "A, B, and C" author strings, and the first of two DOIs (the second is an erratum's).
    assert symmetry.authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert symmetry.doi == "10.1103/PhysRevC.76.024606"
    assert symmetry.title.startswith("Density dependence of the symmetry energy and the nuclear")
    assert "\n" not in symmetry.title
    # A record changed years after submission says nothing about its listing day.
    assert symmetry.listed is None


def test_arxiv_format_records(replay: Replay) -> None:
    items = list(
        arxiv_oai.records(
            replay.oai_url, from_date="2015-01-01", until="2015-01-03", fetcher=fetcher()
        )
    )
    found = papers(items)
    assert list(found) == ["1412.8544", "hep-th/9504118"]
    kochen = found["1412.8544"]
    assert kochen.authors == ["Sander Uijlen", "Bas Westerbaan"]
    assert kochen.categories == ["cs.DM"]
    assert kochen.doi == "10.4204/EPTCS.172.11"
    assert kochen.journal_ref == "EPTCS 172, 2014, pp. 154-164"
    assert kochen.comment == "In Proceedings QPL 2014, arXiv:1412.8102"
    assert kochen.published == "2014-12-29"
    assert kochen.updated is None
    # A first version whose record appeared days after submission: that is its listing.
    assert kochen.listed == "2015-01-03"
    assert found["hep-th/9504118"].listed is None


def test_deleted_records_are_marked_not_lost(two_pages: Replay, sqlite_store: Store) -> None:
    replay = two_pages
    ingest(sqlite_store, raw_harvest(replay))
    assert sqlite_store.get_paper("0704.0471").deleted is False
    page = replay.oai_file(RAW_PAGE)
    deleted = page.replace(
        b"<header>\n <identifier>oai:arXiv.org:0704.0471</identifier>",
        b'<header status="deleted">\n <identifier>oai:arXiv.org:0704.0471</identifier>',
    )
    replay.add(OAI_PATH, RAW_WINDOW, Reply(deleted))
    items = list(raw_harvest(replay))
    assert Paper(id="0704.0471", deleted=True) in items
    report = ingest(sqlite_store, items)
    assert report.written.updated == 1
    stored = sqlite_store.get_paper("0704.0471")
    assert stored.deleted is True
    assert stored.title.startswith("Density dependence")  # marked, the record is kept
    assert sqlite_store.stats()["deleted"] == 1


def test_a_malformed_record_is_skipped_with_its_reason(two_pages: Replay) -> None:
    page = two_pages.oai_file(RAW_PAGE)
    untitled = re.sub(
        rb"<title>Limit distributions and scaling functions</title>", b"", page, count=1
    )
    two_pages.add(OAI_PATH, RAW_WINDOW, Reply(untitled))
    items = list(raw_harvest(two_pages))
    assert Malformed("missing title", "oai page 1, record 2") in items
    assert len(papers(items)) == 8


def test_no_records_match_is_an_empty_harvest(replay: Replay) -> None:
    items = list(
        arxiv_oai.records(
            replay.oai_url, metadata_prefix="arXivRaw", set_spec="moo", fetcher=fetcher()
        )
    )
    assert not papers(items)
    assert [i.value for i in items if isinstance(i, Checkpoint)][0] is None


@pytest.mark.parametrize(
    ("file_name", "code", "message"),
    [
        ("mikesaelim__ErrorResponseBadArgument.xml", "badArgument", "illegal argument"),
        ("mikesaelim__ErrorResponseBadVerb.xml", "badVerb", "Bad verb"),
        ("mikesaelim__ErrorResponseIdDoesNotExist.xml", "idDoesNotExist", "0813.2274"),
    ],
)
def test_other_oai_errors_are_one_line_source_errors(
    replay: Replay, file_name: str, code: str, message: str
) -> None:
    replay.add_oai({"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "x"}, file_name)
    with pytest.raises(SourceError) as raised:
        list(arxiv_oai.records(replay.oai_url, set_spec="x", fetcher=fetcher()))
    text = str(raised.value)
    assert code in text and message in text and "\n" not in text


def test_bad_resumption_token_restarts_the_window(two_pages: Replay, sqlite_store: Store) -> None:
    key = arxiv_oai.checkpoint_key(two_pages.oai_url, "arXivRaw", None, "2014-10-01", None)
    sqlite_store.upsert_papers([], Checkpoint(key, {"token": "3", "page": 4}))
    report = ingest(sqlite_store, raw_harvest(two_pages, sqlite_store))
    assert report.error is None
    assert report.written.added == 9
    assert two_pages.asked(OAI_PATH) == [
        {"verb": "ListRecords", "resumptionToken": "3"},  # recorded: badResumptionToken
        RAW_WINDOW,
        {"verb": "ListRecords", "resumptionToken": TOKEN},
    ]
    assert sqlite_store.get_checkpoint(key) is None


def test_an_interrupted_harvest_resumes_after_the_last_committed_page(
    two_pages: Replay, sqlite_store: Store
) -> None:
    next_page = {"verb": "ListRecords", "resumptionToken": TOKEN}
    two_pages.inject(OAI_PATH, next_page, "truncate")
    first = ingest(sqlite_store, raw_harvest(two_pages, sqlite_store))
    assert first.written.added == 6
    assert "page 2 is malformed or truncated" in first.error
    key = arxiv_oai.checkpoint_key(two_pages.oai_url, "arXivRaw", None, "2014-10-01", None)
    assert sqlite_store.get_checkpoint(key)["token"] == TOKEN

    second = ingest(sqlite_store, raw_harvest(two_pages, sqlite_store))
    assert second.error is None
    assert (second.written.added, second.written.unchanged) == (3, 0)
    assert two_pages.asked(OAI_PATH)[-1] == next_page  # not the window's first page again
    assert sqlite_store.get_checkpoint(key) is None
    assert sqlite_store.stats()["papers"] == 9


def test_next_harvest_continues_from_the_last_ones_start(
    two_pages: Replay, sqlite_store: Store
) -> None:
    ingest(sqlite_store, raw_harvest(two_pages, sqlite_store))
    two_pages.add_oai(
        {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2015-01-06"},
        "mikesaelim__ErrorResponseNoRecordsMatch.xml",
    )
    incremental = arxiv_oai.records(
        two_pages.oai_url,
        metadata_prefix="arXivRaw",
        checkpoints=sqlite_store,
        fetcher=fetcher(),
    )
    report = ingest(sqlite_store, incremental)
    assert report.error is None and report.seen == 0
    assert two_pages.asked(OAI_PATH)[-1]["from"] == "2015-01-06"


def test_a_window_with_an_end_is_continued_from_that_end(
    replay: Replay, sqlite_store: Store
) -> None:
    window = arxiv_oai.records(
        replay.oai_url,
        from_date="2015-01-01",
        until="2015-01-03",
        checkpoints=sqlite_store,
        fetcher=fetcher(),
    )
    ingest(sqlite_store, window)
    last = f"arxiv-oai-last {replay.oai_url} arXiv set="
    assert sqlite_store.get_checkpoint(last) == {"from": "2015-01-03"}


def test_retry_after_503_and_a_dropped_connection(replay: Replay, waits: list[float]) -> None:
    replay.inject(OAI_PATH, SMALL_WINDOW, "503", "drop")
    items = list(
        arxiv_oai.records(
            replay.oai_url, from_date="2015-01-01", until="2015-01-03", fetcher=fetcher()
        )
    )
    assert len(papers(items)) == 2
    assert len(replay.asked(OAI_PATH)) == 3
    # Retry-After: 1 obeyed, then the exponential backoff's second step.
    assert waits == [1.0, 0.02]


def test_retry_after_is_capped(replay: Replay, waits: list[float]) -> None:
    replay.retry_after = 3600
    replay.inject(OAI_PATH, SMALL_WINDOW, "503")
    harvest = arxiv_oai.records(
        replay.oai_url,
        from_date="2015-01-01",
        until="2015-01-03",
        fetcher=fetcher(max_retry_after=2),
    )
    assert len(papers(harvest)) == 2
    assert waits == [2]


def test_gives_up_with_a_one_line_fetch_error(replay: Replay, waits: list[float]) -> None:
    replay.inject(OAI_PATH, SMALL_WINDOW, "503", "drop", "503", "drop")
    harvest = arxiv_oai.records(
        replay.oai_url, from_date="2015-01-01", until="2015-01-03", fetcher=fetcher()
    )
    with pytest.raises(FetchError) as raised:
        list(harvest)
    text = str(raised.value)
    assert "gave up after 4 attempts" in text and "connection dropped" in text
    assert "\n" not in text


def test_a_truncated_page_is_a_source_error(replay: Replay) -> None:
    replay.inject(OAI_PATH, SMALL_WINDOW, "truncate")
    harvest = arxiv_oai.records(
        replay.oai_url, from_date="2015-01-01", until="2015-01-03", fetcher=fetcher()
    )
    with pytest.raises(SourceError, match="page 1 is malformed or truncated"):
        list(harvest)


def test_an_oversized_response_is_refused(replay: Replay) -> None:
    harvest = arxiv_oai.records(
        replay.oai_url, from_date="2015-01-01", until="2015-01-03", fetcher=fetcher(max_bytes=1000)
    )
    with pytest.raises(SourceError, match="larger than 1,000 bytes"):
        list(harvest)


@pytest.mark.parametrize(
    "arguments",
    [{"metadata_prefix": "oai_dc"}, {"from_date": "2015-13-01"}, {"until": "yesterday"}],
)
def test_bad_arguments_are_invalid_input(replay: Replay, arguments: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        list(arxiv_oai.records(replay.oai_url, fetcher=fetcher(), **arguments))
    assert replay.requests == []
