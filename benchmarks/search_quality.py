"""Retrieval quality of paperstand's search: BM25, dense (each model) and the fused default.

    python benchmarks/search_quality.py [--bench DIR] [--tune] [--cache DIR]

Runs every BEIR-layout set in ``../shared/data/bench/`` (``corpus.jsonl``,
``queries.jsonl``, ``qrels/test.tsv``), or only the set in ``--bench DIR``. Each corpus
goes into a real SQLite store (documents become papers: ``_id`` → id, ``title``,
``text`` → abstract); BM25 is paperstand's full-text index over that store, dense is exact
cosine search over the vectors of each candidate model, and "fused" is paperstand's
reciprocal rank fusion of the two top-100 lists with the default settings. Prints nDCG@10
and Recall@100 (``ir-measures``) side by side; ``--tune`` adds a grid over the fusion
constant and the dense weight. The last line is one JSON object.

Document vectors take minutes on two cores, so they are cached in ``--cache`` under a
hash of the model and the texts.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import tempfile
import time
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import R, nDCG

from paperstand.index.embeddings import AVAILABLE_MODELS, DEFAULT_MODEL, document_text, get_embedder
from paperstand.index.fulltext import FullTextIndex
from paperstand.index.fusion import reciprocal_rank_fusion
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import open_store

BENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "bench"
DEPTH = 100
MEASURES = [nDCG @ 10, R @ 100]

Run = dict[str, list[tuple[str, float]]]


def read_set(folder: Path) -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:
    """The corpus, the queries that have judgements, and the judgements."""
    with open(folder / "corpus.jsonl", encoding="utf-8") as lines:
        corpus = [json.loads(line) for line in lines]
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / "test.tsv", encoding="utf-8") as rows:
        reader = csv.reader(rows, delimiter="\t")
        next(reader)
        for query_id, doc_id, grade in reader:
            qrels.setdefault(query_id, {})[doc_id] = int(grade)
    with open(folder / "queries.jsonl", encoding="utf-8") as lines:
        queries = {q["_id"]: q["text"] for q in map(json.loads, lines) if q["_id"] in qrels}
    return corpus, queries, qrels


def bm25_run(corpus: list[dict], queries: dict[str, str], workdir: Path) -> Run:
    """The corpus in a real store and paperstand's full-text index over it."""
    store = open_store(f"sqlite:///{workdir / 'paperstand.sqlite3'}")
    try:
        papers = (Paper(id=d["_id"], title=d.get("title", ""), abstract=d["text"]) for d in corpus)
        ingest(store, papers)
        index = FullTextIndex(workdir / "fulltext")
        index.sync(store)
        return {qid: index.search(text, limit=DEPTH) for qid, text in queries.items()}
    finally:
        store.close()


def document_vectors(model: str, texts: list[str], cache: Path) -> np.ndarray:
    digest = hashlib.sha1("\n".join([model, *texts]).encode()).hexdigest()[:16]
    path = cache / f"{model}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = get_embedder(model).embed_documents(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def dense_run(model: str, corpus: list[dict], queries: dict[str, str], cache: Path) -> Run:
    """Exact cosine search: the ranking the model itself gives, before any index shortcut."""
    texts = [document_text(d.get("title", ""), d["text"]) for d in corpus]
    docs = document_vectors(model, texts, cache)
    ids = [d["_id"] for d in corpus]
    embedder = get_embedder(model)
    run: Run = {}
    for qid, text in queries.items():
        scores = docs @ embedder.embed_query(text)
        best = np.argsort(-scores)[:DEPTH]
        run[qid] = [(ids[i], float(scores[i])) for i in best]
    return run


def fused_run(bm25: Run, dense: Run, *, k: int, weights: tuple[float, float]) -> Run:
    return {
        qid: reciprocal_rank_fusion(
            [[doc for doc, _ in bm25[qid]], [doc for doc, _ in dense[qid]]], k=k, weights=weights
        )[:DEPTH]
        for qid in bm25
    }


def evaluate(run: Run, qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    # ir-measures would break score ties by document id: give it the ranks as scores.
    ranked = {
        qid: {doc: float(len(hits) - rank) for rank, (doc, _) in enumerate(hits)}
        for qid, hits in run.items()
    }
    result = ir_measures.calc_aggregate(MEASURES, qrels, ranked)
    return {"ndcg@10": round(result[nDCG @ 10], 4), "recall@100": round(result[R @ 100], 4)}


def tune(bm25: Run, dense: Run, qrels: dict[str, dict[str, int]]) -> list[dict]:
    grid = []
    for k in (10, 20, 40, 60, 100):
        for weight in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0):
            scores = evaluate(fused_run(bm25, dense, k=k, weights=(1.0, weight)), qrels)
            grid.append({"k": k, "dense_weight": weight, **scores})
    return grid


def run_set(folder: Path, cache: Path, settings: Settings, *, with_tuning: bool) -> dict:
    corpus, queries, qrels = read_set(folder)
    print(f"\n## {folder.name}: {len(corpus)} documents, {len(queries)} queries", flush=True)
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        bm25 = bm25_run(corpus, queries, Path(workdir))
    rows["bm25"] = evaluate(bm25, qrels)
    dense: dict[str, Run] = {}
    for model in AVAILABLE_MODELS:
        started = time.perf_counter()
        dense[model] = dense_run(model, corpus, queries, cache)
        rows[f"dense {model}"] = evaluate(dense[model], qrels)
        print(f"   ({model}: {time.perf_counter() - started:.0f} s)", flush=True)
    weights = (settings.fusion_weight_fulltext, settings.fusion_weight_dense)
    for model in AVAILABLE_MODELS:
        fused = fused_run(bm25, dense[model], k=settings.fusion_k, weights=weights)
        label = "fused default" if model == settings.embedding_model else f"fused {model}"
        rows[label] = evaluate(fused, qrels)
    print(f"{'ranking':28} {'nDCG@10':>8} {'R@100':>8}")
    for label, scores in rows.items():
        print(f"{label:28} {scores['ndcg@10']:8.4f} {scores['recall@100']:8.4f}")
    result: dict = {"documents": len(corpus), "queries": len(queries), "rankings": rows}
    if with_tuning:
        grid = tune(bm25, dense[settings.embedding_model], qrels)
        print(f"fusion grid for {settings.embedding_model} (k, dense weight → nDCG@10, R@100):")
        for cell in grid:
            print(
                f"  k={cell['k']:<4} w={cell['dense_weight']:<5} "
                f"{cell['ndcg@10']:.4f} {cell['recall@100']:.4f}"
            )
        result["grid"] = grid
    default = rows["fused default"]["ndcg@10"]
    others = [v["ndcg@10"] for key, v in rows.items() if key in ("bm25", f"dense {DEFAULT_MODEL}")]
    result["fused_beats_both"] = all(default > other for other in others)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, help="one BEIR-layout folder (default: all)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "paperstand-bench"
    )
    parser.add_argument("--tune", action="store_true", help="also try other fusion settings")
    args = parser.parse_args()
    folders = [args.bench] if args.bench else sorted(p for p in BENCH.iterdir() if p.is_dir())
    settings = Settings()
    print(
        f"fused default: BM25 + {settings.embedding_model}, RRF k={settings.fusion_k}, "
        f"weights full text {settings.fusion_weight_fulltext} / dense "
        f"{settings.fusion_weight_dense}"
    )
    results = {f.name: run_set(f, args.cache, settings, with_tuning=args.tune) for f in folders}
    print(json.dumps({"default_model": settings.embedding_model, "sets": results}))


if __name__ == "__main__":
    main()
