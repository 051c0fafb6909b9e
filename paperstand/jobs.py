"""Background jobs: a queue kept in the store, shared by every ``paperstand worker``.

Why in the store: the database is the one thing every web process and worker already
reaches, on any number of machines, so no broker is needed. On PostgreSQL workers claim
jobs with ``FOR UPDATE SKIP LOCKED`` and never wait for each other; on SQLite (the embedded
mode) the queue works too, claims taking SQLite's write lock, which suits one machine with
one worker or a few.

How it behaves:

- **A job runs on one worker at a time, under a lease.** The worker renews the lease while
  the job runs (every third of it). If the worker dies (killed, machine gone), the lease runs
  out and the next worker that asks takes the job again, up to the kind's ``max_attempts``.
  A job that raises is retried the same way after a growing pause.
- **So delivery is at least once**, and a kind's handler must be idempotent, or make its
  effect exactly-once itself: record the effect together with a mark keyed on the job (its
  ``key`` or ``id``) in one store transaction, and skip the work when the mark is there. The
  built-in kinds are idempotent by construction: ingesting twice merges into the same
  papers, and embedding skips papers whose embedding is current.
- **Scheduled jobs run once per slot**, however many workers: every worker, on each poll,
  enqueues the current slot of every schedule under the key ``schedule:NAME:SLOT``; the key is
  unique in the jobs table, so only the first insert counts. The handler gets the slot's start
  as ``params["slot"]`` (e.g. the day to fetch).
- **Kinds plug in by name.** A module registers a kind with :func:`job_kind`; the worker
  imports this module (the built-in kinds: ingestion and embeddings) and the modules listed
  in the ``PAPERSTAND_JOB_MODULES`` setting, so later jobs (digest mails, recommendation
  refresh, topic refits) add a module and a line to that list, nothing else.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paperstand import community, library
from paperstand.errors import InvalidInput, PaperstandError, SourceError
from paperstand.ingest import IngestReport, arxiv_pacer, ingest_and_index
from paperstand.settings import Settings
from paperstand.sources import arxiv_oai, hf_daily, jsonl
from paperstand.sources.http import Fetcher
from paperstand.store import Store
from paperstand.store.base import Job, Schedule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: the job (with its params), the store and the settings."""

    job: Job
    store: Store
    settings: Settings


Handler = Callable[[JobContext], dict[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Handler
    summary: str
    max_attempts: int = 3


KINDS: dict[str, JobKind] = {}
# Services whose kinds every worker runs; they import this module, so they are imported
# when the kinds are loaded rather than here.
BUILT_IN_MODULES = ("paperstand.digest.schedule", "paperstand.topics.jobs")


def job_kind(name: str, *, summary: str, max_attempts: int = 3) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of job kind ``name``. It returns a
    small JSON-able result (kept with the job) or None, and raises to fail the attempt."""

    def register(handler: Handler) -> Handler:
        KINDS[name] = JobKind(name, handler, summary, max_attempts)
        return handler

    return register


def load_kinds(settings: Settings) -> dict[str, JobKind]:
    """The registered kinds, after importing the built-in kind modules beyond this one and
    the modules named in ``settings.job_modules``."""
    named = (m.strip() for m in settings.job_modules.split(","))
    for module in filter(None, (*BUILT_IN_MODULES, *named)):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise InvalidInput(f"cannot load job module {module!r}: {exc}") from exc
    return KINDS


def enqueue(
    store: Store,
    settings: Settings,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    delay: float = 0.0,
) -> int | None:
    """Queue a job of a known kind; None when ``key`` was already used."""
    known = load_kinds(settings)
    if kind not in known:
        raise InvalidInput(f"unknown job kind {kind!r}; known: {', '.join(sorted(known))}")
    return store.enqueue_job(
        kind, params or {}, key=key, max_attempts=known[kind].max_attempts, delay=delay
    )


def schedule_slot(every_seconds: int, now: float) -> str:
    """The start of the slot ``now`` falls in (slots are aligned on the Unix epoch, so
    every worker computes the same one), as ISO 8601 UTC."""
    start = int(now) // every_seconds * every_seconds
    return datetime.fromtimestamp(start, UTC).isoformat().replace("+00:00", "Z")


def enqueue_due(store: Store, *, now: float | None = None) -> list[int]:
    """Queue the current slot of every schedule not queued yet; returns the new job ids."""
    queued = []
    for schedule in store.list_schedules():
        slot = schedule_slot(schedule.every_seconds, time.time() if now is None else now)
        kind = KINDS.get(schedule.kind)
        job_id = store.enqueue_job(
            schedule.kind,
            {**schedule.params, "slot": slot},
            key=f"schedule:{schedule.name}:{slot}",
            max_attempts=kind.max_attempts if kind else 3,
        )
        if job_id is not None:
            queued.append(job_id)
    return queued


def save_schedule(store: Store, settings: Settings, schedule: Schedule) -> None:
    if schedule.kind not in load_kinds(settings):
        raise InvalidInput(f"unknown job kind {schedule.kind!r}")
    store.save_schedule(schedule)


# --- the worker ---------------------------------------------------------------------------


class Worker:
    """Runs jobs until told to stop: ``concurrency`` threads, each claiming one job at a
    time. Threads suit the built-in kinds, which wait on the network, the database or a
    model that releases the GIL; for more CPU, start more worker processes."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        concurrency: int = 1,
        lease: float = 60.0,
        poll: float = 1.0,
        retry_in: float = 30.0,
        name: str | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.concurrency = concurrency
        self.lease = lease
        self.poll = poll
        self.retry_in = retry_in
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.kinds = load_kinds(settings)

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; jobs already running are finished first."""
        threads = [
            threading.Thread(target=self._loop, args=(stop, f"{self.name}/{n}"), daemon=True)
            for n in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        # Join with a timeout: a signal delivered to another thread does not wake a main
        # thread blocked in a plain join, so SIGTERM would wait for nothing.
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(timeout=0.5)

    def _loop(self, stop: threading.Event, worker: str) -> None:
        while not stop.is_set():
            try:
                if worker.endswith("/0"):
                    enqueue_due(self.store)
                job = self.run_one(worker)
            except PaperstandError as exc:  # e.g. the database is briefly unreachable
                log.warning("%s: %s", worker, exc)
                job = None
            if job is None:
                stop.wait(self.poll)

    def run_one(self, worker: str | None = None) -> Job | None:
        """Claim one due job and run it; the job, or None when there was none."""
        worker = worker or self.name
        job = self.store.claim_job(worker, list(self.kinds), self.lease)
        if job is None:
            return None
        log.info("job %s %s started (attempt %s) on %s", job.id, job.kind, job.attempts, worker)
        began = time.perf_counter()
        try:
            with self._lease_kept(job, worker):
                result = self.kinds[job.kind].run(JobContext(job, self.store, self.settings))
        except Exception as exc:  # any failure of a handler is an attempt to retry
            message = " ".join(str(exc).split()) or type(exc).__name__
            wait = self.retry_in * 2 ** (job.attempts - 1)
            self.store.fail_job(job.id, worker, message, wait)
            log.warning("job %s %s failed: %s", job.id, job.kind, message)
            return job
        if self.store.finish_job(job.id, worker, result):
            log.info("job %s %s done in %.1fs", job.id, job.kind, time.perf_counter() - began)
        else:
            log.warning(
                "job %s %s finished after its lease passed to another worker", job.id, job.kind
            )
        return job

    @contextmanager
    def _lease_kept(self, job: Job, worker: str) -> Iterator[None]:
        """Renew the job's lease every third of it while the block runs."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.lease / 3):
                try:
                    if not self.store.renew_job_lease(job.id, worker, self.lease):
                        log.warning("job %s: lease lost to another worker", job.id)
                        return
                except PaperstandError as exc:
                    log.warning("job %s: cannot renew the lease: %s", job.id, exc)

        thread = threading.Thread(target=renew, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


# --- built-in kinds -------------------------------------------------------------------------


def _ingested(report: IngestReport) -> dict[str, Any]:
    """The report as the job's result; a source error fails the attempt (it is retried,
    and the batches committed before it come back as unchanged)."""
    if report.error:
        raise SourceError(report.error)
    return report.to_dict()


@job_kind("ingest-jsonl", summary="JSON-lines files of arXiv metadata: params files=[PATH...]")
def ingest_jsonl(ctx: JobContext) -> dict[str, Any]:
    files = ctx.job.params.get("files") or []
    if isinstance(files, str):
        files = [files]

    def items() -> Iterator[Any]:
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise SourceError(f"{path}: no such file")
            with path.open("rb") as stream:
                yield from jsonl.records(stream, str(path))

    return _ingested(ingest_and_index(ctx.store, items(), ctx.settings))


@job_kind(
    "ingest-hf-daily",
    summary="one day of a daily-papers API: params url=BASE, date=YYYY-MM-DD "
    "(default: the schedule slot's day, else today)",
)
def ingest_hf_daily(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    if not params.get("url"):
        raise InvalidInput("ingest-hf-daily needs the API's base URL: -p url=https://...")
    day = params.get("date") or (params.get("slot") or datetime.now(UTC).isoformat())[:10]
    with Fetcher.from_settings(ctx.settings) as fetcher:
        items = hf_daily.records_from_url(params["url"], day, fetcher=fetcher)
        return _ingested(ingest_and_index(ctx.store, items, ctx.settings))


@job_kind(
    "ingest-arxiv-oai",
    summary="an arXiv OAI-PMH harvest: params url, set, from, until, format "
    "(without from: since the last harvest); resumes from its checkpoint",
)
def ingest_arxiv_oai(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    conf = ctx.settings
    pace = arxiv_pacer(ctx.store, conf.arxiv_delay)
    with Fetcher.from_settings(conf, pace=pace) as fetcher:
        items = arxiv_oai.records(
            params.get("url") or arxiv_oai.DEFAULT_URL,
            metadata_prefix=params.get("format", "arXiv"),
            set_spec=params.get("set"),
            from_date=params.get("from"),
            until=params.get("until"),
            checkpoints=ctx.store,
            fetcher=fetcher,
        )
        return _ingested(ingest_and_index(ctx.store, items, ctx.settings))


@job_kind(
    "index-build",
    summary="bring the full-text index (of this machine) and the embeddings up to date",
)
def index_build(ctx: JobContext) -> dict[str, Any]:
    from paperstand.index.build import build_index

    report = build_index(ctx.store, ctx.settings)
    if report.embedded:
        _topics_after(ctx)
    return report.to_dict()


@job_kind(
    community.FETCH_JOB,
    summary="fetch a submitted paper from the arXiv API, then list it on the curated list "
    "or reject the submission: params id=ARXIV_ID",
    max_attempts=5,
)
def submission_fetch(ctx: JobContext) -> dict[str, Any]:
    return community.fetch_submitted(ctx.store, ctx.settings, ctx.job.params["id"])


@job_kind(
    library.FETCH_JOB,
    summary="fetch imported arXiv papers the store lacks from the arXiv API (those arXiv "
    "does not know leave the lists): params ids=[ARXIV_ID, ...]",
)
def library_fetch(ctx: JobContext) -> dict[str, Any]:
    return library.fetch_missing(ctx.store, ctx.settings, list(ctx.job.params["ids"]))


@job_kind(
    "github-stars",
    summary="keep today's GitHub star counts, from which trending measures star growth "
    "(schedule it daily)",
)
def github_stars(ctx: JobContext) -> dict[str, Any]:
    day = (ctx.job.params.get("slot") or datetime.now(UTC).isoformat())[:10]
    return {"day": day, "papers": ctx.store.community.snapshot_stars(day)}


EMBED_CHUNK = 256
TOPICS_UPDATE_EVERY = 300


@job_kind(
    "embed-plan",
    summary="queue one embed job per chunk of papers whose embedding is missing or stale, "
    "so that every worker shares the embedding work",
)
def embed_plan(ctx: JobContext) -> dict[str, Any]:
    from paperstand.index.build import stale_embeddings

    stale, current = stale_embeddings(ctx.store, ctx.settings.embedding_model)
    chunk = int(ctx.job.params.get("chunk", EMBED_CHUNK))
    queued = 0
    for number, start in enumerate(range(0, len(stale), chunk)):
        # Keyed on this job: a retried plan does not queue its chunks twice.
        if ctx.store.enqueue_job(
            "embed", {"ids": stale[start : start + chunk]}, key=f"embed:{ctx.job.id}:{number}"
        ):
            queued += 1
    return {"stale": len(stale), "up_to_date": current, "jobs": queued}


@job_kind("embed", summary="embed the papers params ids=[ID...] with the configured model")
def embed(ctx: JobContext) -> dict[str, Any]:
    from paperstand.index.build import content_hash
    from paperstand.index.embeddings import document_text, get_embedder
    from paperstand.index.vectors import vector_index

    embedder = get_embedder(ctx.settings.embedding_model)
    papers = [p for p in ctx.store.get_papers(ctx.job.params.get("ids", [])) if not p.deleted]
    if papers:
        vectors = embedder.embed_documents([document_text(p.title, p.abstract) for p in papers])
        vector_index(ctx.store, embedder.name).upsert(
            [
                (p.id, content_hash(p.title, p.abstract), vector)
                for p, vector in zip(papers, vectors, strict=True)
            ]
        )
        _topics_after(ctx)
    return {"model": embedder.name, "embedded": len(papers)}


def _topics_after(ctx: JobContext) -> None:
    """Queue placing newly embedded papers on the topic map: one update per five-minute
    slot, a minute after the first embedding job of the slot, so the many chunk jobs of one
    ingest share an update instead of each queueing its own."""
    slot = schedule_slot(TOPICS_UPDATE_EVERY, time.time())
    ctx.store.enqueue_job("topics-update", {}, key=f"topics-update:{slot}", delay=60.0)
