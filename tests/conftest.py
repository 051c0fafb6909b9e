"""Shared fixtures. ``store`` runs a test once per storage backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperstand.store import Store, open_store
from tests.replay import Replay

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store of each backend."""
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'paperstand.sqlite3'}")
    else:  # pragma: no cover - other backends register themselves below
        opened = request.getfixturevalue(f"{request.param}_store")
    try:
        yield opened
    finally:
        opened.close()


# --- Network sources ------------------------------------------------------------------------


@pytest.fixture
def replay() -> Iterator[Replay]:
    """A local HTTP server replaying the recorded arXiv OAI-PMH, Atom and Hugging Face
    responses of ``SHARED_DATA``, with faults to inject (see ``tests/replay.py``)."""
    server = Replay(SHARED_DATA).start()
    try:
        yield server
    finally:
        server.stop()
