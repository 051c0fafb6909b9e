"""arXiv metadata as JSON lines: the Kaggle snapshot format and paperstand's listing files."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from paperstand.errors import SourceError
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.sources import jsonl
from paperstand.sources.base import Malformed
from paperstand.store import Store, open_store
from tests.conftest import DATA

LISTING = DATA / "arxiv" / "listings-2026-07.jsonl.gz"  # 300 papers

# Three records as the Kaggle arXiv snapshot has them (the first two are its first lines).
KAGGLE = [
    {
        "id": "0704.0001",
        "submitter": "Pavel Nadolsky",
        "authors": "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
        "title": "Calculation of prompt diphoton production cross sections at Tevatron and\n"
        "  LHC energies",
        "comments": "37 pages, 15 figures; published version",
        "journal-ref": "Phys.Rev.D76:013009,2007",
        "doi": "10.1103/PhysRevD.76.013009",
        "report-no": "ANL-HEP-PR-07-12",
        "categories": "hep-ph",
        "license": None,
        "abstract": "  A fully differential calculation in perturbative quantum chromodynamics is\n"
        "presented for the production of massive photon pairs at hadron colliders.\n",
        "versions": [
            {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
            {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        ],
        "update_date": "2008-11-13",
        "authors_parsed": [
            ["Balázs", "C.", ""],
            ["Berger", "E. L.", ""],
            ["Nadolsky", "P. M.", ""],
            ["Yuan", "C. -P.", ""],
        ],
    },
    {
        "id": "0704.0002",
        "submitter": "Louis Theran",
        "authors": "Ileana Streinu and Louis Theran",
        "title": "Sparsity-certifying Graph Decompositions",
        "comments": "To appear in Graphs and Combinatorics",
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": "math.CO cs.CG",
        "license": "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
        "abstract": "  We describe a new algorithm, the $(k,\\ell)$-pebble game with colors.\n",
        "versions": [
            {"version": "v1", "created": "Sat, 31 Mar 2007 02:26:18 GMT"},
            {"version": "v2", "created": "Sat, 13 Dec 2008 17:26:00 GMT"},
        ],
        "update_date": "2008-12-13",
        "authors_parsed": [["Streinu", "Ileana", ""], ["Theran", "Louis", ""]],
    },
    {
        "id": "math/0406166",
        "submitter": "Lev Borisov",
        "authors": "Lev A. Borisov, Linda Chen, Gregory G. Smith",
        "title": "The orbifold Chow ring of toric Deligne-Mumford stacks",
        "comments": "27 pages",
        "journal-ref": "J. Amer. Math. Soc. 18 (2005), 193-215",
        "doi": "10.1090/S0894-0347-04-00471-0",
        "report-no": None,
        "categories": "math.AG math.CO",
        "license": None,
        "abstract": "  Given a toric Deligne-Mumford stack, we prove a presentation of its\n"
        "Chow ring.\n",
        "versions": [{"version": "v1", "created": "Tue, 8 Jun 2004 19:57:12 GMT"}],
        "update_date": "2009-02-10",
        "authors_parsed": [
            ["Borisov", "Lev A.", ""],
            ["Chen", "Linda", ""],
            ["Smith", "Gregory G.", ""],
        ],
    },
]


def lines(records: list) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def read(data: bytes, name: str = "snapshot.jsonl") -> list:
    return list(jsonl.records(io.BytesIO(data), name))


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'paperstand.sqlite3'}")
    yield store
    store.close()


def test_kaggle_records() -> None:
    first, second, old = read(lines(KAGGLE))
    assert first.id == "0704.0001"
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert first.version == 2
    assert first.published == "2007-04-02T19:18:42Z"
    assert first.updated == "2008-11-13"
    assert first.listed == "2007-04-02"
    assert first.categories == ["hep-ph"]
    assert first.doi == "10.1103/PhysRevD.76.013009"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.comment == "37 pages, 15 figures; published version"
    assert first.abstract.startswith("A fully differential calculation")
    assert second.categories == ["math.CO", "cs.CG"]
    assert second.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert second.authors == ["Ileana Streinu", "Louis Theran"]
    assert old.id == "math/0406166" and old.version == 1
    assert old.categories[0] == "math.AG"


def test_kaggle_without_parsed_authors_splits_the_author_string() -> None:
    record = {**KAGGLE[1], "authors_parsed": None, "authors": "A. One, B. Two, and C. Three"}
    [paper] = read(lines([record]))
    assert paper.authors == ["A. One", "B. Two", "C. Three"]


def test_a_listing_file_gzipped_and_plain(tmp_path: Path) -> None:
    packed = LISTING.read_bytes()
    papers = read(packed, LISTING.name)
    assert len(papers) == 300 and all(isinstance(p, Paper) for p in papers)
    assert all(p.listed == "2026-07-01" for p in papers)
    assert all(p.categories and p.authors and p.title for p in papers)
    assert read(gzip.decompress(packed), LISTING.name) == papers
    first = orjson.loads(gzip.decompress(packed).splitlines()[0])
    assert papers[0].id == first["id"] and papers[0].categories == first["categories"]


def test_malformed_lines_are_skipped_with_where_and_why() -> None:
    good = lines(KAGGLE[:1])
    data = (
        good
        + b"{not json\n"
        + b"\n"
        + b'{"title": "an id is needed"}\n'
        + b'{"id": "2401.00001", "title": ""}\n'
        + b'"a string"\n'
        + lines(KAGGLE[1:2])
    )
    items = read(data, "bad.jsonl")
    assert [type(i).__name__ for i in items] == [
        "Paper",
        "Malformed",
        "Malformed",
        "Malformed",
        "Malformed",
        "Paper",
    ]
    assert items[1].where == "bad.jsonl:2" and items[1].reason.startswith("invalid JSON")
    assert items[2] == Malformed("missing field 'id'", "bad.jsonl:4")
    assert items[3] == Malformed("missing title", "bad.jsonl:5")
    assert items[4] == Malformed("a line must be a JSON object", "bad.jsonl:6")


def test_an_id_that_is_not_arxiv_is_kept_as_given() -> None:
    [paper] = read(lines([{"id": "openreview:XyZ123", "title": "A workshop paper"}]))
    assert paper.id == "openreview:XyZ123"


def test_a_truncated_gzip_fails_after_the_good_lines() -> None:
    packed = gzip.compress(lines(KAGGLE * 400))
    items = jsonl.records(io.BytesIO(packed[: len(packed) // 2]), "cut.jsonl.gz")
    seen = []
    with pytest.raises(SourceError, match=r"cut.jsonl.gz: unreadable after line \d+"):
        for item in items:
            seen.append(item)
    assert seen and all(isinstance(i, Paper) for i in seen)


def test_ingest_counts_skips_and_strict_stops(sqlite_store: Store) -> None:
    data = lines(KAGGLE[:2]) + b"{oops\n" + lines(KAGGLE[2:])
    report = ingest(sqlite_store, read(data))
    assert (report.written.added, sum(report.skipped.values())) == (3, 1)
    assert report.summary() == "added 3, updated 0, unchanged 0, skipped 1 (1× invalid JSON)"
    strict = ingest(sqlite_store, read(data), strict=True)
    assert strict.error.startswith("snapshot.jsonl:3: invalid JSON")
    again = ingest(sqlite_store, read(lines(KAGGLE)))
    assert again.written.unchanged == 3


def test_squash_collapses_every_kind_of_whitespace() -> None:
    from paperstand.sources.text import squash

    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()]
    for space in spaces:
        for text in (f"a{space}b", f"{space}a b", f"a{space}{space}b{space}", "a b"):
            assert squash(text) == " ".join(text.split()), repr(text)
    assert squash("Zoë  Ångström\n") == "Zoë Ångström"
    assert squash(None) == squash("") == ""


def test_a_file_of_many_chunks_keeps_line_numbers_and_order() -> None:
    count = 2 * jsonl._CHUNK_LINES + 7
    records = [{"id": f"2401.{n:05d}", "title": f"Paper {n}"} for n in range(count)]
    records[jsonl._CHUNK_LINES + 3] = {"id": "2401.99999"}  # no title, in the second chunk
    items = read(gzip.compress(lines(records)), "many.jsonl.gz")
    assert len(items) == count
    assert items[jsonl._CHUNK_LINES + 3] == Malformed(
        "missing title", f"many.jsonl.gz:{jsonl._CHUNK_LINES + 4}"
    )
    papers = [i for i in items if isinstance(i, Paper)]
    assert [p.title for p in papers[-2:]] == [f"Paper {count - 2}", f"Paper {count - 1}"]


def test_a_truncated_file_of_many_chunks_yields_every_good_line_before_the_cut() -> None:
    records = [{"id": f"2401.{n:05d}", "title": f"Paper {n}"} for n in range(6000)]
    packed = gzip.compress(lines(records))
    seen = []
    with pytest.raises(SourceError, match=r"cut.jsonl.gz: unreadable after line (\d+)") as cut:
        for item in jsonl.records(io.BytesIO(packed[: len(packed) * 2 // 3]), "cut.jsonl.gz"):
            seen.append(item)
    after = int(cut.value.args[0].split("unreadable after line ")[1].split(":")[0])
    assert len(seen) > jsonl._CHUNK_LINES
    assert [p.title for p in seen] == [f"Paper {n}" for n in range(len(seen))]
    assert after >= len(seen)
