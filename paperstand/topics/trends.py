"""Trends: papers per week per topic cluster and per arXiv category, and rising keywords.

Computed from plain records (a paper's day, categories, cluster and keywords), so the same
function serves the ``/trends`` page, its JSON and the tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

WEEKS = 26
TOP_CATEGORIES = 8
RISING = 20
MIN_RECENT = 3  # mentions in the recent month before a keyword may count as rising


@dataclass(frozen=True)
class TrendPaper:
    """What trends need of one paper."""

    day: str  # YYYY-MM-DD
    categories: Sequence[str]
    cluster: int | None
    keywords: Sequence[str]


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def compute_trends(
    papers: Iterable[TrendPaper], labels: dict[int, str], *, weeks: int = WEEKS
) -> dict[str, Any]:
    """Weekly counts over the last ``weeks`` ISO weeks up to the latest paper's day, per
    cluster (every cluster) and per primary arXiv category (the busiest few), and the
    keywords rising in the last 30 days against the 90 days before them.

    A keyword's rise is the ratio of its share of recent papers to its share of earlier
    papers, with one mention added to each side so that a keyword never seen before
    ranks by how often it appears now rather than dividing by zero.
    """
    rows = [p for p in papers if p.day]
    if not rows:
        return {"weeks": [], "clusters": [], "categories": [], "rising": [], "latest": None}
    latest = max(date.fromisoformat(p.day[:10]) for p in rows)
    first_monday = latest - timedelta(days=latest.weekday()) - timedelta(weeks=weeks - 1)
    labels_of_weeks = [week_of(first_monday + timedelta(weeks=n)) for n in range(weeks)]
    slot = {label: n for n, label in enumerate(labels_of_weeks)}

    per_cluster: dict[int, list[int]] = {c: [0] * weeks for c in labels}
    per_category: dict[str, list[int]] = {}
    recent, earlier = Counter(), Counter()
    recent_papers = earlier_papers = 0
    month_start = latest - timedelta(days=29)
    before_start = month_start - timedelta(days=90)
    for paper in rows:
        day = date.fromisoformat(paper.day[:10])
        n = slot.get(week_of(day))
        if n is not None:
            if paper.cluster is not None and paper.cluster in per_cluster:
                per_cluster[paper.cluster][n] += 1
            if paper.categories:
                per_category.setdefault(paper.categories[0], [0] * weeks)[n] += 1
        words = {k.lower() for k in paper.keywords}
        if day >= month_start:
            recent.update(words)
            recent_papers += 1
        elif day >= before_start:
            earlier.update(words)
            earlier_papers += 1

    busiest = sorted(per_category.items(), key=lambda item: (-sum(item[1]), item[0]))
    rising = []
    if recent_papers and earlier_papers:
        for word, now in recent.items():
            if now < MIN_RECENT:
                continue
            before = earlier.get(word, 0)
            ratio = ((now + 1) / recent_papers) / ((before + 1) / earlier_papers)
            if ratio > 1:
                rising.append({"keyword": word, "recent": now, "before": before, "ratio": ratio})
        rising.sort(key=lambda r: (-r["ratio"], -r["recent"], r["keyword"]))
        for r in rising:
            r["ratio"] = round(r["ratio"], 2)
    return {
        "latest": latest.isoformat(),
        "weeks": labels_of_weeks,
        "clusters": [
            {"id": c, "label": labels[c], "counts": counts}
            for c, counts in sorted(per_cluster.items())
        ],
        "categories": [
            {"category": name, "counts": counts} for name, counts in busiest[:TOP_CATEGORIES]
        ],
        "rising": rising[:RISING],
        "recent_papers": recent_papers,
        "earlier_papers": earlier_papers,
    }
