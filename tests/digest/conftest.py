"""Digests against a real SMTP server (aiosmtpd on a loopback port) over a store holding the
real papers of 2025-03-27: the Hugging Face daily list of that day and the day's arXiv
listing, plus one paper featured on a Saturday (for the weekend rules)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.sources import hf_daily, jsonl
from paperstand.store import Store
from tests.conftest import DATA
from tests.smtpserver import Inbox, smtp_server

DAY = "2025-03-27"  # a Thursday
SATURDAY = "2025-03-29"
SATURDAY_PAPER = Paper(
    id="2503.21999",
    title="A paper featured on a Saturday",
    authors=["Ada Example"],
    abstract="Weekend reading.",
    categories=["cs.CL"],
    submitted_on=SATURDAY,
    upvotes=4,
)


def listing_of(day: str) -> bytes:
    with gzip.open(DATA / "arxiv" / "listings-2025-03.jsonl.gz", "rb") as stream:
        return b"".join(line for line in stream if orjson.loads(line)["listed"] == day)


@pytest.fixture
def papers(store: Store) -> Store:
    with (DATA / "hf" / "responses" / f"{DAY}.json").open("rb") as stream:
        assert ingest(store, hf_daily.records(stream, "hf")).error is None
    listing = io.BytesIO(listing_of(DAY))
    assert ingest(store, jsonl.records(listing, "listing")).error is None
    store.upsert_papers([SATURDAY_PAPER])
    return store


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller, port = smtp_server(inbox)
    try:
        yield inbox, port
    finally:
        controller.stop()


def settings_for(home: Any, port: int, **more: Any) -> Settings:
    return Settings(
        home=home,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="digest@papers.lab.example",
        base_url="https://papers.lab.example",
        secret_key="k" * 48,
        digest_backoff=0.01,
        **more,
    )
