"""The API does what ``/openapi.json`` says: schemathesis (every check) against the real app,
served over HTTP on each storage backend, with zero failures allowed.

Bounded by the number of examples per operation and a fixed seed, so a run is repeatable and
its length does not depend on the machine: a failure it reports is a real disagreement
between the schema and the code, to be fixed in ``web/params.py`` or the handler.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paperstand.accounts.service import Accounts
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.web.conftest import serving

REPO = Path(__file__).resolve().parents[2]
SCHEMATHESIS = str(Path(sys.executable).parent / "st")
MAX_EXAMPLES = "25"

# The papers the schema's examples name (see web/params.py), so that the examples reach
# the code behind a found paper, not only its 404.
PAPERS = [
    Paper(
        id="2407.01234",
        title="Neural operators for partial differential equations",
        authors=["Ada Lovelace", "Bo Sample"],
        abstract="We learn solution operators of PDEs with $O(n \\log n)$ cost.",
        categories=["cs.LG", "math.NA"],
        listed="2024-07-02",
        doi="10.1000/xyz",
    ),
    Paper(
        id="hep-th/9901001",
        title="Anomalies on the lattice",
        authors=["Cy Doe"],
        abstract="A toy model computed exactly.",
        categories=["hep-th"],
        listed="1999-01-04",
    ),
    Paper(
        id="2407.05678",
        title="Graph transformers",
        authors=["Di Eve"],
        abstract="Attention over graphs.",
        categories=["cs.LG"],
        listed="2024-07-02",
        submitted_on="2024-07-03",
        upvotes=5,
        submitted_by="di",
        github_repo="https://github.com/example/graphs",
    ),
]


@pytest.fixture
def api_url(store: Store, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The app's URL and an API token, so that the account routes are tested past their 401."""
    store.upsert_papers(PAPERS)
    # The fast model, and no fetching from arXiv: the fuzzer pastes arXiv ids.
    settings = Settings(home=tmp_path, embedding_model="static-64", search_fetch_missing=False)
    accounts = Accounts(store, settings)
    _, token = accounts.new_api_token(accounts.create("fuzz@lab.example"), "schemathesis")
    with serving(create_app(settings, store=store)) as url:
        # FastAPI builds the schema on its first request and keeps it: built here, without
        # the fuzzer's 10-second read timeout, which a busy machine can exceed.
        httpx.get(f"{url}/openapi.json", timeout=300).raise_for_status()
        yield url, token


def test_the_api_answers_as_its_openapi_schema_says(
    api_url: tuple[str, str], tmp_path: Path
) -> None:
    api_url, token = api_url
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SCHEMATHESIS_HOOKS": "tests.web.openapi_hooks",
    }
    done = subprocess.run(
        [
            SCHEMATHESIS,
            f"--config-file={Path(__file__).with_name('schemathesis.toml')}",
            "run",
            f"{api_url}/openapi.json",
            "--checks=all",
            f"--max-examples={MAX_EXAMPLES}",
            "--seed=1",
            "--workers=1",
            "--phases=examples,coverage,fuzzing",
            "--generation-database=none",
            "--no-color",
            f"--header=Authorization: Bearer {token}",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # anything it writes stays in the test's directory
        timeout=1800,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-8000:]
    paths = httpx.get(f"{api_url}/openapi.json").json()["paths"]
    operations = sum(len(methods) for methods in paths.values())
    assert f"Tested: {operations}" in report, report[-2000:]
