"""Job kinds that keep the topic map current on the worker (``paperstand worker``).

``topics-update`` places newly embedded papers; the embedding and ingest jobs queue one
after they change something (see ``paperstand.jobs``), and it is cheap when nothing is new.
``topics-refit`` refits clusters and map from scratch; give it a schedule, e.g.
``paperstand jobs schedule topics-refit --every 7d``.
"""

from __future__ import annotations

from typing import Any

from paperstand.jobs import JobContext, job_kind
from paperstand.topics.service import build_topics


@job_kind("topics-update", summary="place newly embedded papers on the topic map")
def topics_update(ctx: JobContext) -> dict[str, Any]:
    return build_topics(ctx.store, ctx.settings).to_dict()


@job_kind("topics-refit", summary="refit topic clusters, labels and map from scratch")
def topics_refit(ctx: JobContext) -> dict[str, Any]:
    return build_topics(ctx.store, ctx.settings, full=True).to_dict()
