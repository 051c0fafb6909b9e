"""The ``digest`` job kind: the daily run on the existing job queue.

Schedule it hourly (``paperstand jobs schedule digest digest --every 1h``): every slot from
the configured hour on (``params.hour``, else ``PAPERSTAND_DIGEST_HOUR``, UTC) it takes each
day not finished yet, up to today and at most ``PAPERSTAND_DIGEST_CATCH_UP_DAYS`` back, runs
the ingest jobs of ``params.ingest`` for that day (e.g. ``[{"kind": "ingest-hf-daily",
"params": {"url": "https://huggingface.co"}}]``), sends that day's digests, and records the
day as finished. Before the hour it only catches up days before today. Several workers may
run it at once: the queue runs a slot once, and the send ledger sends each digest once
even when two slots overlap.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from paperstand.digest.sender import DigestSender
from paperstand.errors import InvalidInput
from paperstand.jobs import KINDS, JobContext, job_kind


def days_due(last_finished: str | None, today: date, catch_up: int) -> list[date]:
    """The days to run, oldest first: after the last finished one, up to ``today``."""
    first = today - timedelta(days=catch_up - 1)
    if last_finished is not None:
        first = max(first, date.fromisoformat(last_finished) + timedelta(days=1))
    else:
        first = today
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


@job_kind(
    "digest",
    summary="ingest, then send the digests of every unfinished day up to today after the "
    "configured hour: params hour=H, ingest=[{kind, params}...]",
)
def digest(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    settings = ctx.settings
    now = datetime.fromisoformat(params["slot"]) if params.get("slot") else datetime.now(UTC)
    hour = int(params.get("hour", settings.digest_hour))
    today = now.date()
    steps = params.get("ingest") or []
    for step in steps:
        if not isinstance(step, dict) or step.get("kind") not in KINDS:
            raise InvalidInput(f"digest: unknown ingest step {step!r}")
    done: dict[str, Any] = {}
    days = days_due(ctx.store.digests.last_finished_day(), today, settings.digest_catch_up_days)
    for day in [d for d in days if d < today or now.hour >= hour]:
        for step in steps:
            job = replace(ctx.job, params={**step.get("params", {}), "date": day.isoformat()})
            KINDS[step["kind"]].run(JobContext(job, ctx.store, settings))
        reports = DigestSender(ctx.store, settings).send_day(day)
        ctx.store.digests.finish_day(day.isoformat())
        done[day.isoformat()] = [r.to_dict() for r in reports]
    return {"days": done}
