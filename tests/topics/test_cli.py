"""``paperstand topics build``, ``topics trends`` and ``map`` as a user runs them."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from paperstand.settings import Settings
from paperstand.store import open_store
from tests.test_cli_ingest import paperstand
from tests.topics import slice as real

ENV = {**os.environ, "PAPERSTAND_EMBEDDING_MODEL": real.MODEL, "PAPERSTAND_TOPICS_CLUSTERS": "3"}


def run(home: Path, *args: str):
    return paperstand(home, *args, env=ENV)


def test_build_trends_and_map_from_the_command_line(tmp_path: Path):
    # 15 papers: a map this small is projected without UMAP, whose compilation on first
    # use in a new process would dominate the test (the service tests cover UMAP).
    home = tmp_path / "home"
    home.mkdir()
    with open_store(Settings(home=home).store_url()) as store:
        real.load(store, slice(0, 15))
    middle = real.rows()[7]["listed"]

    built = run(home, "topics", "build", "--json")
    assert built.returncode == 0, built.stderr
    assert orjson.loads(built.stdout) == {
        "mode": "full",
        "papers": 15,
        "placed": 15,
        "clusters": 3,
        "keywords": 15,
    }
    again = run(home, "topics", "build")
    assert again.stdout.strip() == (
        "topics (incremental): 0 papers placed, 15 on the map in 3 clusters, keywords for 0"
    )
    trends = orjson.loads(run(home, "topics", "trends", "--json").stdout)
    assert len(trends["clusters"]) == 3

    out = tmp_path / "map.png"
    drawn = run(home, "map", "--out", str(out), "--since", middle)
    assert drawn.returncode == 0, drawn.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert drawn.stdout.strip().endswith("papers") and 0 < int(drawn.stdout.split()[1]) < 15


def test_bad_input_gets_one_line_and_a_non_zero_exit(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    for args, message in [
        (("map", "--out", str(tmp_path / "m.png"), "--since", "2026-13-01"), "--since"),
        (("map", "--out", str(tmp_path / "missing" / "m.png")), "cannot write"),
    ]:
        done = run(home, *args)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and message in lines[0], done.stderr
