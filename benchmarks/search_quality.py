"""Retrieval quality of paperstand's search: BM25, dense (each model) and the fused default.

    python benchmarks/search_quality.py [--bench DIR] [--tune] [--cache DIR]

Runs every BEIR-layout set in ``../shared/data/bench/`` (``corpus.jsonl``,
``queries.jsonl``, ``qrels/test.tsv``), or only the set in ``--bench DIR``. Each corpus
goes into a real SQLite store (documents become papers: ``_id`` → id, ``title``,
``text`` → abstract) and through ``index build``. "bm25" is paperstand's full-text index
alone; "dense" is exact cosine search over each candidate model's vectors (the model's own
quality, before any index shortcut); "fused" is the whole ``Searcher.search`` call (full
text + vector index + reciprocal rank fusion with the settings' k and weights), so it
measures paperstand's real search path. Prints nDCG@10 and Recall@100 (``ir-measures``)
side by side; ``--short`` adds MiniLM with abstracts cut to 128 tokens, ``--tune`` a grid
over the fusion constant and the dense weight (plain RRF of the bm25 and dense lists). The
last line is one JSON object.

Document vectors take minutes on two cores, so they are cached in ``--cache`` under a
hash of the model and the texts; ``index build`` is handed the cached vectors.
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

from paperstand.index.build import build_index
from paperstand.index.embeddings import (
    AVAILABLE_MODELS,
    Embedder,
    OnnxMiniLM,
    document_text,
    get_embedder,
)
from paperstand.index.fulltext import FullTextIndex
from paperstand.index.fusion import reciprocal_rank_fusion
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.search import Searcher
from paperstand.settings import Settings
from paperstand.store import Store, open_store

from _shared_data import SHARED_DATA, require

BENCH = SHARED_DATA / "bench"
DEPTH = 100
MEASURES = [nDCG @ 10, R @ 100]

Run = dict[str, list[str]]  # query id -> document ids, best first


class CachedDocuments:
    """An embedder that answers documents from vectors computed earlier and queries from
    the model itself, so ``index build`` runs for real without re-embedding the corpus."""

    def __init__(self, embedder: Embedder, texts: list[str], vectors: np.ndarray) -> None:
        self.name, self.dim = embedder.name, embedder.dim
        self._model = embedder
        self._rows = dict(zip(texts, vectors, strict=True))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._rows]
        if missing:
            self._rows.update(zip(missing, self._model.embed_documents(missing), strict=True))
        return (
            np.stack([self._rows[t] for t in texts]) if texts else self._model.embed_documents([])
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.embed_query(text)


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


def document_vectors(embedder: Embedder, texts: list[str], cache: Path) -> np.ndarray:
    digest = hashlib.sha1("\n".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    path = cache / f"{embedder.name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = embedder.embed_documents(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def dense_run(embedder: Embedder, ids: list[str], docs: np.ndarray, queries: dict[str, str]) -> Run:
    run: Run = {}
    for qid, text in queries.items():
        scores = docs @ embedder.embed_query(text)
        run[qid] = [ids[i] for i in np.argsort(-scores)[:DEPTH]]
    return run


def searcher_run(
    store: Store, settings: Settings, embedder: Embedder, queries: dict[str, str]
) -> Run:
    """The whole search call, after ``index build`` with this model."""
    build_index(store, settings, embedder=embedder)
    searcher = Searcher(store, settings, embedder=embedder)
    return {
        qid: [hit.paper.id for hit in searcher.search(text, limit=DEPTH).hits]
        for qid, text in queries.items()
    }


def fused_run(bm25: Run, dense: Run, *, k: int, weights: tuple[float, float]) -> Run:
    return {
        qid: [
            doc for doc, _ in reciprocal_rank_fusion([bm25[qid], dense[qid]], k=k, weights=weights)
        ]
        for qid in bm25
    }


def evaluate(run: Run, qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    # Scores from ranks: ir-measures would otherwise break score ties by document id.
    ranked = {
        qid: {doc: float(DEPTH - r) for r, doc in enumerate(docs[:DEPTH])}
        for qid, docs in run.items()
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


def run_set(
    folder: Path, cache: Path, settings: Settings, *, with_tuning: bool, with_short: bool
) -> dict:
    corpus, queries, qrels = read_set(folder)
    print(f"\n## {folder.name}: {len(corpus)} documents, {len(queries)} queries", flush=True)
    ids = [d["_id"] for d in corpus]
    texts = [document_text(d.get("title", ""), d["text"]) for d in corpus]
    models: dict[str, Embedder] = {name: get_embedder(name) for name in AVAILABLE_MODELS}
    if with_short:
        models["minilm-l6-int8@128"] = OnnxMiniLM("minilm-l6-int8@128", max_tokens=128)
    rows: dict[str, dict[str, float]] = {}
    dense: dict[str, Run] = {}
    with tempfile.TemporaryDirectory() as workdir:
        home = Path(workdir)
        store = open_store(f"sqlite:///{home / 'paperstand.sqlite3'}")
        try:
            ingest(
                store,
                (Paper(id=d["_id"], title=d.get("title", ""), abstract=d["text"]) for d in corpus),
            )
            for name, model in models.items():
                started = time.perf_counter()
                vectors = document_vectors(model, texts, cache)
                dense[name] = dense_run(model, ids, vectors, queries)
                rows[f"dense {name}"] = evaluate(dense[name], qrels)
                print(f"   ({name}: {time.perf_counter() - started:.0f} s)", flush=True)
                label = "fused default" if name == settings.embedding_model else f"fused {name}"
                own = settings.model_copy(update={"home": home, "embedding_model": name})
                rows[label] = evaluate(
                    searcher_run(store, own, CachedDocuments(model, texts, vectors), queries), qrels
                )
            index = FullTextIndex(settings.model_copy(update={"home": home}).fulltext_path)
            bm25 = {
                qid: [pid for pid, _ in index.search(text, limit=DEPTH)]
                for qid, text in queries.items()
            }
            rows = {"bm25": evaluate(bm25, qrels), **rows}
        finally:
            store.close()
    print(f"{'ranking':28} {'nDCG@10':>8} {'R@100':>8}")
    for label, scores in rows.items():
        print(f"{label:28} {scores['ndcg@10']:8.4f} {scores['recall@100']:8.4f}")
    result: dict = {"documents": len(corpus), "queries": len(queries), "rankings": rows}
    if with_tuning:
        grid = tune(bm25, dense[settings.embedding_model], qrels)
        print(f"RRF grid, bm25 + {settings.embedding_model} (k, dense weight: nDCG@10, R@100):")
        for cell in grid:
            print(
                f"  k={cell['k']:<4} w={cell['dense_weight']:<5} "
                f"{cell['ndcg@10']:.4f} {cell['recall@100']:.4f}"
            )
        result["grid"] = grid
    default = rows["fused default"]["ndcg@10"]
    rivals = [rows["bm25"], rows[f"dense {settings.embedding_model}"]]
    result["fused_beats_both"] = all(default > rival["ndcg@10"] for rival in rivals)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, help="one BEIR-layout folder (default: all)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "paperstand-bench"
    )
    parser.add_argument("--tune", action="store_true", help="also try other fusion settings")
    parser.add_argument("--short", action="store_true", help="also MiniLM at 128 tokens")
    args = parser.parse_args()
    where = require(
        args.bench or BENCH,
        "--bench DIR",
        "one BEIR-layout set (corpus.jsonl, queries.jsonl, qrels/)",
    )
    folders = [where] if args.bench else sorted(p for p in where.iterdir() if p.is_dir())
    settings = Settings(search_fetch_missing=False)
    print(
        f"fused default: BM25 + {settings.embedding_model}, RRF k={settings.fusion_k}, "
        f"weights full text {settings.fusion_weight_fulltext} / dense "
        f"{settings.fusion_weight_dense}"
    )
    results = {
        f.name: run_set(f, args.cache, settings, with_tuning=args.tune, with_short=args.short)
        for f in folders
    }
    print(json.dumps({"default_model": settings.embedding_model, "sets": results}))


if __name__ == "__main__":
    main()
