"""Schemathesis hooks for ``test_openapi.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

OpenAPI describes each query parameter on its own; it cannot say that ``date``, ``week``
and ``month`` of ``/api/daily_papers`` exclude each other. The operation's description says
so and a request with two of them gets a 400; the fuzzer is told the same here.
"""

from __future__ import annotations

from typing import Any

import schemathesis

PERIODS = ("date", "week", "month")


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    if case.operation.path != "/api/daily_papers" or not case.query:
        return True
    return sum(name in case.query for name in PERIODS) <= 1
