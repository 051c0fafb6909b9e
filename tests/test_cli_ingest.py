"""``paperstand ingest ...`` as a user runs it: a real process, a real store, real HTTP.

Each command is run as a subprocess against files from ``tests/data`` or the replay
server, and judged by what a user sees: the one-line summary on stdout, a one-line error on
stderr with a non-zero exit (never a traceback), and the store afterwards.
"""

from __future__ import annotations

import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import orjson
import pytest

from paperstand.models import Paper
from paperstand.store import open_store
from tests.conftest import DATA, REPO
from tests.replay import HF_PATH, OAI_PATH, Replay

LISTINGS = DATA / "arxiv"
RESPONSES = DATA / "hf" / "responses"
# Fast retries, no politeness pause: the replay server is local.
ENV = {**os.environ, "PAPERSTAND_ARXIV_DELAY": "0", "PAPERSTAND_HTTP_BACKOFF": "0.05"}
MAIN = "import sys; from paperstand.cli import main; sys.argv[0] = 'paperstand'; main()"


def paperstand(
    home: Path, *args: str, env: dict[str, str] = ENV
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", MAIN, "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def ok(home: Path, *args: str) -> str:
    """Run a command that must succeed; its summary line (the last line of stdout)."""
    done = paperstand(home, *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def fails(home: Path, *args: str, code: int = 1) -> subprocess.CompletedProcess[str]:
    """Run a command that must fail cleanly: exit ``code`` and one ``error:`` line."""
    done = paperstand(home, *args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    if code == 1:
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, done.stderr
    return done


def summary(added: int, updated: int = 0, unchanged: int = 0, skipped: int = 0) -> str:
    return f"added {added}, updated {updated}, unchanged {unchanged}, skipped {skipped}"


def stats(home: Path) -> dict:
    return orjson.loads(ok_output(home, "stats", "--json"))


def ok_output(home: Path, *args: str) -> str:
    done = paperstand(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def all_papers(home: Path) -> list[Paper]:
    with open_store(f"sqlite:///{home / 'paperstand.sqlite3'}") as store:
        papers = [paper for batch in store.iter_papers() for paper in batch]
    return sorted(papers, key=lambda paper: paper.id)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty data directory: ingest creates the store in it (``init`` is tested apart)."""
    path = tmp_path / "home"
    path.mkdir()
    return path


# --- files ----------------------------------------------------------------------------


def test_jsonl_summary_and_idempotent_rerun(home: Path) -> None:
    listing = str(LISTINGS / "listings-2026-07.jsonl.gz")
    assert ok(home, "ingest", "jsonl", listing) == summary(300)
    assert ok(home, "ingest", "jsonl", listing) == summary(0, unchanged=300)
    counted = stats(home)
    assert (counted["papers"], counted["latest_listing"]) == (300, "2026-07-01")


def test_ingest_brings_the_search_full_text_up_to_date(home: Path) -> None:
    from paperstand.index.fulltext import FullTextIndex
    from paperstand.settings import Settings
    from paperstand.store import open_store

    ok(home, "ingest", "jsonl", str(LISTINGS / "listings-2026-07.jsonl.gz"))
    settings = Settings(home=home)
    with open_store(settings.store_url()) as store:
        revision = store.revision()
    assert revision > 0
    assert FullTextIndex(settings.fulltext_path).revision == revision


def test_jsonl_malformed_lines_skipped_or_strict(home: Path, tmp_path: Path) -> None:
    good = gzip.decompress((LISTINGS / "listings-2026-07.jsonl.gz").read_bytes()).splitlines()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good[0], b"{broken", b'{"id": "2607.00001"}', good[1]]) + b"\n")
    done = paperstand(home, "ingest", "jsonl", str(path))
    assert done.returncode == 0
    assert done.stdout.strip() == (
        "added 2, updated 0, unchanged 0, skipped 2 (1× invalid JSON; 1× missing title)"
    )
    assert f"skipped {path}:2: invalid JSON" in done.stderr

    strict = fails(home, "ingest", "jsonl", "--strict", str(path))
    assert f"error: {path}:2: invalid JSON" in strict.stderr


def test_file_errors_are_one_line(home: Path, tmp_path: Path) -> None:
    missing = fails(home, "ingest", "jsonl", str(tmp_path / "nowhere.jsonl"))
    assert "nowhere.jsonl: no such file" in missing.stderr

    packed = (LISTINGS / "listings-2025-03.jsonl.gz").read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    truncated = fails(home, "ingest", "jsonl", str(cut))
    assert "cut.jsonl.gz: unreadable after line" in truncated.stderr
    added = int(truncated.stdout.split()[1].rstrip(","))
    assert added > 0 and stats(home)["papers"] == added  # what was read before is kept

    response = (RESPONSES / "2024-05-27.json").read_bytes()
    half = tmp_path / "2024-05-27.json"
    half.write_bytes(response[: len(response) // 2])
    assert "not valid JSON" in fails(home, "ingest", "hf-daily", str(half)).stderr


def test_hf_daily_files_then_rerun(home: Path, tmp_path: Path) -> None:
    with (DATA / "hf" / "papers.jsonl").open("rb") as stream:
        head = b"".join(next(stream) for _ in range(50))
    lines = tmp_path / "papers.jsonl.gz"
    lines.write_bytes(gzip.compress(head))
    files = [str(RESPONSES / "2025-03-27.json"), str(RESPONSES / "2026-04-24.json"), str(lines)]
    first = ok(home, "ingest", "hf-daily", *files)
    added = int(first.split()[1].rstrip(","))
    assert added > 50 and first.endswith("skipped 0")
    assert ok(home, "ingest", "hf-daily", *files).startswith("added 0, updated 0, unchanged")
    shown = orjson.loads(ok_output(home, "show", "2604.19734", "--json"))
    assert shown["github_repo"] == "https://github.com/xpeng-robotics/UniT"
    assert shown["submitted_on"] == "2026-04-24"


# --- network --------------------------------------------------------------------------


def test_hf_daily_from_a_url(home: Path, replay: Replay) -> None:
    url = replay.url
    assert ok(home, "ingest", "hf-daily", "--url", url, "--date", "2024-05-27") == summary(13)
    again = ok(home, "ingest", "hf-daily", "--url", url, "--date", "2024-05-27")
    assert again == summary(0, unchanged=13)
    assert replay.asked(HF_PATH) == [{"date": "2024-05-27"}] * 2
    bad = fails(home, "ingest", "hf-daily", "--url", url, "--date", "2024-02-31")
    assert "not a date: '2024-02-31'" in bad.stderr
    missing = fails(home, "ingest", "hf-daily", "--url", url, "--date", "2030-01-01")
    assert "HTTP 404" in missing.stderr
    fails(home, "ingest", "hf-daily", "--url", url, code=2)  # usage: --date missing


def _oai(home: Path, replay: Replay, *extra: str, succeed: bool = True):
    args = (
        "ingest",
        "arxiv-oai",
        "--url",
        replay.oai_url,
        "--format",
        "arXivRaw",
        "--from",
        "2014-10-01",
        *extra,
    )
    return ok(home, *args) if succeed else fails(home, *args)


@pytest.fixture
def two_pages(replay: Replay) -> Replay:
    replay.add_oai(
        {"verb": "ListRecords", "resumptionToken": "726959|1001"},
        "hepcrawl__functional__arxiv-physics-hep-th.xml",
    )
    return replay


def test_arxiv_oai_harvest_and_rerun(home: Path, two_pages: Replay) -> None:
    assert _oai(home, two_pages) == summary(9)
    assert _oai(home, two_pages) == summary(0, unchanged=9)


def test_arxiv_oai_survives_503_and_a_dropped_connection(home: Path, replay: Replay) -> None:
    window = {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "from": "2015-01-01",
        "until": "2015-01-03",
    }
    replay.inject(OAI_PATH, window, "503", "drop")
    args = ("--from", "2015-01-01", "--until", "2015-01-03")
    assert ok(home, "ingest", "arxiv-oai", "--url", replay.oai_url, *args) == summary(2)
    assert replay.asked(OAI_PATH) == [window] * 3


def test_arxiv_oai_resumes_an_interrupted_harvest(home: Path, two_pages: Replay) -> None:
    next_page = {"verb": "ListRecords", "resumptionToken": "726959|1001"}
    two_pages.inject(OAI_PATH, next_page, "truncate")
    interrupted = _oai(home, two_pages, succeed=False)
    assert interrupted.stdout.strip() == summary(6)
    assert "page 2 is malformed or truncated" in interrupted.stderr
    asked_before = len(two_pages.asked(OAI_PATH))

    assert _oai(home, two_pages) == summary(3)
    assert two_pages.asked(OAI_PATH)[asked_before:] == [next_page]
    assert stats(home)["papers"] == 9


def test_arxiv_oai_errors(home: Path, replay: Replay) -> None:
    replay.add_oai(
        {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "nonsense"},
        "mikesaelim__ErrorResponseBadArgument.xml",
    )
    bad = fails(home, "ingest", "arxiv-oai", "--url", replay.oai_url, "--set", "nonsense")
    assert "error: arXiv OAI-PMH error badArgument on page 1" in bad.stderr
    empty = ok(
        home, "ingest", "arxiv-oai", "--url", replay.oai_url, "--format", "arXivRaw", "--set", "moo"
    )
    assert empty == summary(0)
    assert "not a date" in fails(home, "ingest", "arxiv-oai", "--from", "2015-02-30").stderr
    # Nothing listens on port 9 of the loopback: retried, then one line.
    down = fails(home, "ingest", "arxiv-oai", "--url", "http://127.0.0.1:9/oai2")
    assert "cannot connect (gave up after 5 attempts)" in down.stderr


def test_arxiv_api_ids_query_and_errors(home: Path, replay: Replay) -> None:
    api = ("ingest", "arxiv-api", "--url", replay.atom_url)
    assert ok(home, *api, "--id", "astro-ph/0601001") == summary(1)
    assert ok(home, *api, "--id", "0808.05394", "--id", "1707.08567") == summary(1)
    assert ok(home, *api, "--query", "testing") == summary(100)
    error = fails(home, *api, "--id", "abc")
    assert "error: arXiv API error: incorrect id format for abc" in error.stderr
    fails(home, *api, code=2)  # neither --id nor --query
    shown = orjson.loads(ok_output(home, "show", "astro-ph/0601001", "--json"))
    assert shown["journal_ref"] == "ActaAstron.56:1-50,2006"


# --- a killed run -----------------------------------------------------------------------


def _group_ends(group: int) -> bool:
    """Whether every process of ``group`` ends soon (zombies count as ended); if one does
    not, it is killed so that it does not linger after the test."""
    for _ in range(1000):
        if not _live_members(group):
            return True
        time.sleep(0.01)
    for pid in _live_members(group):
        os.kill(pid, signal.SIGKILL)
    return False


def _live_members(group: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(stat.parent.name))
    return members


def test_a_killed_ingest_rerun_ends_identical_to_an_uninterrupted_one(tmp_path: Path) -> None:
    # Two real listing files, the demo's included: several batches, the first commits long
    # before the last.
    files = [
        str(LISTINGS / "listings-2025-03.jsonl.gz"),
        str(REPO / "demo" / "arxiv-2026-04.jsonl.gz"),
    ]
    total = 2327 + 4676
    killed_home, clean_home = tmp_path / "killed", tmp_path / "clean"
    ok(killed_home, "init")
    process = subprocess.Popen(
        [sys.executable, "-c", MAIN, "--home", str(killed_home), "ingest", "jsonl", *files],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
        start_new_session=True,  # its process group: the ingest and any helper it starts
    )
    database = f"file:{killed_home / 'paperstand.sqlite3'}?mode=ro"
    committed = 0
    with closing(sqlite3.connect(database, uri=True)) as watcher:
        # Kill as soon as the first batch is committed, well before the last one.
        while committed == 0 and process.poll() is None:
            time.sleep(0.005)
            committed = watcher.execute("SELECT count(*) FROM papers").fetchone()[0]
        process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert 0 < committed < total
    assert _group_ends(process.pid), "a helper process outlived the killed ingest"

    rerun = ok(killed_home, "ingest", "jsonl", *files)
    added, unchanged = int(rerun.split()[1].rstrip(",")), int(rerun.split()[5].rstrip(","))
    assert unchanged >= committed and added + unchanged == total
    assert rerun.endswith("skipped 0")

    clean_home.mkdir()
    assert ok(clean_home, "ingest", "jsonl", *files) == summary(total)
    assert all_papers(killed_home) == all_papers(clean_home)
