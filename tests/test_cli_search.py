"""``paperstand index build``, ``search`` and ``similar`` as a user runs them: a real
process, a real store built from ``tests/data``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.search_corpus import TEST_MODEL, load_corpus
from tests.test_cli_ingest import MAIN
from tests.test_cli_ingest import paperstand as run_paperstand

ENV = {
    **os.environ,
    "PAPERSTAND_EMBEDDING_MODEL": TEST_MODEL,
    "PAPERSTAND_SEARCH_FETCH_MISSING": "false",
}


def paperstand(home: Path, *args: str):
    return run_paperstand(home, *args, env=ENV)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from paperstand.settings import Settings
    from paperstand.store import open_store

    home = tmp_path_factory.mktemp("cli-search")
    with open_store(Settings(home=home).store_url()) as store:
        load_corpus(store, home, hf_count=20)
    built = paperstand(home, "index", "build")
    assert built.returncode == 0, built.stderr
    assert "embeddings (static-64): 2347 embedded" in built.stdout
    return home


def test_index_build_again_has_nothing_to_do(home: Path) -> None:
    done = paperstand(home, "index", "build", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["embedded"] == 0 and report["indexed"] == 0 and report["up_to_date"] == 2347


def test_search_prints_json_hits(home: Path) -> None:
    done = paperstand(home, "search", "Color Matching Using Hypernetwork-Based KANs", "--json")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len(hits) == 20 and hits[0]["id"] == "2503.11781"
    assert {"id", "title", "score"} <= set(hits[0])
    done = paperstand(
        home,
        "search",
        "segmentation",
        "--limit",
        "5",
        "--category",
        "cs.CV",
        "--since",
        "2025-03-25",
        "--until",
        "2025-03-26",
        "--json",
    )
    hits = json.loads(done.stdout)
    assert len(hits) == 5
    for hit in hits:
        assert "cs.CV" in hit["categories"] and hit["listed"] in ("2025-03-25", "2025-03-26")


def test_search_plain_text_and_direct_hits(home: Path) -> None:
    done = paperstand(home, "search", "https://arxiv.org/abs/2503.11685v1", "-n", "3")
    assert done.returncode == 0
    assert done.stdout.splitlines()[0].startswith("2503.11685")
    assert "CORDIC Is All You Need" in done.stdout
    missing = paperstand(home, "search", "2407.01234", "--json")
    assert missing.returncode == 0 and json.loads(missing.stdout) == []
    assert "2407.01234 is not in this store" in missing.stderr


def test_similar(home: Path) -> None:
    done = paperstand(home, "similar", "2503.11685", "--limit", "7", "--json")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len(hits) == 7 and "2503.11685" not in [h["id"] for h in hits]
    unknown = paperstand(home, "similar", "1999.99999")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: paper '1999.99999' is not in this store"


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_bad_dates_are_one_line_errors(home: Path, option: str) -> None:
    done = paperstand(home, "search", "video", option, "last week")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "YYYY-MM-DD" in lines[0]


def test_hostile_queries_exit_cleanly(home: Path) -> None:
    for text in ['AND ( "*-: author:', "x" * 10_000]:
        done = paperstand(home, "search", text, "--json")
        assert done.returncode == 0, (text, done.stderr)
        assert isinstance(json.loads(done.stdout), list)


def test_full_text_only_build_then_serve_embed_fills_in_the_embeddings(
    tmp_path: Path,
) -> None:
    """The demo's path: a quick full-text build, then embeddings made while serving."""
    import subprocess
    import sys
    import time

    import httpx

    from paperstand.settings import Settings
    from paperstand.store import open_store
    from tests.web.test_serve import free_port

    with open_store(Settings(home=tmp_path).store_url()) as store:
        load_corpus(store, tmp_path, hf_count=5)
    built = paperstand(tmp_path, "index", "build", "--full-text-only", "--json")
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout) == {"indexed": 2332}
    with open_store(Settings(home=tmp_path).store_url()) as store:
        assert store.embedding_counts().get(TEST_MODEL, 0) == 0

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            MAIN,
            "--home",
            str(tmp_path),
            "serve",
            "--port",
            str(port),
            "--embed",
        ],
        env=ENV,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        counts: dict[str, int] = {}
        for _ in range(600):  # poll until every paper is embedded (or give up)
            with open_store(Settings(home=tmp_path).store_url()) as store:
                counts = store.embedding_counts()
            if counts.get(TEST_MODEL) == 2332:
                break
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.2)
        assert counts.get(TEST_MODEL) == 2332
        found = httpx.get(f"http://127.0.0.1:{port}/api/search?q=neural+operator&limit=3")
        assert found.status_code == 200 and found.json()["hits"]
    finally:
        server.terminate()
        server.communicate(timeout=30)
