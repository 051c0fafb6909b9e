"""``paperstand worker`` runs background jobs; ``paperstand jobs ...`` queues and lists them."""

from __future__ import annotations

import logging
import re
import signal
import threading
from typing import Annotated, Any

import orjson
import typer

from paperstand import jobs
from paperstand.cli.app import app, err, print_json, settings, store_for
from paperstand.errors import InvalidInput
from paperstand.store.base import Schedule

jobs_app = typer.Typer(help="Queue, list and schedule background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param", "-p", metavar="KEY=VALUE", help="A job parameter (VALUE read as JSON if it is)."
    ),
]
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1)] = 1,
    lease: Annotated[
        float, typer.Option("--lease", min=1, help="Seconds a job stays ours without renewal.")
    ] = 60.0,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between polls.")] = 1.0,
) -> None:
    """Run queued and scheduled jobs until SIGINT or SIGTERM (running jobs finish first)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with store_for(ctx) as store:
        runner = jobs.Worker(store, settings(ctx), concurrency=concurrency, lease=lease, poll=poll)
        err.print(f"worker {runner.name}: kinds {', '.join(sorted(runner.kinds))}")
        runner.run(stop)


def parse_params(pairs: list[str] | None, as_json: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if as_json:
        try:
            params = orjson.loads(as_json)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"--json is not valid JSON: {exc}") from None
        if not isinstance(params, dict):
            raise InvalidInput("--json must be a JSON object")
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"parameter {pair!r} is not KEY=VALUE")
        try:
            params[name] = orjson.loads(value)
        except orjson.JSONDecodeError:
            params[name] = value
    return params


def parse_duration(text: str) -> int:
    """Seconds in ``90``, ``90s``, ``15m``, ``6h`` or ``1d``."""
    found = _DURATION.match(text.strip())
    if not found or float(found.group(1)) * _UNIT[found.group(2)] < 1:
        raise InvalidInput(f"not a duration: {text!r} (e.g. 90s, 15m, 6h, 1d)")
    return int(float(found.group(1)) * _UNIT[found.group(2)])


@jobs_app.command("add")
def add(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="Job kind (see 'paperstand jobs kinds').")],
    params: Params = None,
    as_json: Annotated[
        str | None, typer.Option("--json", help="Parameters as a JSON object.")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Queue only if no job had this key.")
    ] = None,
    delay: Annotated[str, typer.Option("--in", help="Run after this long (e.g. 10m).")] = "0",
) -> None:
    """Queue one job; prints its id (nothing if --key was used before)."""
    wait = 0 if delay.strip() in ("0", "0s") else parse_duration(delay)
    with store_for(ctx) as store:
        job_id = jobs.enqueue(
            store, settings(ctx), kind, parse_params(params, as_json), key=key, delay=wait
        )
    if job_id is None:
        err.print(f"a job with key {key!r} exists already: nothing queued", highlight=False)
    else:
        typer.echo(job_id)


@jobs_app.command("list")
def list_jobs(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="queued, running, done or failed.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The latest jobs, newest first."""
    with store_for(ctx) as store:
        found = store.list_jobs(status=status, limit=limit)
    if as_json:
        print_json([vars(job) for job in found])
        return
    for job in found:
        outcome = (
            job.error
            if job.status == "failed"
            else (orjson.dumps(job.result).decode() if job.result else "")
        )
        typer.echo(
            f"{job.id:>6}  {job.status:<8} {job.kind:<18} attempts {job.attempts}/"
            f"{job.max_attempts}  {job.created_at}  {outcome}"
        )


@jobs_app.command("kinds")
def kinds(ctx: typer.Context) -> None:
    """The job kinds this installation knows."""
    for kind in sorted(jobs.load_kinds(settings(ctx)).values(), key=lambda k: k.name):
        typer.echo(f"{kind.name:<18} {kind.summary}")


@jobs_app.command("schedule")
def schedule(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the schedule (replaced if it exists).")],
    kind: Annotated[str, typer.Argument(help="Job kind.")],
    every: Annotated[str, typer.Option("--every", help="Slot length, e.g. 1h or 1d.")],
    params: Params = None,
    as_json: Annotated[
        str | None, typer.Option("--json", help="Parameters as a JSON object.")
    ] = None,
) -> None:
    """Queue a job of KIND once in every slot (slots are aligned on midnight UTC)."""
    plan = Schedule(name, kind, parse_params(params, as_json), parse_duration(every))
    with store_for(ctx) as store:
        jobs.save_schedule(store, settings(ctx), plan)
    typer.echo(f"{name}: {kind} every {plan.every_seconds}s")


@jobs_app.command("unschedule")
def unschedule(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a schedule (jobs already queued stay)."""
    with store_for(ctx) as store:
        if not store.delete_schedule(name):
            raise InvalidInput(f"no schedule named {name!r}")


@jobs_app.command("schedules")
def schedules(ctx: typer.Context) -> None:
    """The schedules, by name."""
    with store_for(ctx) as store:
        for plan in store.list_schedules():
            extra = f" {orjson.dumps(plan.params).decode()}" if plan.params else ""
            typer.echo(f"{plan.name:<20} {plan.kind:<18} every {plan.every_seconds}s{extra}")
