"""Schemathesis hooks for ``test_openapi.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

OpenAPI describes each query parameter on its own; it cannot say that ``date``, ``week``
and ``month`` of ``/api/daily_papers`` exclude each other. The operation's description says
so and a request with two of them gets a 400; the fuzzer is told the same here. So do the
``before`` and ``after`` cursors of an author's or a category's papers.
"""

from __future__ import annotations

from typing import Any

import schemathesis

PERIODS = ("date", "week", "month")
CURSORS = ("before", "after")
PAGED = ("/api/authors/{name}", "/api/categories/{category}")


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    if not case.query:
        return True
    if case.operation.path in PAGED:
        return sum(name in case.query for name in CURSORS) <= 1
    if case.operation.path == "/api/daily_papers":
        return sum(name in case.query for name in PERIODS) <= 1
    return True
