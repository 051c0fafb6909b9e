"""Retrieval quality of paperstand's search and similar papers, and its "few good matches".

    python benchmarks/search_quality.py [--bench DIR] [--tune] [--cache DIR] [--no-similar]
                                        [--similar-only] [--default-only]

Runs every BEIR-layout set in ``../shared/data/bench/`` (``corpus.jsonl``,
``queries.jsonl``, ``qrels/test.tsv``), or only the set in ``--bench DIR``. Each corpus
goes into a real SQLite store (documents become papers: ``_id`` → id, ``title``,
``text`` → abstract) and through ``index build``. "bm25" is paperstand's full-text index
alone; "dense" is exact cosine search over each candidate model's vectors (the model's own
quality, before any index shortcut); "fused" is the whole ``Searcher.search`` call (full
text + vector index + the settings' fusion), so it
measures paperstand's real search path. Prints nDCG@10 and Recall@100 (``ir-measures``)
side by side; ``--short`` adds MiniLM with abstracts cut to 128 tokens, ``--variants`` the
default model as the previous release ran it (the exporter's attention: the "before" of
the speed work) and with abstracts embedded as averaged 128-token chunks, ``--tune`` a grid
over the fusion constant and the dense weight (plain RRF of the bm25 and dense lists). The
last line is one JSON object. SciFact's training queries (``train/``) are scored too: tune on
those, report the test queries.

"Few good matches": how many real queries (each set's queries) and how many nonsense queries
(``NONSENSE``) the shipped search flags.

Similar papers (``Searcher.more_like``), with the default model, on sets built from the
shared data (nDCG@10, R@100; the query paper itself never counts):

- ``scifact-cocited``: each SciFact abstract that a claim (test or train) cites together with
  others is a query; the abstracts cited with it are relevant. Text only: no authors.
- ``arxiv-coauthor``: 80 random authors of 4-10 papers in ``arxiv/`` and their papers in
  their main primary category, plus 350 random papers of the same categories; the first
  two papers of each author are queries, the papers sharing an author and the primary
  category relevant. It rewards the authors signal by construction, so read it beside
  the other set.

Document vectors take minutes on two cores, so they are cached in ``--cache`` under a
hash of the model and the texts, saved every ``CHUNK`` texts so a stopped run resumes;
``index build`` is handed the cached vectors.
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import hashlib
import json
import random
import tempfile
import time
from pathlib import Path

import ir_measures
import numpy as np
import tantivy
from ir_measures import R, nDCG

from paperstand.index.build import build_index
from paperstand.index.embeddings import (
    AVAILABLE_MODELS,
    Embedder,
    OnnxMiniLM,
    document_text,
    get_embedder,
)
from paperstand.index.fulltext import FullTextIndex, english_analyzer
from paperstand.index.fusion import reciprocal_rank_fusion, score_fusion
from paperstand.index.query import words
from paperstand.ingest import ingest
from paperstand.models import Paper
from paperstand.search import DENSE_DEPTH, Searcher, dense_weight, fusion_floors
from paperstand.settings import Settings
from paperstand.store import open_store

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


# Queries with no good match in any of these corpora: gibberish, off-topic questions,
# syntax debris (tests/index/test_fulltext.py's hostile text holds more).
NONSENSE = [
    "asdfgh qwerty",
    "zxcvbnm",
    "lorem ipsum dolor sit amet",
    "xkcd foo bar baz",
    "aaaaaaa bbbbbb",
    "qwe rty uio",
    "blorf snazzle wibble",
    "hjkl;hjkl",
    "jjjjjjj kkkkkk",
    "purple monkey dishwasher",
    "my cat likes cardboard boxes",
    "best pizza near me",
    "how to bake sourdough bread",
    "football scores yesterday",
    "cheap flights to paris",
    "ünïcödé 数学 🤖 ﷽",
    "a" * 10_000,
    '"unbalanced quote',
    "OR ) NOT",
    "'single' `back` $latex$",
]

Qrels = dict[str, dict[str, int]]


def read_qrels(path: Path) -> Qrels:
    qrels: Qrels = {}
    with open(path, encoding="utf-8") as rows:
        reader = csv.reader(rows, delimiter="\t")
        next(reader)
        for query_id, doc_id, grade in reader:
            qrels.setdefault(query_id, {})[doc_id] = int(grade)
    return qrels


def read_queries(path: Path, qrels: Qrels) -> dict[str, str]:
    with open(path, encoding="utf-8") as lines:
        return {q["_id"]: q["text"] for q in map(json.loads, lines) if q["_id"] in qrels}


def read_set(folder: Path) -> tuple[list[dict], dict[str, str], Qrels]:
    """The corpus, the queries that have judgements, and the judgements."""
    with open(folder / "corpus.jsonl", encoding="utf-8") as lines:
        corpus = [json.loads(line) for line in lines]
    qrels = read_qrels(folder / "qrels" / "test.tsv")
    return corpus, read_queries(folder / "queries.jsonl", qrels), qrels


def read_train(folder: Path) -> tuple[dict[str, str], Qrels] | None:
    """The training queries and judgements of a set that has them (SciFact)."""
    if not (folder / "train" / "qrels.tsv").exists():
        return None
    qrels = read_qrels(folder / "train" / "qrels.tsv")
    return read_queries(folder / "train" / "queries.jsonl", qrels), qrels


# Texts embedded between two saves of the cache: a run stopped part-way (a deadline, a
# loaded machine) keeps what it embedded, and the next run starts from there.
CHUNK = 256


def document_vectors(embedder: Embedder, texts: list[str], cache: Path) -> np.ndarray:
    variant = getattr(embedder, "variant", "")
    key = [embedder.name, variant] if variant else [embedder.name]
    digest = hashlib.sha1("\n".join([*key, *texts]).encode()).hexdigest()[:16]
    path = cache / f"{embedder.name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    cache.mkdir(parents=True, exist_ok=True)
    parts = []
    for start in range(0, len(texts), CHUNK):
        part = cache / f"{embedder.name}-{digest}.from{start}.npy"
        if not part.exists():
            np.save(part, embedder.embed_documents(texts[start : start + CHUNK]))
            print(f"   embedded {min(start + CHUNK, len(texts))} of {len(texts)}", flush=True)
        parts.append(part)
    vectors = (
        np.concatenate([np.load(part) for part in parts]) if parts else embedder.embed_documents([])
    )
    np.save(path, vectors)
    for part in parts:
        part.unlink()
    return vectors


def minilm_variants() -> dict[str, Embedder]:
    """The default model as the previous release ran it (the exporter's attention,
    ``OnnxMiniLM(fused=False)``) and with documents embedded as chunks of 128 word pieces,
    averaged: the "before" and the road not taken, beside the default in one run."""
    return {
        "minilm-l6-int8-unfused": OnnxMiniLM("minilm-l6-int8-unfused", fused=False),
        "minilm-l6-int8+chunks128": OnnxMiniLM("minilm-l6-int8+chunks128", chunk_tokens=128),
    }


Scored = dict[str, list[tuple[str, float]]]  # query id -> (document id, score), best first


def dense_scored(
    embedder: Embedder, ids: list[str], docs: np.ndarray, queries: dict[str, str]
) -> Scored:
    scored: Scored = {}
    for qid, text in queries.items():
        scores = docs @ embedder.embed_query(text)
        scored[qid] = [(ids[i], float(scores[i])) for i in np.argsort(-scores)[:DEPTH]]
    return scored


def ranks(scored: Scored) -> Run:
    return {qid: [doc for doc, _ in hits] for qid, hits in scored.items()}


def dense_run(embedder: Embedder, ids: list[str], docs: np.ndarray, queries: dict[str, str]) -> Run:
    return ranks(dense_scored(embedder, ids, docs, queries))


def searcher_run(searcher: Searcher, queries: dict[str, str]) -> tuple[Run, int]:
    """The whole search call for each query, and how many were flagged "few good matches"."""
    run: Run = {}
    flagged = 0
    for qid, text in queries.items():
        result = searcher.search(text, limit=DEPTH)
        run[qid] = [hit.paper.id for hit in result.hits]
        flagged += result.few_good_matches
    return run, flagged


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


Split = tuple[Scored, Scored, Qrels]  # BM25 hits, dense hits, judgements


def tune(splits: dict[str, Split]) -> list[dict]:
    """Each fusion setting on each split: RRF over a grid of k and dense weight, and score
    fusion over a grid of dense weight, as shipped ("score": BM25 divided by the best hit's,
    cosine from the 50th nearest's, ``search.py::fusion_floors``) and min-max normalised
    ("minmax", shipped before). The dense list is cut at the shipped search's depth."""
    settings: list[tuple[str, dict, object]] = []
    for k in (10, 20, 40, 60, 100):
        for weight in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0):
            settings.append(
                (
                    "rrf",
                    {"k": k, "dense_weight": weight},
                    lambda b, d, k=k, w=weight: [
                        doc
                        for doc, _ in reciprocal_rank_fusion(
                            [[x for x, _ in b], [x for x, _ in d]], k=k, weights=(1.0, w)
                        )
                    ],
                )
            )
    for weight in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.25, 1.5):
        settings.append(
            (
                "minmax",
                {"dense_weight": weight},
                lambda b, d, w=weight: [doc for doc, _ in score_fusion([b, d], weights=(1.0, w))],
            )
        )
    for weight in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0):
        settings.append(
            (
                "score",
                {"dense_weight": weight},
                lambda b, d, w=weight: [
                    doc
                    for doc, _ in score_fusion([b, d], weights=(1.0, w), floors=fusion_floors(d))
                ],
            )
        )
    grid = []
    for method, params, fuse in settings:
        cell: dict = {"method": method, **params}
        for name, (bm25, dense, qrels) in splits.items():
            run = {qid: fuse(bm25[qid], dense[qid][:DENSE_DEPTH]) for qid in bm25}
            cell[name] = evaluate(run, qrels)
        grid.append(cell)
    return grid


def run_set(
    folder: Path,
    cache: Path,
    settings: Settings,
    *,
    with_tuning: bool,
    with_short: bool,
    with_variants: bool = False,
    only_default: bool = False,
) -> dict:
    corpus, queries, qrels = read_set(folder)
    train = read_train(folder)
    print(f"\n## {folder.name}: {len(corpus)} documents, {len(queries)} queries", flush=True)
    ids = [d["_id"] for d in corpus]
    texts = [document_text(d.get("title", ""), d["text"]) for d in corpus]
    names = [settings.embedding_model] if only_default else list(AVAILABLE_MODELS)
    models: dict[str, Embedder] = {name: get_embedder(name) for name in names}
    if with_short:
        models["minilm-l6-int8@128"] = OnnxMiniLM("minilm-l6-int8@128", max_tokens=128)
    if with_variants:
        models.update(minilm_variants())
    rows: dict[str, dict[str, float]] = {}
    splits: dict[str, Split] = {}
    flags: dict[str, int] = {}
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
                rows[f"dense {name}"] = evaluate(dense_run(model, ids, vectors, queries), qrels)
                print(f"   ({name}: {time.perf_counter() - started:.0f} s)", flush=True)
                default = name == settings.embedding_model
                label = "fused default" if default else f"fused {name}"
                own = settings.model_copy(update={"home": home, "embedding_model": name})
                cached = CachedDocuments(model, texts, vectors)
                build_index(store, own, embedder=cached)
                searcher = Searcher(store, own, embedder=cached)
                run, flagged = searcher_run(searcher, queries)
                rows[label] = evaluate(run, qrels)
                if default and with_tuning:
                    splits["test"] = ({}, dense_scored(model, ids, vectors, queries), qrels)
                    if train:
                        train_dense = dense_scored(model, ids, vectors, train[0])
                        splits["train"] = ({}, train_dense, train[1])
                if default:
                    flags["real queries"] = flagged
                    flags["nonsense queries"] = sum(
                        searcher.search(text, limit=10).few_good_matches for text in NONSENSE
                    )
                    if train:
                        run, flagged = searcher_run(searcher, train[0])
                        rows["fused default, train"] = evaluate(run, train[1])
                        flags["real train queries"] = flagged
            index = FullTextIndex(settings.model_copy(update={"home": home}).fulltext_path)
            bm25 = {qid: index.search(text, limit=DEPTH) for qid, text in queries.items()}
            rows = {"bm25": evaluate(ranks(bm25), qrels), **rows}
            if "test" in splits:
                splits["test"] = (bm25, *splits["test"][1:])
            if train:
                bm25_train = {
                    qid: index.search(text, limit=DEPTH) for qid, text in train[0].items()
                }
                rows["bm25, train"] = evaluate(ranks(bm25_train), train[1])
                if "train" in splits:
                    splits["train"] = (bm25_train, *splits["train"][1:])
        finally:
            store.close()
    print_rows(rows)
    sizes = {
        "real queries": len(queries),
        "nonsense queries": len(NONSENSE),
        "real train queries": len(train[0]) if train else 0,
    }
    print("few good matches (shipped search, default model):")
    for what, count in flags.items():
        print(f"  {what}: {count} of {sizes[what]} flagged")
    result: dict = {
        "documents": len(corpus),
        "queries": len(queries),
        "rankings": rows,
        "few_good_matches": flags,
    }
    if with_tuning:
        grid = tune(splits)
        print(f"fusion grid, bm25 + {settings.embedding_model} (nDCG@10 / R@100 per split):")
        for cell in grid:
            k = f"k={cell['k']}" if "k" in cell else ""
            cells = "  ".join(
                f"{name} {cell[name]['ndcg@10']:.4f} / {cell[name]['recall@100']:.4f}"
                for name in splits
            )
            print(f"  {cell['method']:6} {k:6} w={cell['dense_weight']:<5} {cells}")
        result["grid"] = grid
    default = rows["fused default"]["ndcg@10"]
    rivals = [rows["bm25"], rows[f"dense {settings.embedding_model}"]]
    result["fused_beats_both"] = all(default > rival["ndcg@10"] for rival in rivals)
    return result


def print_rows(rows: dict[str, dict[str, float]]) -> None:
    print(f"{'ranking':28} {'nDCG@10':>8} {'R@100':>8}")
    for label, scores in rows.items():
        print(f"{label:28} {scores['ndcg@10']:8.4f} {scores['recall@100']:8.4f}")


# --- why BM25 ranked as it did --------------------------------------------------------


def bm25_variants(folder: Path) -> dict[str, dict[str, dict[str, float]]]:
    """SciFact nDCG@10 and R@100 of tantivy BM25 built the ways the full-text index could
    be: separate title and abstract fields (summed BM25, the title boosted or not) or one
    field of both, with tantivy's ``en_stem`` or paperstand's English analyzer (stopwords
    + stemming). Test and training queries."""
    corpus, queries, qrels = read_set(folder)
    splits = {"test": (queries, qrels)}
    if train := read_train(folder):
        splits["train"] = train
    layouts = {
        "title 1.5 + abstract": (["title", "abstract"], {"title": 1.5}),
        "title + abstract": (["title", "abstract"], {}),
        "one field": (["text"], {}),
        "one field + title 0.3": (["text", "title"], {"title": 0.3}),
    }
    results = {}
    for analyzer in ("en_stem", "english"):
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        for name in ("title", "abstract", "text"):
            builder.add_text_field(name, tokenizer_name=analyzer)
        index = tantivy.Index(builder.build())
        index.register_tokenizer("english", english_analyzer())
        writer = index.writer(heap_size=100_000_000, num_threads=1)
        for d in corpus:
            title = d.get("title", "")
            writer.add_document(
                tantivy.Document(
                    id=d["_id"], title=title, abstract=d["text"], text=f"{title}\n{d['text']}"
                )
            )
        writer.commit()
        index.reload()
        searcher = index.searcher()
        for layout, (fields, boosts) in layouts.items():
            label = f"{analyzer}, {layout}"
            results[label] = {}
            for split, (texts, judged) in splits.items():
                run = {}
                for qid, text in texts.items():
                    query = index.parse_query(" ".join(words(text)), fields, field_boosts=boosts)
                    hits = searcher.search(query, limit=DEPTH, count=False).hits
                    run[qid] = [searcher.doc(addr)["id"][0] for _, addr in hits]
                results[label][split] = evaluate(run, judged)
    print(f"\nBM25 variants on {folder.name} (nDCG@10 / R@100):")
    for label, scores in results.items():
        cells = "  ".join(
            f"{split} {v['ndcg@10']:.4f} / {v['recall@100']:.4f}" for split, v in scores.items()
        )
        print(f"  {label:36} {cells}")
    return results


# --- similar papers ----------------------------------------------------------------------


def scifact_cocited(data: Path) -> tuple[list[Paper], Qrels]:
    """SciFact abstracts cited together by one claim are similar to each other."""
    folder = data / "bench" / "scifact"
    corpus, _, test = read_set(folder)
    train = read_train(folder)
    qrels: Qrels = {}
    for claims in (test, train[1] if train else {}):
        for cited in claims.values():
            if len(cited) > 1:
                for doc in cited:
                    qrels.setdefault(doc, {}).update({o: 1 for o in cited if o != doc})
    papers = [Paper(id=d["_id"], title=d.get("title", ""), abstract=d["text"]) for d in corpus]
    return papers, qrels


def arxiv_coauthor(data: Path) -> tuple[list[Paper], Qrels]:
    """Papers sharing an author and the primary category are similar (see the docstring)."""
    records = []
    for path in sorted((data / "arxiv").glob("listings-*.jsonl.gz")):
        with gzip.open(path) as lines:
            records += [json.loads(line) for line in lines]
    by_author: dict[str, list[dict]] = collections.defaultdict(list)
    for record in records:
        for name in record["authors"]:
            by_author[name].append(record)
    rng = random.Random(0)
    names = sorted(a for a, rs in by_author.items() if 4 <= len(rs) <= 10 and " " in a.strip())
    rng.shuffle(names)
    chosen: list[str] = []
    corpus: dict[str, dict] = {}
    for name in names:
        if len(chosen) == 80:
            break
        category, count = collections.Counter(
            r["categories"][0] for r in by_author[name]
        ).most_common(1)[0]
        if count < 3:
            continue
        chosen.append(name)
        corpus.update({r["id"]: r for r in by_author[name] if r["categories"][0] == category})
    categories = {r["categories"][0] for r in corpus.values()}
    pool = [r for r in records if r["id"] not in corpus and r["categories"][0] in categories]
    drawn = rng.sample(pool, 800)
    docs = sorted([*corpus.values(), *drawn], key=lambda r: r["id"])
    qrels: Qrels = {}
    for name in chosen:
        for query in [d for d in docs if name in d["authors"]][:2]:
            alike = {
                d["id"]: 1
                for d in docs
                if d["id"] != query["id"]
                and d["categories"][0] == query["categories"][0]
                and set(d["authors"]) & set(query["authors"])
            }
            if alike:
                qrels[query["id"]] = alike
    # 350 of the other papers as distractors keep the set small enough to embed in minutes.
    judged = set(qrels) | {doc for alike in qrels.values() for doc in alike}
    rest = [d for d in docs if d["id"] not in judged]
    kept = [d for d in docs if d["id"] in judged] + random.Random(1).sample(rest, 350)
    papers = [
        Paper(
            id=r["id"],
            title=r["title"],
            abstract=r["abstract"],
            authors=r["authors"],
            categories=r["categories"],
        )
        for r in sorted(kept, key=lambda r: r["id"])
    ]
    return papers, qrels


def run_similar(
    name: str, papers: list[Paper], qrels: Qrels, cache: Path, settings: Settings
) -> dict:
    """Each ranking of similar papers on one set, with the default model."""
    print(f"\n## similar papers, {name}: {len(papers)} papers, {len(qrels)} queries", flush=True)
    model = get_embedder(settings.embedding_model)
    texts = [document_text(p.title, p.abstract) for p in papers]
    vectors = document_vectors(model, texts, cache)
    with tempfile.TemporaryDirectory() as workdir:
        own = settings.model_copy(update={"home": Path(workdir)})
        store = open_store(own.store_url())
        try:
            ingest(store, iter(papers))
            cached = CachedDocuments(model, texts, vectors)
            build_index(store, own, embedder=cached)
            searcher = Searcher(store, own, embedder=cached)
            runs: dict[str, Run] = {"dense (the old similar)": {}, "bm25 more-like-this": {}}
            for qid in qrels:
                paper = searcher.store.get_paper(qid)
                assert paper is not None
                vector = searcher.vectors.get([qid])[qid]
                found = searcher.vectors.knn(vector, DEPTH, exclude={qid})
                runs["dense (the old similar)"][qid] = [pid for pid, _ in found]
                text = f"{paper.title}\n{paper.abstract}"
                found = searcher.fulltext.more_like_this([text], limit=DEPTH, exclude={qid})
                runs["bm25 more-like-this"][qid] = [pid for pid, _ in found]
            runs["rrf of the two"] = fused_run(
                runs["dense (the old similar)"], runs["bm25 more-like-this"], k=60, weights=(1, 1)
            )
            runs["similar (shipped)"] = {
                qid: [h.paper.id for h in searcher.more_like([qid], limit=DEPTH)] for qid in qrels
            }
        finally:
            store.close()
    rows = {label: evaluate(run, qrels) for label, run in runs.items()}
    print_rows(rows)
    return {"papers": len(papers), "queries": len(qrels), "rankings": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, help="one BEIR-layout folder (default: all)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "paperstand-bench"
    )
    parser.add_argument("--tune", action="store_true", help="also try other fusion settings")
    parser.add_argument("--short", action="store_true", help="also MiniLM at 128 tokens")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also MiniLM as the previous release ran it, and in chunks of 128 tokens",
    )
    parser.add_argument("--no-similar", action="store_true", help="skip the similar-paper sets")
    parser.add_argument("--similar-only", action="store_true", help="only the similar-paper sets")
    parser.add_argument(
        "--default-only", action="store_true", help="only the default model (not static-64)"
    )
    parser.add_argument(
        "--bm25-variants", action="store_true", help="also SciFact with other BM25 layouts"
    )
    args = parser.parse_args()
    where = require(
        args.bench or BENCH,
        "--bench DIR",
        "one BEIR-layout set (corpus.jsonl, queries.jsonl, qrels/)",
    )
    folders = [where] if args.bench else sorted(p for p in where.iterdir() if p.is_dir())
    if args.similar_only:
        folders = []
    settings = Settings(search_fetch_missing=False)
    print(
        f"fused default: BM25 + {settings.embedding_model}, {settings.fusion_method} fusion "
        f"(RRF k={settings.fusion_k}), weights full text {settings.fusion_weight_fulltext} / "
        f"dense {dense_weight(settings)}"
    )
    results = {
        f.name: run_set(
            f,
            args.cache,
            settings,
            with_tuning=args.tune,
            with_short=args.short,
            with_variants=args.variants,
            only_default=args.default_only,
        )
        for f in folders
    }
    if args.bm25_variants:
        results["bm25 variants"] = bm25_variants(BENCH / "scifact")
    similar = {}
    if not args.no_similar:
        for name, build in (
            ("scifact-cocited", scifact_cocited),
            ("arxiv-coauthor", arxiv_coauthor),
        ):
            papers, qrels = build(SHARED_DATA)
            similar[name] = run_similar(name, papers, qrels, args.cache, settings)
    print(
        json.dumps({"default_model": settings.embedding_model, "sets": results, "similar": similar})
    )


if __name__ == "__main__":
    main()
