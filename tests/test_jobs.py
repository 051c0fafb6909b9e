"""Background jobs: the queue in the store (both backends) and real ``paperstand worker``
processes sharing one PostgreSQL queue."""

from __future__ import annotations

import gzip
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

import tests.jobkinds  # noqa: F401 - registers the probe kind in this process
from paperstand import jobs
from paperstand.ids import normalise_id
from paperstand.index.fulltext import FullTextIndex
from paperstand.index.query import parse_query
from paperstand.settings import Settings
from paperstand.store import Store, open_store
from paperstand.store.base import Schedule
from tests.conftest import DATA, REPO
from tests.replay import Replay

PAPERSTAND = str(Path(sys.executable).parent / "paperstand")


# --- the queue in the store ---------------------------------------------------------------


def test_a_job_is_claimed_once_and_finished(store: Store) -> None:
    first = store.enqueue_job("probe", {"n": 1})
    second = store.enqueue_job("probe", {"n": 2})
    assert store.claim_job("w1", ["other"], 60) is None
    a = store.claim_job("w1", ["probe"], 60)
    b = store.claim_job("w2", ["probe"], 60)
    assert (a.id, b.id) == (first, second)
    assert (a.status, a.attempts, a.worker, a.params) == ("running", 1, "w1", {"n": 1})
    assert store.claim_job("w3", ["probe"], 60) is None
    assert not store.finish_job(a.id, "w2", None)  # not w2's job
    assert store.finish_job(a.id, "w1", {"ok": True})
    done = store.list_jobs(status="done")
    assert [(j.id, j.result) for j in done] == [(first, {"ok": True})]
    assert done[0].finished_at is not None and done[0].created_at.endswith("Z")


def test_a_key_queues_a_job_only_once(store: Store) -> None:
    assert store.enqueue_job("probe", {}, key="once") is not None
    assert store.enqueue_job("probe", {}, key="once") is None
    assert len(store.list_jobs()) == 1


def test_a_delayed_job_waits(store: Store) -> None:
    store.enqueue_job("probe", {}, delay=3600)
    assert store.claim_job("w1", ["probe"], 60) is None
    assert store.list_jobs()[0].status == "queued"


def test_an_expired_lease_hands_the_job_to_another_worker(store: Store) -> None:
    job_id = store.enqueue_job("probe", {}, max_attempts=2)
    store.claim_job("dead", ["probe"], 0.05)
    time.sleep(0.2)  # the lease runs out: "dead" stopped renewing it
    retried = store.claim_job("alive", ["probe"], 60)
    assert (retried.id, retried.attempts, retried.worker) == (job_id, 2, "alive")
    assert "worker dead lost" in retried.error
    assert not store.renew_job_lease(job_id, "dead", 60)
    assert not store.finish_job(job_id, "dead", None)
    assert store.renew_job_lease(job_id, "alive", 0.05)
    time.sleep(0.2)  # "alive" dies too: no attempts left, so the job fails for good
    assert store.claim_job("third", ["probe"], 60) is None
    failed = store.list_jobs(status="failed")
    assert [j.id for j in failed] == [job_id]


def test_a_failed_attempt_is_retried_until_attempts_run_out(store: Store) -> None:
    job_id = store.enqueue_job("probe", {}, max_attempts=2)
    store.claim_job("w", ["probe"], 60)
    assert store.fail_job(job_id, "w", "boom", 0)
    again = store.claim_job("w", ["probe"], 60)
    assert (again.attempts, again.error) == (2, "boom")
    store.fail_job(job_id, "w", "boom again", 0)
    assert store.claim_job("w", ["probe"], 60) is None
    assert store.list_jobs()[0].status == "failed"


def test_each_schedule_slot_is_queued_once_whoever_asks(store: Store) -> None:
    store.save_schedule(Schedule("tick", "probe", {"a": 1}, 3600))
    now = 1_750_000_000.0
    queued = jobs.enqueue_due(store, now=now) + jobs.enqueue_due(store, now=now + 10)
    assert len(queued) == 1
    assert len(jobs.enqueue_due(store, now=now + 3600)) == 1  # the next slot
    slots = sorted(j.params["slot"] for j in store.list_jobs())
    assert slots == ["2025-06-15T15:00:00Z", "2025-06-15T16:00:00Z"]
    assert store.list_schedules() == [Schedule("tick", "probe", {"a": 1}, 3600)]
    assert store.delete_schedule("tick") and store.list_schedules() == []


def test_an_ingest_job_loads_a_file(store: Store, tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    with gzip.open(DATA / "arxiv" / "listings-2025-03.jsonl.gz", "rt") as lines:
        sample.write_text("".join(itertools.islice(lines, 40)))
    settings = Settings(home=tmp_path)
    job_id = jobs.enqueue(store, settings, "ingest-jsonl", {"files": [str(sample)]})
    worker = jobs.Worker(store, settings)
    assert worker.run_one().id == job_id
    [job] = store.list_jobs()
    assert (job.status, job.result["added"]) == ("done", 40)
    assert store.stats()["papers"] == 40


def test_an_ingest_job_leaves_its_papers_searchable_at_once(store: Store, tmp_path: Path) -> None:
    """The job brings the full-text index up to date itself: the first search after it finds
    the new papers without indexing anything."""
    sample = tmp_path / "sample.jsonl"
    with gzip.open(DATA / "arxiv" / "listings-2025-03.jsonl.gz", "rt") as lines:
        records = list(itertools.islice(lines, 30))
    sample.write_text("".join(records))
    settings = Settings(home=tmp_path)
    jobs.enqueue(store, settings, "ingest-jsonl", {"files": [str(sample)]})
    jobs.Worker(store, settings).run_one()
    [job] = store.list_jobs()
    assert (job.status, job.result["indexed"]) == ("done", 30)
    index = FullTextIndex(settings.fulltext_path)  # as a server opening it would
    assert index.revision == store.revision()
    last = orjson.loads(records[-1])
    found = [pid for pid, _ in index.search(parse_query(last["title"]), limit=3)]
    assert normalise_id(last["id"]) in found


def test_a_job_that_raises_is_queued_again_with_its_error(store: Store, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    jobs.enqueue(store, settings, "ingest-jsonl", {"files": [str(tmp_path / "missing.jsonl")]})
    jobs.Worker(store, settings, retry_in=3600).run_one()
    [job] = store.list_jobs()
    assert (job.status, job.attempts) == ("queued", 1)
    assert job.error.endswith("missing.jsonl: no such file")


def test_a_daily_schedule_fetches_the_day_of_its_slot(
    store: Store, tmp_path: Path, replay: Replay
) -> None:
    settings = Settings(home=tmp_path)
    jobs.save_schedule(
        store, settings, Schedule("hf", "ingest-hf-daily", {"url": replay.url}, 86400)
    )
    morning = datetime(2024, 5, 27, 6, tzinfo=UTC).timestamp()
    assert len(jobs.enqueue_due(store, now=morning)) == 1
    jobs.Worker(store, settings).run_one()
    [job] = store.list_jobs()
    assert (job.status, job.params["slot"], job.result["added"]) == (
        "done",
        "2024-05-27T00:00:00Z",
        13,
    )
    assert replay.asked("/api/daily_papers") == [{"date": "2024-05-27"}]


def test_an_oai_harvest_job(store: Store, tmp_path: Path, replay: Replay) -> None:
    settings = Settings(home=tmp_path, arxiv_delay=0)
    params = {"url": replay.oai_url, "from": "2015-01-01", "until": "2015-01-03"}
    jobs.enqueue(store, settings, "ingest-arxiv-oai", params)
    jobs.Worker(store, settings).run_one()
    assert store.list_jobs()[0].result["added"] == 2
    assert store.get_paper("1412.8544").doi == "10.4204/EPTCS.172.11"


# --- worker processes on one PostgreSQL queue ------------------------------------------------


@pytest.fixture
def start_worker(postgres_url: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts ``paperstand worker`` processes on the test database; stops them afterwards."""
    started: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "PAPERSTAND_HOME": str(tmp_path / "home"),
        "PAPERSTAND_JOB_MODULES": "tests.jobkinds",
        "PYTHONPATH": str(REPO),
    }

    def start(*args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [PAPERSTAND, "worker", "--poll", "0.1", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"worker-{len(started)}.log", "w"),  # noqa: SIM115
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        process.wait(timeout=30)


def ready(tmp_path: Path, number: int) -> bool:
    """Whether the ``number``-th started worker has announced its job kinds (it polls next)."""
    log = tmp_path / f"worker-{number}.log"
    return log.exists() and "kinds" in log.read_text()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    """Poll until ``condition`` holds; the timeout only stops a broken run from hanging."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def lines(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def test_two_workers_run_each_job_once(postgres_url: str, start_worker, tmp_path: Path) -> None:
    log = tmp_path / "probe.log"
    with open_store(postgres_url) as store:
        first, second = start_worker(), start_worker()
        # Jobs are queued once both workers poll: on a loaded machine one worker's start-up
        # can outlast all twelve jobs, and then only one worker would run them.
        wait_for(lambda: all(ready(tmp_path, n) for n in (0, 1)), "both workers polling")
        ids = [store.enqueue_job("probe", {"log": str(log), "sleep": 0.2}) for _ in range(12)]
        wait_for(lambda: len(store.list_jobs(status="done")) == 12, "all jobs done")
        done = store.list_jobs(status="done")
    runs = Counter(int(job_id) for event, job_id, _ in lines(log) if event == "done")
    assert runs == {job_id: 1 for job_id in ids}
    assert all(job.attempts == 1 for job in done)
    assert {int(pid) for *_, pid in lines(log)} == {first.pid, second.pid}


def test_a_job_of_a_killed_worker_is_retried_by_the_other(
    postgres_url: str, start_worker, tmp_path: Path
) -> None:
    log = tmp_path / "probe.log"
    with open_store(postgres_url) as store:
        doomed = start_worker("--lease", "2")
        job_id = store.enqueue_job("probe", {"log": str(log), "sleep": 600})
        wait_for(lambda: ["start", str(job_id), str(doomed.pid)] in lines(log), "first start")
        survivor = start_worker("--lease", "2")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        wait_for(lambda: store.list_jobs()[0].status == "done", "the retry")
        [job] = store.list_jobs()
    assert (job.attempts, job.result) == (2, {"pid": survivor.pid})
    assert job.worker.startswith(f"{os.uname().nodename}:{survivor.pid}/")
    assert "lost" in job.error
    assert [event for event, *_ in lines(log)] == ["start", "start", "done"]


def test_a_scheduled_job_runs_once_with_two_workers(
    postgres_url: str, start_worker, tmp_path: Path
) -> None:
    log = tmp_path / "probe.log"
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "PAPERSTAND_JOB_MODULES": "tests.jobkinds",
        "PYTHONPATH": str(REPO),
    }
    added = subprocess.run(
        [
            PAPERSTAND,
            "jobs",
            "schedule",
            "daily-probe",
            "probe",
            "--every",
            "1d",
            "-p",
            f"log={log}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    workers = [start_worker(), start_worker()]
    with open_store(postgres_url) as store:
        wait_for(lambda: any(e == "done" for e, *_ in lines(log)), "the scheduled run")
        # Give both workers many more polls: the slot must not be queued again.
        time.sleep(1.0)
        scheduled = store.list_jobs()
    assert all(worker.poll() is None for worker in workers)
    assert len(scheduled) == 1 and scheduled[0].key.startswith("schedule:daily-probe:")
    assert [event for event, *_ in lines(log)] == ["start", "done"]
    listed = subprocess.run(
        [PAPERSTAND, "jobs", "list", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert orjson.loads(listed.stdout)[0]["status"] == "done"


def test_jobs_add_list_and_kinds_on_the_command_line(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PAPERSTAND, "--home", str(tmp_path), *args], capture_output=True, text=True, timeout=60
        )

    assert cli("init").returncode == 0
    added = cli("jobs", "add", "ingest-jsonl", "-p", 'files=["a.jsonl"]', "--key", "k1")
    assert added.returncode == 0 and added.stdout.strip().isdigit()
    again = cli("jobs", "add", "ingest-jsonl", "--key", "k1")
    assert again.returncode == 0 and again.stdout == ""
    listed = cli("jobs", "list")
    assert "queued" in listed.stdout and "ingest-jsonl" in listed.stdout
    assert "embed-plan" in cli("jobs", "kinds").stdout
    unknown = cli("jobs", "add", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: unknown job kind 'nope'; known: ")
    assert len(unknown.stderr.strip().splitlines()) == 1
    bad = cli("jobs", "schedule", "x", "embed-plan", "--every", "soon")
    assert bad.returncode == 1 and "not a duration" in bad.stderr
