"""A job kind for the worker tests, loaded by workers through PAPERSTAND_JOB_MODULES (the
same seam later kinds plug into): it logs when it starts and ends, so a test can count runs."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from paperstand.jobs import JobContext, job_kind


@job_kind("probe", summary="test only: log 'start/done ID PID' lines to params log")
def probe(ctx: JobContext) -> dict[str, Any]:
    log = Path(ctx.job.params["log"])
    with log.open("a") as out:
        out.write(f"start {ctx.job.id} {os.getpid()}\n")
    if ctx.job.attempts == 1:  # only the first attempt dawdles: a retry finishes at once
        time.sleep(ctx.job.params.get("sleep", 0))
    with log.open("a") as out:
        out.write(f"done {ctx.job.id} {os.getpid()}\n")
    return {"pid": os.getpid()}
