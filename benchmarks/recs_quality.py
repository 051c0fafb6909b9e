"""Quality of the personal recommendations ("for you") on the Hugging Face daily lists.

    nice -n 10 python benchmarks/recs_quality.py [--data PAPERS_JSONL] [--model NAME]

The fixed protocol (so versions compare): each paper carries its submitter
(``submittedOnDailyBy.user``) and its daily list (``_date``); a submitter's submissions are
that user's likes.

- users: submitters with at least 5 submissions; an event is one (user, list day) after the
  user's first 3 submissions, its papers the user's submissions of that day;
- training for an event uses only papers listed strictly before that day;
- candidates: every paper listed on that day and the 6 following list days, minus the user's
  own later submissions other than the event's;
- metrics: MRR, nDCG@10 and hit@10 of the event's papers, macro-averaged over users (each
  user's mean over their events, then the mean over users);
- "not own": the event's papers the submitter is not an author of (their account linked to
  an author, or their full name an author's); the event's own papers leave the candidates.

Methods: random; popularity (final upvotes); author match (the number of the candidate's
authors on the user's earlier submissions); tf-idf with a per-user logistic regression
(positives the earlier submissions, negatives 300 papers listed before the day); and
``personal``, paperstand's model (``paperstand.recommend.model.score``, the code the "for
you" feed runs) with the default weights. Ties are broken by one seeded random order.
The ablation turns each signal off in turn, and also runs the model on the other embedding
model. Hugging Face papers carry no arXiv categories, so that signal cannot help here.

Paper vectors take a quarter of an hour with MiniLM on two loaded cores, so they are cached
in ``$PAPERSTAND_BENCH_CACHE`` (default ``/tmp/paperstand-recs``) under a hash of the model
and the texts. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from paperstand.index.embeddings import AVAILABLE_MODELS, DEFAULT_MODEL, document_text, get_embedder
from paperstand.models import Paper
from paperstand.recommend.model import (
    DEFAULT_WEIGHTS,
    Item,
    Weights,
    build_profile,
    rank,
    score,
    without,
)
from paperstand.sources.hf_daily import parse_item
from paperstand.store.papers import name_key

from _shared_data import SHARED_DATA, require

DEFAULT_DATA = SHARED_DATA / "hf" / "papers.jsonl"
CACHE = Path(
    os.environ.get("PAPERSTAND_BENCH_CACHE", Path(tempfile.gettempdir()) / "paperstand-recs")
)
MIN_SUBMISSIONS = 5
WARM_UP = 3
WINDOW_DAYS = 7
NEGATIVES = 300
SEED = 14
BASELINES = ("random", "popularity", "author", "tfidf")


def load_papers(path: Path) -> tuple[list[Paper], list[set[str]]]:
    """The daily papers as paperstand's Hugging Face source reads them, and for each the
    name keys of its submitter (account and full name) if the submitter is an author."""
    papers, own = [], []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            raw = json.loads(line)
            papers.append(parse_item(raw))
            own.append(_submitter_is_author(raw))
    return papers, own


def _submitter_is_author(raw: dict) -> bool:
    by = raw.get("submittedOnDailyBy") or {}
    account, fullname = by.get("user"), name_key(by.get("fullname") or "")
    for author in raw.get("authors") or []:
        linked = (author.get("user") or {}).get("user")
        if account and linked == account:
            return True
        if fullname and name_key(author.get("name") or "") == fullname:
            return True
    return False


def paper_vectors(papers: list[Paper], model: str) -> np.ndarray:
    """Each paper's vector from ``model`` (of the text the store embeds), cached under a
    hash of the model and the texts, in chunks so an interrupted run resumes."""
    texts = [document_text(p.title, p.abstract) for p in papers]
    key = hashlib.sha256("\n".join([model, *texts]).encode()).hexdigest()[:16]
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = f"{model}-{len(texts)}-{key}"
    final = CACHE / f"{stem}.npy"
    if final.exists():
        return np.load(final)
    embedder = get_embedder(model)
    chunk, parts = 250, []
    for start in range(0, len(texts), chunk):
        part = CACHE / f"{stem}.part{start // chunk}.npy"
        if part.exists():
            parts.append(np.load(part))
            continue
        vectors = embedder.embed_documents(texts[start : start + chunk])
        np.save(part, vectors)
        parts.append(vectors)
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)
    np.save(final, vectors)
    for part in CACHE.glob(f"{stem}.part*.npy"):
        part.unlink()
    return vectors


@dataclass(frozen=True, slots=True)
class Event:
    user: str
    day: str
    liked: list[int]  # indices of the user's submissions listed before the day
    relevant: set[int]
    candidates: list[int]


def events(papers: list[Paper], own: list[bool]) -> tuple[list[Event], list[Event]]:
    """The protocol's events, and their "not own" subset."""
    day_of = [(p.submitted_on or "")[:10] for p in papers]
    days = sorted(set(day_of))
    day_index = {day: i for i, day in enumerate(days)}
    on_day: dict[str, list[int]] = defaultdict(list)
    by_user: dict[str, list[int]] = defaultdict(list)
    for i, paper in enumerate(papers):
        on_day[day_of[i]].append(i)
        if paper.submitted_by:
            by_user[paper.submitted_by].append(i)
    full, not_own = [], []
    for user, subs in sorted(by_user.items()):
        if len(subs) < MIN_SUBMISSIONS:
            continue
        subs.sort(key=lambda i: (day_of[i], papers[i].id))
        later: dict[str, set[int]] = defaultdict(set)
        for i in subs[WARM_UP:]:
            later[day_of[i]].add(i)
        for day, relevant in sorted(later.items()):
            liked = [i for i in subs if day_of[i] < day]
            start = day_index[day]
            window = [i for d in days[start : start + WINDOW_DAYS] for i in on_day[d]]
            others = {i for i in subs if i not in relevant}
            candidates = [i for i in window if i not in others]
            full.append(Event(user, day, liked, relevant, candidates))
            theirs = {i for i in relevant if own[i]}
            if len(theirs) < len(relevant):
                rest = [i for i in candidates if i not in theirs]
                not_own.append(Event(user, day, liked, relevant - theirs, rest))
    return full, not_own


def metrics(order: Sequence[int], relevant: set[int]) -> tuple[float, float, float]:
    """MRR, nDCG@10 and hit@10 of one ranked candidate list."""
    ranks = [rank for rank, i in enumerate(order, start=1) if i in relevant]
    mrr = 1.0 / ranks[0] if ranks else 0.0
    dcg = sum(1.0 / np.log2(rank + 1) for rank in ranks if rank <= 10)
    ideal = sum(1.0 / np.log2(rank + 1) for rank in range(1, min(len(relevant), 10) + 1))
    return mrr, dcg / ideal if ideal else 0.0, float(bool(ranks) and ranks[0] <= 10)


Scorer = Callable[[Event], np.ndarray]


class Methods:
    """Every method's scorer over one data set: each returns a score per candidate."""

    def __init__(self, papers: list[Paper], vectors: dict[str, np.ndarray]) -> None:
        self.papers = papers
        self.items = [Item.of(p) for p in papers]
        self.vectors = vectors
        self.upvotes = np.array([p.upvotes or 0 for p in papers], np.float64)
        self.day_of = [(p.submitted_on or "")[:10] for p in papers]
        self.order_by_day = sorted(range(len(papers)), key=lambda i: self.day_of[i])
        texts = [document_text(p.title, p.abstract) for p in papers]
        # Fitted on every text: tf-idf's word weights, not the users' choices, come from
        # the whole set, as arxiv-sanity-lite fits them on its whole corpus (with its
        # settings: words and word pairs, the 20,000 most frequent).
        self.tfidf_rows = TfidfVectorizer(
            sublinear_tf=True,
            stop_words="english",
            max_df=0.1,
            ngram_range=(1, 2),
            max_features=20_000,
        ).fit_transform(texts)

    def random(self, event: Event) -> np.ndarray:
        return np.zeros(len(event.candidates))

    def popularity(self, event: Event) -> np.ndarray:
        return self.upvotes[event.candidates]

    def author(self, event: Event) -> np.ndarray:
        known = set().union(*(self.items[i].author_keys for i in event.liked))
        return np.array([len(self.items[i].author_keys & known) for i in event.candidates])

    def tfidf(self, event: Event) -> np.ndarray:
        before = [i for i in self.order_by_day if self.day_of[i] < event.day]
        liked = set(event.liked)
        pool = [i for i in before if i not in liked]
        rng = np.random.default_rng([SEED, len(event.liked), len(pool)])
        negatives = rng.choice(pool, size=min(NEGATIVES, len(pool)), replace=False)
        rows = list(event.liked) + list(negatives)
        labels = [1] * len(event.liked) + [0] * len(negatives)
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
        model.fit(self.tfidf_rows[rows], labels)
        return model.decision_function(self.tfidf_rows[event.candidates])

    def personal(self, model: str, weights: Weights = DEFAULT_WEIGHTS) -> Scorer:
        vectors = self.vectors[model]

        def scorer(event: Event) -> np.ndarray:
            profile = build_profile(
                [self.items[i] for i in event.liked],
                vectors[event.liked],
                dim=vectors.shape[1],
            )
            items = [self.items[i] for i in event.candidates]
            return score(profile, items, vectors[event.candidates], weights).total

        return scorer

    def feed_order(self, model: str) -> Scorer:
        """The order the "for you" feed shows (``model.rank``: the scores, then a little
        exploration by maximal marginal relevance), as a score: minus the position."""
        vectors = self.vectors[model]

        def scorer(event: Event) -> np.ndarray:
            profile = build_profile(
                [self.items[i] for i in event.liked], vectors[event.liked], dim=vectors.shape[1]
            )
            items = [self.items[i] for i in event.candidates]
            picks = rank(profile, items, vectors[event.candidates], limit=len(items))
            position = {pick.item.id: n for n, pick in enumerate(picks)}
            return -np.array([position[item.id] for item in items], np.float64)

        return scorer


def evaluate(scorer: Scorer, found: list[Event]) -> dict[str, float]:
    """Macro-averaged metrics of one scorer over events (ties in a seeded random order)."""
    per_user: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for number, event in enumerate(found):
        scores = np.asarray(scorer(event), np.float64)
        tie = np.random.default_rng([SEED, number]).random(len(scores))
        order = [event.candidates[j] for j in np.lexsort((tie, -scores))]
        per_user[event.user].append(metrics(order, event.relevant))
    means = np.array([np.mean(values, axis=0) for values in per_user.values()])
    mrr, ndcg, hit = means.mean(axis=0)
    return {
        "mrr": round(float(mrr), 4),
        "ndcg10": round(float(ndcg), 4),
        "hit10": round(float(hit), 4),
    }


ABLATION = ("authors", "content", "popularity", "categories")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(AVAILABLE_MODELS))
    parser.add_argument(
        "--other-model",
        default="static-64",
        help="also run the personal model on this embedding model ('' for none)",
    )
    args = parser.parse_args()
    papers, own = load_papers(require(args.data, "--data", "a Hugging Face papers.jsonl"))
    models = [args.model] + [m for m in [args.other_model] if m and m != args.model]
    start = time.perf_counter()
    vectors = {m: paper_vectors(papers, m) for m in models}
    print(f"vectors: {', '.join(models)} in {time.perf_counter() - start:.0f} s", flush=True)
    full, not_own = events(papers, own)
    users = {e.user for e in full}
    print(
        f"{len(papers)} papers, {len(users)} users, {len(full)} events, "
        f"{len(not_own)} not own; candidates per event "
        f"{np.mean([len(e.candidates) for e in full]):.0f}",
        flush=True,
    )
    methods = Methods(papers, vectors)
    scorers: dict[str, Scorer] = {name: getattr(methods, name) for name in BASELINES}
    scorers["personal"] = methods.personal(args.model)
    results = {"full": {}, "not_own": {}}
    for name, scorer in scorers.items():
        for subset, found in (("full", full), ("not_own", not_own)):
            started = time.process_time()
            results[subset][name] = evaluate(scorer, found)
            spent = time.process_time() - started
            print(f"{subset:8} {name:18} {results[subset][name]}  ({spent:.1f} CPU s)", flush=True)
    ablation: dict[str, dict[str, dict[str, float]]] = {}
    variants = {f"without {signal}": without(DEFAULT_WEIGHTS, signal) for signal in ABLATION}
    variants["authors only"] = Weights(content=0, categories=0, popularity=0)
    variants["content only"] = Weights(authors=0, categories=0, popularity=0)
    for label, weights in variants.items():
        ablation[label] = {
            subset: evaluate(methods.personal(args.model, weights), found)
            for subset, found in (("full", full), ("not_own", not_own))
        }
    ablation["with exploration (the feed's order)"] = {
        subset: evaluate(methods.feed_order(args.model), found)
        for subset, found in (("full", full), ("not_own", not_own))
    }
    for other in models[1:]:
        ablation[f"embeddings {other}"] = {
            subset: evaluate(methods.personal(other), found)
            for subset, found in (("full", full), ("not_own", not_own))
        }
    print(f"{'ablation (MRR / nDCG@10)':32} {'full':>15} {'not own':>15}")
    for label, values in {
        "personal": {k: v["personal"] for k, v in results.items()},
        **ablation,
    }.items():
        cells = [f"{values[s]['mrr']:.3f} / {values[s]['ndcg10']:.3f}" for s in ("full", "not_own")]
        print(f"{label:32} {cells[0]:>15} {cells[1]:>15}")
    names = [*BASELINES, "personal"]
    summary = {
        "users": len(users),
        "events": len(full),
        "model": args.model,
        **{
            metric: {name: results["full"][name][metric] for name in names}
            for metric in ("mrr", "ndcg10", "hit10")
        },
        "not_own": {
            "users": len({e.user for e in not_own}),
            "events": len(not_own),
            **{
                metric: {name: results["not_own"][name][metric] for name in names}
                for metric in ("mrr", "ndcg10", "hit10")
            },
        },
        "ablation": {
            label: {s: values[s]["mrr"] for s in ("full", "not_own")}
            for label, values in ablation.items()
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
