"""Would a cheap re-scoring of the fused top candidates lift SciFact? Sentence-level evidence,
query-term proximity, the title's and the conclusion's share of the query.

    python benchmarks/rerank_features.py [--data DIR] [--cache DIR]

SciFact claims usually restate ONE sentence of the abstract that supports or refutes them,
while BM25 scores the whole abstract, so a sentence holding most of the claim's words is
diluted by the rest. This script takes the shipped search's own lists (the full-text index's
BM25 100 deep, the vector index's 50 nearest, fused as ``Searcher.search`` fuses them, with
its known-title check) and adds ``w`` x a feature to the fused score of the top ``N``
candidates:

- ``sentence-bm25``: the best sentence's BM25 (k1 1.2, b 0.75, sentences of 20 analysed
  words on average) over the claim's terms, divided by the sum of their IDFs;
- ``sentence-share``: the best sentence's share of the claim's IDF (terms present);
- ``window-8`` / ``window-16``: the same share for the best window of 8 / 16 analysed words
  (proximity, ignoring sentence ends);
- ``title-share``: the title's share of the claim's IDF;
- ``last-two-share``: the best of the abstract's last two sentences (the conclusion).

IDFs are the full-text index's own (``doc_freq`` of the analysed terms, as
``FullTextIndex.full_match_score`` computes them), the analyzer is the index's
(``english_analyzer``). Scored on SciFact's training claims (where a setting would be
chosen), the seed titles (must stay at 0.98) and SciFact's test claims (reported only).
Document vectors come from ``search_quality.py``'s cache (``--cache``, the same default).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import search_quality as sq
import tantivy

from paperstand.index.build import build_index
from paperstand.index.embeddings import document_text, get_embedder
from paperstand.index.fulltext import ANALYZER, english_analyzer
from paperstand.index.fusion import score_fusion
from paperstand.index.query import parse_query
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.search import DENSE_DEPTH, TITLE_CHECK, Searcher, dense_weight, fusion_floors
from paperstand.settings import Settings
from paperstand.store import open_store

from _shared_data import SHARED_DATA, require

DEPTHS = (20, 50, 100)
WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.8)
# A sentence ends at . ! or ? followed by a capital, a digit or a bracket, or at a line end.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])|\n+")
BREAK = "qqsentencebreakqq"  # survives the analyzer unchanged: one analysis per paper

Sentences = list[list[str]]  # analysed terms of the title, then of each sentence


class Evidence:
    """Sentences and IDFs of one built set, read once."""

    def __init__(self, fulltext: Path, papers: dict[str, Paper]) -> None:
        index = tantivy.Index.open(str(fulltext))
        index.register_tokenizer(ANALYZER, english_analyzer())
        self._searcher = index.searcher()
        self._analyzer = english_analyzer()
        self._papers = papers
        self._sentences: dict[str, tuple[bool, Sentences]] = {}
        self._idf: dict[str, float] = {}

    def terms(self, text: str) -> dict[str, float]:
        """The claim's analysed terms and their BM25 IDFs in the index."""
        found = {}
        for word in parse_query(text).words:
            for term in self._analyzer.analyze(word):
                if term not in self._idf:
                    total = self._searcher.num_docs
                    df = self._searcher.doc_freq("text", term)
                    self._idf[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
                found[term] = self._idf[term]
        return found

    def sentences(self, pid: str) -> tuple[bool, Sentences]:
        if pid not in self._sentences:
            paper = self._papers[pid]
            parts = [paper.title] if paper.title else []
            parts += [s for s in SENTENCE_END.split(paper.abstract) if s.strip()]
            units: Sentences = [[]]
            for term in self._analyzer.analyze(f" {BREAK} ".join(parts)):
                if term == BREAK:
                    units.append([])
                else:
                    units[-1].append(term)
            self._sentences[pid] = (bool(paper.title), units)
        return self._sentences[pid]


def share(unit: list[str], idf: dict[str, float]) -> float:
    return sum(idf[t] for t in set(unit) if t in idf) / (sum(idf.values()) or 1.0)


def sentence_bm25(units: Sentences, idf: dict[str, float], k1=1.2, b=0.75, mean=20.0) -> float:
    best = 0.0
    for unit in units:
        counts = Counter(unit)
        norm = k1 * (1 - b + b * len(unit) / mean)
        score = sum(idf[t] * counts[t] * (k1 + 1) / (counts[t] + norm) for t in idf if t in counts)
        best = max(best, score)
    return best / (sum(idf.values()) or 1.0)


def window_share(units: Sentences, idf: dict[str, float], width: int) -> float:
    terms = [t for unit in units for t in unit]
    hits = [i for i, t in enumerate(terms) if t in idf]
    return max(
        (share([terms[j] for j in hits if i <= j < i + width], idf) for i in hits), default=0.0
    )


Feature = Callable[[bool, Sentences, dict[str, float]], float]
FEATURES: dict[str, Feature] = {
    "sentence-bm25": lambda _, units, idf: sentence_bm25(units, idf),
    "sentence-share": lambda _, units, idf: max((share(u, idf) for u in units), default=0.0),
    "window-8": lambda _, units, idf: window_share(units, idf, 8),
    "window-16": lambda _, units, idf: window_share(units, idf, 16),
    "title-share": lambda titled, units, idf: share(units[0], idf) if titled else 0.0,
    "last-two-share": lambda _, units, idf: (
        max(share(u, idf) for u in units[-2:]) if len(units) > 2 else 0.0
    ),
}


def build(folder: Path, cache: Path, settings: Settings, workdir: Path) -> tuple[Searcher, dict]:
    """A built store of the set's documents, its Searcher, and its papers by id."""
    corpus, _, _ = sq.read_set(folder)
    model = get_embedder(settings.embedding_model)
    texts = [document_text(d.get("title", ""), d["text"]) for d in corpus]
    vectors = sq.document_vectors(model, texts, cache)
    own = settings.model_copy(update={"home": workdir})
    store = open_store(f"sqlite:///{workdir / 'paperstand.sqlite3'}")
    papers = [Paper(id=d["_id"], title=d.get("title", ""), abstract=d["text"]) for d in corpus]
    ingest(store, iter(papers))
    cached = sq.CachedDocuments(model, texts, vectors)
    build_index(store, own, embedder=cached)
    return Searcher(store, own, embedder=cached), {p.id: p for p in papers}


def gather(searcher: Searcher, evidence: Evidence, queries: dict[str, str]) -> dict:
    """Per query: the fused list as shipped, the known-title check's candidates, and each
    feature of the fused top ``max(DEPTHS)``."""
    weights = [searcher.settings.fusion_weight_fulltext, dense_weight(searcher.settings)]
    rows = {}
    for qid, text in queries.items():
        parsed = parse_query(text)
        bm25 = searcher.fulltext.search(parsed, limit=sq.DEPTH)
        dense = searcher.vectors.knn(searcher.embedder.embed_query(parsed.text), DENSE_DEPTH)
        fused = score_fusion([bm25, dense], weights=weights, floors=fusion_floors(dense))
        idf = evidence.terms(text)
        feats = {
            name: [feature(*evidence.sentences(pid), idf) for pid, _ in fused[: max(DEPTHS)]]
            for name, feature in FEATURES.items()
        }
        best = [pid for pid, _ in bm25[:TITLE_CHECK]]
        read = {p.id: p for p in searcher.store.get_papers(best)}
        checked = [read[pid] for pid in best if pid in read]
        rows[qid] = (text, fused, checked, feats)
    return rows


def ranking(searcher: Searcher, rows: dict, feature: str | None, depth: int, w: float) -> sq.Run:
    run = {}
    for qid, (text, fused, checked, feats) in rows.items():
        if feature is not None:
            pairs = zip(fused[:depth], feats[feature][:depth], strict=True)
            head = [(pid, s + w * f) for (pid, s), f in pairs]
            fused = sorted(head, key=lambda hit: -hit[1]) + fused[depth:]
        fused = searcher._title_first(text, checked, fused)  # the shipped known-title check
        run[qid] = [pid for pid, _ in fused[: sq.DEPTH]]
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "paperstand-bench"
    )
    args = parser.parse_args()
    bench = require(args.data / "bench", "--data DIR", "the shared data (bench/scifact, …)")
    settings = Settings(search_fetch_missing=False)
    splits: dict[str, tuple[Searcher, dict, sq.Qrels]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in ("scifact", "seed-titles"):
            home = Path(workdir) / name
            home.mkdir()
            searcher, papers = build(bench / name, args.cache, settings, home)
            evidence = Evidence(searcher.settings.fulltext_path, papers)
            _, queries, qrels = sq.read_set(bench / name)
            test = "test" if name == "scifact" else "titles"
            splits[f"{name} {test}"] = (searcher, gather(searcher, evidence, queries), qrels)
            if train := sq.read_train(bench / name):
                splits[f"{name} train"] = (searcher, gather(searcher, evidence, train[0]), train[1])
            print(f"{name}: lists gathered", flush=True)
        order = ["scifact train", "seed-titles titles", "scifact test"]
        cells = [(None, 0, 0.0)] + list(itertools.product(FEATURES, DEPTHS, WEIGHTS))
        results = []
        print(f"{'feature':16} {'N':>4} {'w':>4}  " + "  ".join(f"{s:>18}" for s in order))
        for feature, depth, w in cells:
            scores = {
                split: sq.evaluate(ranking(s, rows, feature, depth, w), qrels)["ndcg@10"]
                for split, (s, rows, qrels) in ((k, splits[k]) for k in order)
            }
            label = feature or "shipped fusion"
            print(f"{label:16} {depth:4} {w:4}  " + "  ".join(f"{scores[s]:18.4f}" for s in order))
            results.append({"feature": label, "depth": depth, "weight": w, **scores})
        for searcher in {id(s): s for s, _, _ in splits.values()}.values():
            searcher.store.close()
    print(json.dumps({"cells": results}))


if __name__ == "__main__":
    main()
