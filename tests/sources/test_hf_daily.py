"""Hugging Face daily papers: saved responses, JSON lines of paper objects, the live API."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import orjson
import pytest

from paperstand.errors import FetchError, InvalidInput, SourceError
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.sources import hf_daily, jsonl
from paperstand.sources.base import Malformed
from paperstand.sources.http import Fetcher
from paperstand.store import Store, open_store
from tests.conftest import DATA
from tests.replay import HF_PATH, Replay

RESPONSES = DATA / "hf" / "responses"
PAPERS = DATA / "hf" / "papers.jsonl"


def read(path: Path, name: str | None = None) -> list:
    with path.open("rb") as stream:
        return list(hf_daily.records(stream, name or str(path)))


def by_id(items) -> dict[str, Paper]:
    return {item.id: item for item in items if isinstance(item, Paper)}


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'paperstand.sqlite3'}")
    yield store
    store.close()


def test_an_early_response(tmp_path: Path) -> None:
    """2024: no submitter, no AI summary, ``mediaUrl`` in the singular."""
    items = read(RESPONSES / "2024-05-27.json")
    assert len(items) == 13 and all(isinstance(i, Paper) for i in items)
    paper = by_id(items)["2405.15738"]
    assert paper.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert paper.authors[:2] == ["Chunjiang Ge", "Sijie Cheng"] and len(paper.authors) == 9
    assert paper.extra["hf_authors"][0]["user"]["user"] == "ChunjiangGe"
    assert paper.abstract.startswith("High-resolution Large Multimodal Models (LMMs) encounter")
    assert paper.published == "2024-05-24T17:34:15Z"
    assert paper.upvotes == 32
    assert paper.submitted_on == "2024-05-27"  # the day of the list, from the file name
    assert paper.categories == []  # Hugging Face knows none; arXiv's stay when merged
    assert paper.extra["numComments"] == 3
    assert paper.extra["mediaUrl"].endswith("2405.15738.png")


def test_a_recent_response_keeps_every_community_field() -> None:
    items = by_id(read(RESPONSES / "2026-04-24.json"))
    unit = items["2604.19734"]
    assert unit.submitted_by == "ChenYi99"
    assert unit.submitted_on == "2026-04-24"
    assert unit.github_repo == "https://github.com/xpeng-robotics/UniT"
    assert unit.github_stars == 19
    assert unit.project_page == "https://xpeng-robotics.github.io/unit/"
    assert unit.ai_summary.startswith("UniT enables human-to-humanoid transfer")
    assert unit.ai_keywords[:2] == ["UniT", "unified latent action tokenizer"]
    assert unit.upvotes == 25
    assert unit.extra["organization"]["name"] == "xpeng-robotics"
    assert unit.extra["thumbnail"].endswith("2604.19734.png")
    assert unit.extra["submittedBy"]["name"] == "ChenYi99"
    assert unit.extra["submittedOnDailyBy"]["user"] == "ChenYi99"
    assert unit.extra["isAuthorParticipating"] is False
    assert unit.extra["discussionId"] == "69ea5364a961c3f1b5f40bea"
    assert unit.extra["mediaUrls"][0].endswith(".jpeg")


def test_the_day_comes_from_the_items_when_the_file_name_has_none(tmp_path: Path) -> None:
    copy = tmp_path / "saved.json"
    copy.write_bytes((RESPONSES / "2026-04-24.json").read_bytes())
    items = by_id(read(copy))
    assert items["2604.19734"].submitted_on == "2026-04-24"  # submittedOnDailyAt's day


def test_every_saved_response_reads_cleanly() -> None:
    for path in sorted(RESPONSES.glob("*.json")):
        items = read(path)
        assert items and all(isinstance(i, Paper) for i in items), path.name
        assert {i.submitted_on for i in items} == {path.stem}


def _head_of_papers(lines: int) -> bytes:
    with PAPERS.open("rb") as stream:
        return b"".join(islice(stream, lines))


def test_json_lines_plain_and_gzipped(tmp_path: Path) -> None:
    head = _head_of_papers(40)
    plain, packed = tmp_path / "papers.jsonl", tmp_path / "papers.jsonl.gz"
    plain.write_bytes(head)
    packed.write_bytes(gzip.compress(head))
    items = read(plain)
    assert len(items) == 40 and all(isinstance(i, Paper) for i in items)
    assert items == read(packed, str(plain))
    first = orjson.loads(head.splitlines()[0])
    assert items[0].id == first["id"]
    assert items[0].submitted_on == first["_date"]


def test_the_whole_papers_file_reads_cleanly() -> None:
    items = read(PAPERS)
    assert len(items) == 400 and all(isinstance(i, Paper) for i in items)
    assert sum(1 for i in items if i.github_repo) == 94
    assert sum(1 for i in items if i.submitted_by) == 200  # the 2025 half; 2024 had none


def test_bad_lines_and_items_are_skipped_with_reasons(tmp_path: Path) -> None:
    good = _head_of_papers(2).splitlines()
    lines = [good[0], b'{"id": "2401.00001"', b'{"title": "no id"}', b"[1]", good[1]]
    path = tmp_path / "papers.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    items = read(path, "papers.jsonl")
    assert [type(i).__name__ for i in items] == [
        "Paper",
        "Malformed",
        "Malformed",
        "Malformed",
        "Paper",
    ]
    assert items[1].where == "papers.jsonl:2" and items[1].reason.startswith("invalid JSON")
    assert items[2].reason == "missing field 'id'"

    response = orjson.loads((RESPONSES / "2024-05-27.json").read_bytes())
    response[1]["paper"]["title"] = response[1]["title"] = ""
    response[2] = "not an object"
    array = tmp_path / "2024-05-27.json"
    array.write_bytes(orjson.dumps(response))
    items = read(array, "2024-05-27.json")
    assert Malformed("missing title", "2024-05-27.json item 2") in items
    assert Malformed("an item must be a JSON object", "2024-05-27.json item 3") in items
    assert len(by_id(items)) == 11


def test_a_truncated_response_is_a_source_error(tmp_path: Path) -> None:
    data = (RESPONSES / "2024-05-27.json").read_bytes()
    path = tmp_path / "2024-05-27.json"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="not valid JSON"):
        read(path)
    path.write_bytes(gzip.compress(data)[:-100])
    with pytest.raises(SourceError, match="unreadable"):
        read(path)


def test_a_truncated_gzip_of_lines_keeps_the_lines_before() -> None:
    packed = gzip.compress(_head_of_papers(200))
    stream = io.BytesIO(packed[: len(packed) // 2])
    items = hf_daily.records(stream, "papers.jsonl.gz")
    papers = []
    with pytest.raises(SourceError, match="papers.jsonl.gz: unreadable after line"):
        for item in items:
            papers.append(item)
    assert papers and all(isinstance(p, Paper) for p in papers)


def test_merging_with_arxiv_keeps_categories_and_adds_the_community(
    sqlite_store: Store,
) -> None:
    with (DATA / "arxiv" / "listings-2025-03.jsonl.gz").open("rb") as stream:
        listing = [i for i in jsonl.records(stream, "listings") if i.id == "2503.16870"]
    ingest(sqlite_store, listing)
    report = ingest(sqlite_store, read(RESPONSES / "2025-03-27.json"))
    assert report.written.updated == 1
    paper = sqlite_store.get_paper("2503.16870")
    assert paper.categories[0] == "cs.LG"
    assert paper.listed == "2025-03-24"
    assert (paper.upvotes, paper.submitted_by, paper.submitted_on) == (1, "ya-mehdi", "2025-03-27")
    assert "Knowledge distillation" in paper.ai_keywords
    again = ingest(sqlite_store, read(RESPONSES / "2025-03-27.json"))
    assert again.written.unchanged == again.seen


def test_from_the_api(replay: Replay) -> None:
    items = list(hf_daily.records_from_url(replay.url, "2024-05-27", fetcher=Fetcher()))
    assert len(items) == 13
    assert {i.submitted_on for i in items} == {"2024-05-27"}
    assert replay.asked(HF_PATH) == [{"date": "2024-05-27"}]
    assert replay.user_agents == {"paperstand/0.1"}


def test_api_faults(replay: Replay) -> None:
    fetcher = Fetcher(backoff=0.01, retries=1)
    replay.inject(HF_PATH, {"date": "2024-06-07"}, "drop")
    assert len(list(hf_daily.records_from_url(replay.url, "2024-06-07", fetcher=fetcher))) == 9
    replay.inject(HF_PATH, {"date": "2024-06-07"}, "truncate")
    with pytest.raises(SourceError, match="not valid JSON"):
        list(hf_daily.records_from_url(replay.url, "2024-06-07", fetcher=fetcher))
    with pytest.raises(FetchError, match="HTTP 404"):
        list(hf_daily.records_from_url(replay.url, "2024-06-08", fetcher=fetcher))


@pytest.mark.parametrize("day", ["2024-02-30", "yesterday", "2024-6-7", ""])
def test_api_bad_day(replay: Replay, day: str) -> None:
    with pytest.raises(InvalidInput):
        list(hf_daily.records_from_url(replay.url, day))
    assert replay.requests == []
