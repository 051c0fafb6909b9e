"""A small real corpus served by the real app: arXiv listings of three days, three saved
Hugging Face daily-papers responses and one old-style arXiv id, ingested once per session.

``client`` drives the app in-process; ``live_url`` is uvicorn on a free loopback port, for
the ``huggingface_hub`` client and the browser.
"""

from __future__ import annotations

import gzip
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.sources import hf_daily, jsonl
from paperstand.store import open_store
from paperstand.web.app import create_app
from tests.conftest import DATA

ARXIV_DAYS = ("2025-03-24", "2025-03-25", "2025-03-26")
PER_DAY = 40
HF_DAYS = ("2025-03-27", "2025-04-09", "2026-04-24")
OLD_STYLE = Paper(
    id="hep-th/9901001",
    title="Anomalies and $\\mathcal{N}=2$ gauge theories on the lattice",
    authors=["Ada Example", "Bo Sample"],
    abstract="We compute $Z = \\int e^{-S[\\phi]} \\, D\\phi$ exactly for a toy model.",
    categories=["hep-th"],
    published="1999-01-04",
    listed="1999-01-04",
)


def arxiv_lines() -> bytes:
    """The first ``PER_DAY`` papers of each of ``ARXIV_DAYS`` plus every paper of those
    days with math in the title, as JSON lines."""
    kept: list[bytes] = []
    counts: dict[str, int] = {}
    path = DATA / "arxiv" / "listings-2025-03.jsonl.gz"
    with gzip.open(path, "rb") as stream:
        for line in stream:
            record = orjson.loads(line)
            day = record["listed"]
            if day not in ARXIV_DAYS:
                continue
            counts[day] = counts.get(day, 0) + 1
            if counts[day] <= PER_DAY or "$" in record["title"]:
                kept.append(line.rstrip(b"\n"))
    return b"\n".join(kept) + b"\n"


def build_store(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    store = open_store(Settings(home=home).store_url())
    try:
        report = ingest(store, jsonl.records(io.BytesIO(arxiv_lines()), "listings"))
        assert report.error is None and report.written.added > 100
        for day in HF_DAYS:
            path = DATA / "hf" / "responses" / f"{day}.json"
            with path.open("rb") as stream:
                report = ingest(store, hf_daily.records(stream, str(path)))
            assert report.error is None, report.error
        store.upsert_papers([OLD_STYLE])
    finally:
        store.close()


@pytest.fixture(scope="session")
def web_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("web") / "home"
    build_store(home)
    return home


@pytest.fixture(scope="session")
def web_settings(web_home: Path) -> Settings:
    return Settings(home=web_home)


@pytest.fixture(scope="session")
def client(web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings), raise_server_exceptions=False) as test_client:
        yield test_client


def hf_response(day: str) -> list[dict]:
    return orjson.loads((DATA / "hf" / "responses" / f"{day}.json").read_bytes())


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a background thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # The app reads X-Forwarded-* itself (web/auth.py), from the proxies it trusts.
    config = uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# The password every test account is made with.
PASSWORD = "correct horse"


def browser_sign_up(tab: Any, name: str) -> None:
    """Sign ``name`` up (as ``name@lab.example``) through the sign-up form of the site a
    browser tab (a Playwright ``Page``) is on; the tab ends signed in."""
    tab.goto("/signup")
    tab.get_by_label("Email").fill(f"{name}@lab.example")
    tab.get_by_label("User name").fill(name)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign up").click()


@contextmanager
def watched_tab(browser: Any, url: str) -> Iterator[tuple[Any, list[str]]]:
    """A browser tab on ``url`` (a Playwright ``Page``) and the list of script errors it
    reports: console errors and uncaught exceptions, which every browser test asserts
    stay empty."""
    context = browser.new_context(base_url=url)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: m.type == "error" and problems.append(m.text))
    opened.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        yield opened, problems
    finally:
        context.close()


@pytest.fixture(scope="session")
def live_url(web_settings: Settings) -> Iterator[str]:
    """The app over the session's store, served on loopback."""
    with serving(create_app(web_settings)) as url:
        yield url
