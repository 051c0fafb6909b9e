"""The job queue, its schedules and pacing slots (see ``paperstand/jobs.py`` for how they
are used).

A queue shared by every worker process, on any machine, that reaches the database: a job is
handed to one worker at a time, under a lease the worker keeps renewing; a job whose lease
ran out (its worker died) is handed out again. Times come from the database's clock, so
workers' clocks need not agree. On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED``, so
workers on any number of machines claim different jobs without waiting for each other; on
SQLite a claim holds the one writer lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    Table,
    Text,
    case,
    delete,
    func,
    literal,
    select,
    update,
)

from paperstand.store.dialect import clock, greatest, insert, later, now
from paperstand.store.part import Part
from paperstand.store.records import JOB_COLUMNS, Job, Schedule, job_from_row
from paperstand.store.schema import Json, Key, Stamp, metadata

jobs = Table(
    "jobs",
    metadata,
    Column("id", Key, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("params", Json, nullable=False, server_default="{}"),
    Column("key", Text, unique=True),  # at most one job per key, ever
    Column(
        "status",
        Text,
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')"),
        nullable=False,
        server_default="queued",
    ),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default="3"),
    Column("worker", Text),  # who runs (or last ran) it
    Column("run_after", Stamp, nullable=False),  # not before
    Column("lease_until", Stamp),  # a running job whose lease passed is retried
    Column("created_at", Stamp, nullable=False),
    Column("started_at", Stamp),
    Column("finished_at", Stamp),
    Column("result", Json),
    Column("error", Text),
)
Index("jobs_due", jobs.c.status, jobs.c.run_after)

schedules = Table(
    "schedules",
    metadata,
    Column("name", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("params", Json, nullable=False, server_default="{}"),
    Column("every_seconds", Integer, CheckConstraint("every_seconds > 0"), nullable=False),
)

pacing = Table(
    "pacing",
    metadata,
    # The next moment (seconds since the epoch, the database's clock) a request of this
    # kind may be made, by any thread or process of the installation.
    Column("key", Text, primary_key=True),
    Column("next_at", Float, nullable=False),
)

_RETURNED = [jobs.c[name] for name in JOB_COLUMNS]


def _lost(column: Any) -> Any:
    """The error text of a job whose worker lost it, appended to earlier ones."""
    return func.coalesce(column + "; ", "") + "worker " + jobs.c.worker + " lost"


def enqueue_statement(
    dialect: str,
    kind: str,
    params: dict[str, Any],
    *,
    key: str | None = None,
    max_attempts: int = 3,
    delay: float = 0.0,
) -> Any:
    """The ``INSERT`` queueing a job (see :meth:`JobStore.enqueue_job`), returning its id:
    for a part whose write must queue a job in its own transaction, all or nothing."""
    return (
        insert(dialect, jobs)
        .values(
            kind=kind,
            params=params,
            key=key,
            max_attempts=max_attempts,
            run_after=later(dialect, delay),
            created_at=now(dialect),
        )
        .on_conflict_do_nothing(index_elements=[jobs.c.key])
        .returning(jobs.c.id)
    )


class JobStore(Part):
    def enqueue_job(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        key: str | None = None,
        max_attempts: int = 3,
        delay: float = 0.0,
    ) -> int | None:
        """Queue a job to run after ``delay`` seconds; returns its id. With ``key``, a job is
        queued only if no job ever had that key: None then (scheduled slots rely on it)."""
        statement = enqueue_statement(
            self.dialect, kind, params, key=key, max_attempts=max_attempts, delay=delay
        )
        with self.write() as conn:
            return conn.execute(statement).scalar()

    def claim_job(self, worker: str, kinds: Sequence[str], lease: float) -> Job | None:
        """Hand the next due job of one of ``kinds`` to ``worker`` (oldest first), marked
        running for ``lease`` seconds, or None. Due: queued and its time has come, or running
        with an expired lease and attempts left (those without are marked failed)."""
        if not kinds:
            return None
        clock_now = now(self.dialect)
        expired = (jobs.c.status == "running") & (jobs.c.lease_until < clock_now)
        due = (
            select(jobs.c.id)
            .where(
                jobs.c.kind.in_(list(kinds)),
                ((jobs.c.status == "queued") & (jobs.c.run_after <= clock_now))
                | (expired & (jobs.c.attempts < jobs.c.max_attempts)),
            )
            .order_by(jobs.c.run_after, jobs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        with self.write() as conn:
            conn.execute(
                update(jobs)
                .where(expired, jobs.c.attempts >= jobs.c.max_attempts)
                .values(status="failed", finished_at=clock_now, error=_lost(jobs.c.error))
            )
            row = conn.execute(
                update(jobs)
                .where(jobs.c.id == due)
                .values(
                    error=case(
                        (jobs.c.status == "running", _lost(jobs.c.error)), else_=jobs.c.error
                    ),
                    status="running",
                    attempts=jobs.c.attempts + 1,
                    worker=worker,
                    lease_until=later(self.dialect, lease),
                    started_at=clock_now,
                )
                .returning(*_RETURNED)
            ).first()
        return job_from_row(row) if row else None

    def _one_changed(self, statement: Any) -> bool:
        with self.write() as conn:
            return conn.execute(statement).rowcount == 1

    def _running(self, job_id: int, worker: str) -> Any:
        return update(jobs).where(
            jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.status == "running"
        )

    def renew_job_lease(self, job_id: int, worker: str, lease: float) -> bool:
        """Extend ``worker``'s lease; False if the job is no longer running for it."""
        return self._one_changed(
            self._running(job_id, worker).values(lease_until=later(self.dialect, lease))
        )

    def finish_job(self, job_id: int, worker: str, result: dict[str, Any] | None) -> bool:
        """Mark the job done; False (and no change) if it is no longer running for it."""
        return self._one_changed(
            self._running(job_id, worker).values(
                status="done", finished_at=now(self.dialect), lease_until=None, result=result
            )
        )

    def fail_job(self, job_id: int, worker: str, error: str, retry_in: float) -> bool:
        """Record a failed attempt: queued again after ``retry_in`` seconds while attempts
        are left, else failed for good. False if the job is no longer running for it."""
        left = jobs.c.attempts < jobs.c.max_attempts
        return self._one_changed(
            self._running(job_id, worker).values(
                status=case((left, "queued"), else_="failed"),
                finished_at=case((left, None), else_=now(self.dialect)),
                run_after=later(self.dialect, retry_in),
                lease_until=None,
                error=error,
            )
        )

    def list_jobs(self, *, status: str | None = None, limit: int = 50) -> list[Job]:
        """The latest jobs, newest first, optionally only those with ``status``."""
        query = select(*_RETURNED).order_by(jobs.c.id.desc()).limit(limit)
        if status:
            query = query.where(jobs.c.status == status)
        with self.read() as conn:
            return [job_from_row(row) for row in conn.execute(query)]

    def save_schedule(self, schedule: Schedule) -> None:
        """Create or replace the schedule of that name."""
        statement = insert(self.dialect, schedules).values(
            name=schedule.name,
            kind=schedule.kind,
            params=schedule.params,
            every_seconds=schedule.every_seconds,
        )
        new = statement.excluded
        with self.write() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[schedules.c.name],
                    set_={
                        "kind": new.kind,
                        "params": new.params,
                        "every_seconds": new.every_seconds,
                    },
                )
            )

    def delete_schedule(self, name: str) -> bool:
        return self._one_changed(delete(schedules).where(schedules.c.name == name))

    def list_schedules(self) -> list[Schedule]:
        query = select(
            schedules.c.name, schedules.c.kind, schedules.c.params, schedules.c.every_seconds
        ).order_by(schedules.c.name)
        with self.read() as conn:
            return [Schedule(*row) for row in conn.execute(query)]

    # --- pacing -----------------------------------------------------------------------

    def acquire_slot(self, key: str, interval: float) -> float:
        """Reserve the next moment a request of kind ``key`` may be made, at least
        ``interval`` seconds after the one reserved before it by any thread or process of
        this installation; returns how many seconds to wait for it (0 when it is now).
        One atomic statement: two callers never get the same slot."""
        current = clock(self.dialect)
        statement = insert(self.dialect, pacing).values(key=key, next_at=current + interval)
        reserved = greatest(self.dialect, pacing.c.next_at, current)
        with self.write() as conn:
            slot = conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[pacing.c.key], set_={"next_at": reserved + interval}
                ).returning(pacing.c.next_at - literal(interval) - current)
            ).scalar_one()
        return max(0.0, float(slot))
