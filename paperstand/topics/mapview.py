"""The topic map as the browser gets it (compact JSON) and as a PNG (matplotlib).

The browser payload is columnar and quantised: coordinates as integers on a 4096 grid
(finer than any screen), a paper's day as days after the first day, and no titles (the page
asks for a title when a point is hovered). 50,000 points come to about 1.4 MB
(``benchmarks/topics.py``), where objects with float coordinates and titles took over 8.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from paperstand.models import TopicCluster, TopicPoint

GRID = 4095


def payload(points: Sequence[TopicPoint], clusters: Sequence[TopicCluster]) -> dict[str, Any]:
    """``{"ids", "x", "y", "c", "d", "day0", "grid", "clusters"}``: parallel arrays, ``d``
    the day as days after ``day0`` (-1 when unknown)."""
    days = [date.fromisoformat(p.day[:10]) if p.day else None for p in points]
    known = [d for d in days if d is not None]
    first = min(known) if known else None
    return {
        "grid": GRID,
        "day0": first.isoformat() if first else None,
        "ids": [p.paper_id for p in points],
        "x": [round(p.x * GRID) for p in points],
        "y": [round(p.y * GRID) for p in points],
        "c": [p.cluster for p in points],
        "d": [(d - first).days if d is not None and first else -1 for d in days],
        "clusters": [
            {
                "id": c.id,
                "label": c.label,
                "n": c.size,
                "x": round(c.x * GRID),
                "y": round(c.y * GRID),
            }
            for c in clusters
        ],
    }


def draw_png(
    points: Sequence[TopicPoint],
    clusters: Sequence[TopicCluster],
    out: Path,
    *,
    title: str = "paperstand topic map",
    highlight: set[str] | None = None,
) -> None:
    """Draw the map to ``out``: one colour per cluster, each cluster's label at its centre,
    ``highlight`` (e.g. the latest day's papers) drawn larger on top."""
    import matplotlib

    matplotlib.use("Agg")  # no display: servers, jobs and tests
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(12, 12), dpi=110)
    try:
        colours = plt.get_cmap("tab20")
        size = max(1.0, min(12.0, 30000 / max(len(points), 1)))
        axes.scatter(
            [p.x for p in points],
            [p.y for p in points],
            c=[colours(p.cluster % 20) for p in points],
            s=size,
            alpha=0.6,
            linewidths=0,
        )
        if highlight:
            marked = [p for p in points if p.paper_id in highlight]
            axes.scatter(
                [p.x for p in marked],
                [p.y for p in marked],
                s=size * 4 + 8,
                facecolors="none",
                edgecolors="black",
                linewidths=0.6,
            )
        for cluster in clusters:
            if cluster.size:
                axes.annotate(
                    cluster.label,
                    (cluster.x, cluster.y),
                    ha="center",
                    va="center",
                    fontsize=8,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.75, "lw": 0},
                )
        axes.set_title(title)
        axes.set_axis_off()
        axes.set_aspect("equal")
        figure.tight_layout()
        figure.savefig(out, format="png")
    finally:
        plt.close(figure)
