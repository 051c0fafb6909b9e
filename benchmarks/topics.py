"""Topic map: fit time for 100k papers, placement of 1,000 new ones, the browser's payload.

    python benchmarks/topics.py [--data DIR] [--papers 100000] [--new 1000] [--points 50000]

Real papers: the latest ``--papers + --new`` of ``DATA/arxiv`` (listing order), embedded
with the fast ``static-64`` model (64-d; the default MiniLM would take over an hour for
100k abstracts on 2 cores; its 384-d vectors make UMAP's neighbour search slower, the
clustering and placement scale with the dimension). The first ``--papers`` are fitted with
exactly the functions ``paperstand topics build --full`` runs (``paperstand.topics.compute``:
UMAP on a sample of ``--sample`` papers, 20,000 by default, the others placed among them);
the last ``--new`` are then placed into that map as ``topics build`` does after an ingest
(nearest neighbours among a 20,000-paper sample of the map, nearest centroid).

Printed: wall and CPU seconds of each step (CPU seconds summed over threads: on a shared,
loaded machine they say more than the wall clock), the size of the map's JSON for
``--points`` points (raw and gzipped), and the label of the cluster holding most papers
that mention graph neural networks. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from pathlib import Path

import numpy as np
import orjson

from paperstand.index.embeddings import document_text, get_embedder
from paperstand.models import TopicCluster, TopicPoint
from paperstand.topics import compute, mapview
from paperstand.topics.service import PLACEMENT_REFERENCE, _spread

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "arxiv"


class Timer:
    def __init__(self) -> None:
        self.figures: dict[str, dict[str, float]] = {}

    def __call__(self, name: str):
        timer = self

        class Step:
            def __enter__(self):
                self.wall, self.cpu = time.perf_counter(), time.process_time()

            def __exit__(self, *exc):
                wall = time.perf_counter() - self.wall
                cpu = time.process_time() - self.cpu
                timer.figures[name] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}
                print(f"{name:<28} {wall:8.1f} s wall {cpu:8.1f} s CPU", flush=True)

        return Step()


def load(data: Path, count: int) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(data.glob("listings-*.jsonl.gz"), reverse=True):
        with gzip.open(path, "rt") as stream:
            rows = [json.loads(line) for line in stream] + rows
        if len(rows) >= count:
            break
    return rows[-count:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument(
        "--sample",
        type=int,
        default=compute.PROJECTION_SAMPLE,
        help="papers UMAP is fitted on (the others are placed); --sample N >= --papers "
        "fits UMAP on all of them",
    )
    args = parser.parse_args()

    time_it = Timer()
    listed = load(args.data, max(args.papers + args.new, args.points))
    rows = listed[-(args.papers + args.new) :]
    texts = [document_text(r["title"], r["abstract"]) for r in rows]
    print(f"{len(rows):,} papers, {rows[0]['listed']} .. {rows[-1]['listed']}", flush=True)
    with time_it("embed (static-64)"):
        vectors = get_embedder("static-64").embed_documents(texts)
    fit, new = slice(0, args.papers), slice(args.papers, len(rows))

    # numba compiles UMAP's and pynndescent's functions on their first call in a process
    # (unless its cache, NUMBA_CACHE_DIR, already holds them): timed apart from the fit.
    with time_it("numba compile (UMAP, 2k)"):
        compute.fit_projection(vectors[:2000])
    k = compute.cluster_count(args.papers)
    with time_it("clusters (k-means)"):
        assignment, centroids = compute.fit_clusters(vectors[fit], k)
    with time_it("projection (UMAP)"):
        coords = compute.fit_projection(vectors[fit], sample=args.sample)
    with time_it("phrase counts"):
        counts = compute.PhraseCounts.of(texts[fit])
    with time_it("cluster labels"):
        labels = compute.cluster_labels(counts, assignment, k)
    with time_it("keywords (all papers)"):
        compute.paper_keywords(counts, range(args.papers))
    fit_total = {
        key: round(
            sum(time_it.figures[s][key] for s in ("clusters (k-means)", "projection (UMAP)")), 2
        )
        for key in ("wall_s", "cpu_s")
    }

    reference = np.array(_spread(list(range(args.papers)), PLACEMENT_REFERENCE))
    with time_it(f"place {args.new:,} new papers"):
        compute.place(vectors[new], vectors[fit][reference], coords[reference])
        compute.nearest_cluster(vectors[new], centroids)
    with time_it(f"keywords of {args.new:,} new"):
        background = [texts[i] for i in _spread(list(range(args.papers)), 5000)]
        compute.paper_keywords(compute.PhraseCounts.of(texts[new] + background), range(args.new))

    # The payload of the latest --points papers: real ids, days and cluster count; the
    # coordinates of papers outside the fit are drawn at random over the grid (as many
    # digits as real ones: the size does not depend on where the points are).
    fitted = {rows[i]["id"]: i for i in range(args.papers)}
    rng = np.random.default_rng(0)
    points = []
    for r in listed[-args.points :]:
        i = fitted.get(r["id"])
        x, y = (float(coords[i, 0]), float(coords[i, 1])) if i is not None else rng.random(2)
        cluster = int(assignment[i]) if i is not None else int(rng.integers(k))
        points.append(TopicPoint(r["id"], cluster, x, y, r["listed"]))
    shown = len(points)
    clusters = [
        TopicCluster(
            c, ", ".join(labels[c][:3]), labels[c], 0.5, 0.5, size=int((assignment == c).sum())
        )
        for c in range(k)
    ]
    body = orjson.dumps(mapview.payload(points, clusters))
    size = {"points": shown, "bytes": len(body), "gzip_bytes": len(gzip.compress(body))}
    print(
        f"map JSON, {shown:,} points: {len(body) / 1e6:.2f} MB,"
        f" gzipped {size['gzip_bytes'] / 1e6:.2f} MB"
    )

    gnn = np.array(["graph neural network" in t.lower() for t in texts[fit]])
    gnn_cluster = int(np.bincount(assignment[gnn], minlength=k).argmax()) if gnn.any() else None
    gnn_label = labels[gnn_cluster] if gnn_cluster is not None else []
    print(f"cluster with most GNN papers: {gnn_label}")

    print(
        json.dumps(
            {
                "papers": args.papers,
                "umap_sample": min(args.sample, args.papers),
                "model": "static-64",
                "clusters": k,
                "cores": os.cpu_count(),
                "load_avg_1m": round(os.getloadavg()[0], 1),
                "fit": fit_total,
                "steps": time_it.figures,
                "place_new": args.new,
                "map_json": size,
                "gnn_cluster_label": gnn_label,
            }
        )
    )


if __name__ == "__main__":
    main()
