"""The search service: hybrid search, direct hits for pasted links, similar papers.

A query runs two retrievers and fuses their rankings (``index/fusion.py``):

- BM25 full text over title, abstract and authors (``index/fulltext.py``), which finds
  exact words, names and "quoted phrases";
- dense retrieval over embeddings of title + abstract (``index/vectors.py``), which finds
  papers that say the same thing in other words and forgives misspellings.

A query that is a paper reference (arXiv id with or without version, old-style id, arXiv
abs/pdf URL, Hugging Face paper URL, DOI) is answered with that paper directly, fetched
from the arXiv API when it is not in the store yet. Odd query text never raises: the
parser reduces it to safe pieces (``index/query.py``) and an empty query finds nothing.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

import numpy as np

from paperstand import ids
from paperstand.errors import NotFound, PaperstandError
from paperstand.index.fulltext import FullTextIndex
from paperstand.index.fusion import reciprocal_rank_fusion, score_fusion
from paperstand.index.query import Filters, ParsedQuery, parse_query, words
from paperstand.index.vectors import VectorIndex, vector_index
from paperstand.lookup import resolve
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store

if TYPE_CHECKING:  # the model module is imported when a query is first embedded
    from paperstand.index.embeddings import Embedder

log = logging.getLogger(__name__)

# How deep each retriever looks before fusion, at least to the end of the page asked for.
# Fusion gives little weight to deep ranks, so dense search stops earlier; in score fusion
# a cosine below the DENSE_DEPTH-th earns nothing (fusion_floors).
DEPTH = 100
DENSE_DEPTH = 50
# Dense candidates fetched when filters apply, since they are filtered after the search.
FILTERED_DEPTH = 300
# Results of one query that can be paged through. Each page ranks the whole fused list down
# to its own end, so without a bound a deep page (or offset) costs more as the store grows;
# past the best thousand a reader narrows the query or its filters instead.
MAX_RESULTS = 1000
# Known-item search (Searcher._title_first): how many full-text hits have their title
# compared with the query, how alike they must be (difflib ratio of the word sequences) and
# how long the query must be for that to mean anything.
TITLE_CHECK = 5
TITLE_SIMILARITY = 0.8
TITLE_MIN_CHARS = 12
# "Few good matches" (Searcher._few_good_matches), per model with a floor (a model without
# one is judged by full text alone: static-64's similarities do not separate nonsense from
# real queries): the cosine of the nearest embedding that is a good match whatever full
# text says, and the floor that cosine plus a small credit for full-text evidence
# (DENSE_TEXT_CREDIT x the best hit's share of a full match, at most 1) must reach when full
# text finds something. Without embeddings, the share of a full match's BM25 score the best
# full-text hit must reach.
DENSE_SURE = {"minilm-l6-int8": 0.4}
DENSE_FLOORS = {"minilm-l6-int8": 0.325}
DENSE_TEXT_CREDIT = 0.05
TEXT_MATCH_SHARE = 0.5
# The dense list's weight in each fusion method when the settings give none, chosen on
# SciFact's training claims and the seed titles together (benchmarks/search_quality.py
# --tune): score fusion (with fusion_floors) best at 0.5 on the training claims, 0.4 and
# 0.6 within 0.004, 0.4 below 0.98 on the seed titles; RRF's best was at 1.
DENSE_WEIGHTS = {"score": 0.5, "rrf": 1.0}
# Similar papers (Searcher.more_like): how deep each ranking looks, the weight of each in
# the fusion, the bonus (a factor 1 + bonus on the fused score) for sharing a primary
# category and for sharing an author, and how many fused hits are considered for them.
SIMILAR_DEPTH = 50
SIMILAR_WEIGHTS = {"dense": 1.0, "text": 1.0, "authors": 1.0}
CATEGORY_BONUS = 0.2
AUTHOR_BONUS = 0.5
SIMILAR_RERANK = 100
# The papers by the same authors (Searcher._coauthored): the first MAX_AUTHORS of each paper
# (big collaborations list hundreds; the first ones say enough), and at least COAUTHOR_MIN
# of the newest papers of each.
MAX_AUTHORS = 20
COAUTHOR_MIN = 10
MAX_CATEGORIES = 3


def fusion_floors(dense: list[tuple[str, float]]) -> list[float]:
    """The score that earns nothing in score fusion, for the full-text list and (when there
    is one) the dense list: BM25's theoretical minimum 0, and the cosine of the
    ``DENSE_DEPTH``-th nearest paper. Neither depends on how deep the lists were read for
    the page asked for, so the first page ranks the same whatever its size (min-max
    normalisation over the lists as read moved it when a page asked for more than 50
    hits). BM25 divided by the best hit's score ranked SciFact's training claims 0.009 and
    the seed titles 0.003 above min-max over the top 100 (docs/benchmarks.md, "Fusion
    floors")."""
    if not dense:
        return [0.0]
    return [0.0, dense[min(DENSE_DEPTH, len(dense)) - 1][1]]


def dense_weight(settings: Settings) -> float:
    """The dense list's weight in the fusion: the setting, or the method's default."""
    if settings.fusion_weight_dense is not None:
        return settings.fusion_weight_dense
    return DENSE_WEIGHTS[settings.fusion_method]


@dataclass
class Hit:
    paper: Paper
    score: float


def visible_hits(store: Store, ranked: Sequence[tuple[str, float]]) -> list[Hit]:
    """The papers of ``ranked`` (id, score) as hits, in its order, read in one query;
    papers deleted or hidden since they were ranked are left out."""
    by_id = {p.id: p for p in store.get_papers([pid for pid, _ in ranked])}
    return [Hit(by_id[pid], score) for pid, score in ranked if pid in by_id and by_id[pid].visible]


@dataclass
class SearchResult:
    hits: list[Hit] = field(default_factory=list)
    total: int | None = None  # results that can be paged through (None: unknown)
    direct: Hit | None = None  # the paper a pasted id, URL or DOI names
    notice: str | None = None  # e.g. that a pasted id is not in this store
    # True when no paper matches the query well: the hits are only the least bad ones.
    few_good_matches: bool = False


class Searcher:
    """Search, similar papers and "more like these" over one store."""

    def __init__(
        self, store: Store, settings: Settings, *, embedder: Embedder | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self._embedder = embedder
        self._model_name = embedder.name if embedder is not None else settings.embedding_model
        self.fulltext = FullTextIndex(settings.fulltext_path)
        self.vectors: VectorIndex = vector_index(
            store,
            self._model_name,
            cache=settings.vector_cache_path,
            ef_search=settings.hnsw_ef_search,
        )
        self._sync_lock = threading.Lock()
        # The dense half of a search (query embedding and vector search) and of similar
        # papers runs here while the request's own thread runs the full text: tantivy,
        # numpy and the model release the GIL, so on two idle cores a request waits for
        # the longer of the two instead of their sum (docs/benchmarks.md).
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dense")

    # --- parts ------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The query embedder, loaded on first use (a model takes a while to load)."""
        if self._embedder is None:
            from paperstand.index.embeddings import get_embedder

            self._embedder = get_embedder(self._model_name)
        return self._embedder

    def warm(self) -> None:
        """Load what the first search would otherwise wait for: the full text caught up,
        the vector index's copy in memory, and the query model when there are vectors (run
        once: a model's first run also sets it up)."""
        self.refresh()
        self.vectors.warm()
        if self.vectors.has_vectors():
            self.embedder.embed_query("warm")

    def refresh(self) -> None:
        """Let the full-text index catch up with the store (cheap when it is current)."""
        if self.store.revision() == self.fulltext.revision:
            return
        with self._sync_lock:
            self.fulltext.sync(self.store)

    # --- search -----------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        since: str | None = None,
        until: str | None = None,
        category: str | None = None,
        has_code: bool = False,
        keyword: str | None = None,
    ) -> SearchResult:
        """Hybrid search. Bad dates raise :class:`InvalidInput`; query text never raises.
        Only the best :data:`MAX_RESULTS` can be paged to: a page past them is empty.

        ``keyword`` is a facet: only papers with that keyword (extracted, or given by
        their source) are kept. With a keyword and no query, its papers are listed
        latest first (a keyword chip's link), with the other filters applied."""
        keyword = (keyword or "").strip() or None
        tagged = self.store.topics.papers_with_keyword(keyword) if keyword else None
        among = frozenset(tagged) if tagged is not None else None
        filters = Filters(
            since=since, until=until, category=category, has_code=has_code, among=among
        )
        offset = max(int(offset), 0)
        limit = max(min(int(limit), MAX_RESULTS - offset), 0)
        query = str(query or "")
        direct = self._direct(query)
        if direct is not None:
            return direct
        self.refresh()
        parsed = parse_query(query)
        if tagged is not None and parsed.empty and limit:
            return self._tagged(tagged, filters, limit, offset)
        if parsed.empty or limit == 0 or among == frozenset():
            return SearchResult(total=0)
        depth = max(DEPTH, offset + limit)
        dense_depth = max(DENSE_DEPTH, offset + limit)
        dense_job = (
            self._pool.submit(self._dense, parsed, filters, dense_depth)
            if self._wants_dense(parsed)
            else None
        )
        text_hits = self.fulltext.search(parsed, limit=depth, filters=filters)
        scored = [text_hits]
        weights = [self.settings.fusion_weight_fulltext]
        dense = dense_job.result() if dense_job is not None else []
        if dense:
            scored.append(dense)
            weights.append(dense_weight(self.settings))
        if self.settings.fusion_method == "score":
            fused = score_fusion(scored, weights=weights, floors=fusion_floors(dense))
        else:
            rankings = [[pid for pid, _ in hits] for hits in scored]
            fused = reciprocal_rank_fusion(rankings, k=self.settings.fusion_k, weights=weights)
        # One read of the papers the page can show: the known-title check moves at most
        # TITLE_CHECK full-text hits to the top, pushing the others down as many places.
        checked = [pid for pid, _ in text_hits[:TITLE_CHECK]]
        near = [pid for pid, _ in fused[max(0, offset - TITLE_CHECK) : offset + limit]]
        papers = {p.id: p for p in self.store.get_papers([*checked, *near])}
        fused = self._title_first(query, [papers[pid] for pid in checked if pid in papers], fused)
        page = fused[offset : offset + limit]
        hits = [
            Hit(papers[pid], score) for pid, score in page if pid in papers and papers[pid].visible
        ]
        few = self._few_good_matches(parsed, text_hits, dense)
        total = min(len(fused), MAX_RESULTS)
        return SearchResult(hits=hits, total=total, few_good_matches=few)

    def _tagged(self, ranked: list[str], filters: Filters, limit: int, offset: int) -> SearchResult:
        """The papers of a keyword (``ranked``, latest first) that pass ``filters``."""
        kept = self.fulltext.filter_ids(ranked, filters) if ranked else set()
        ranked = [pid for pid in ranked if pid in kept]
        page = ranked[offset : offset + limit]
        papers = {p.id: p for p in self.store.get_papers(page)}
        hits = [Hit(papers[pid], 0.0) for pid in page if pid in papers]
        return SearchResult(hits=hits, total=min(len(ranked), MAX_RESULTS))

    def _few_good_matches(
        self,
        parsed: ParsedQuery,
        text_hits: list[tuple[str, float]],
        dense: list[tuple[str, float]],
    ) -> bool:
        """Whether no paper matches the query well, so the hits are only the least bad.

        Dense search always returns its nearest papers, however far, and BM25 returns any
        paper sharing one common word: gibberish or an off-topic question would be answered
        with confident-looking lists. With embeddings, the nearest one decides: a query has
        a good match when its cosine reaches the model's sure floor, or when full text finds
        some of its words and the cosine, plus a small credit for how fully the best
        full-text hit matches, reaches the lower floor. Full text alone cannot decide there:
        on SciFact's abstracts off-topic questions made of real words ("football scores
        yesterday") find a hit scoring nearly a full match. Without embeddings, the best
        full-text hit must score at least ``TEXT_MATCH_SHARE`` of what a paper holding every
        query word would (``FullTextIndex.full_match_score``). Author and category searches
        match names, so any hit is good. The floors were set on SciFact claims and seed
        titles against nonsense queries (docs/benchmarks.md, "Few good matches")."""
        if not text_hits and not dense:
            return True
        if not (parsed.words or parsed.phrases):
            return False
        full = self.fulltext.full_match_score(parsed)
        share = text_hits[0][1] / full if text_hits and full > 0 else 0.0
        floor = DENSE_FLOORS.get(self._model_name)
        if dense and floor is not None:
            nearest = dense[0][1]
            if nearest >= DENSE_SURE[self._model_name]:
                return False
            return not (share > 0 and nearest + DENSE_TEXT_CREDIT * min(share, 1.0) >= floor)
        return share < TEXT_MATCH_SHARE

    def _title_first(
        self, query: str, best: list[Paper], fused: list[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """A query that is (nearly) a paper's whole title puts that paper first.

        People often type or paste a title, sometimes misspelled. Fusion alone can rank a
        paper that both retrievers half like above the one whose title was typed, so the
        best full-text hits whose titles read almost like the query come first."""
        typed = " ".join(words(query))
        if not fused or len(typed) < TITLE_MIN_CHARS:
            return fused
        close = []
        for paper in best:
            matcher = SequenceMatcher(None, typed, " ".join(words(paper.title)))
            # The quick upper bounds skip most candidates before the costly ratio.
            if (
                matcher.real_quick_ratio() >= TITLE_SIMILARITY
                and matcher.quick_ratio() >= TITLE_SIMILARITY
                and (ratio := matcher.ratio()) >= TITLE_SIMILARITY
            ):
                close.append((ratio, paper.id))
        if not close:
            return fused
        close.sort(reverse=True)
        promoted = {pid for _, pid in close}
        best = fused[0][1]
        rest = [hit for hit in fused if hit[0] not in promoted]
        return [(pid, best + ratio) for ratio, pid in close] + rest

    @staticmethod
    def _wants_dense(parsed: ParsedQuery) -> bool:
        """Whether dense retrieval can add to this query: not to an author search (names,
        which embeddings do not know) nor to one without words."""
        return not parsed.authors and bool(parsed.words or parsed.phrases)

    def _dense(self, parsed: ParsedQuery, filters: Filters, depth: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) of the papers nearest to the query's words, filters
        applied, nearest first."""
        knn = self.vectors.snapshot() if self._wants_dense(parsed) else None
        if knn is None:
            return []
        if parsed.categories:
            filters = replace(filters, category=parsed.categories[0])
        try:
            vector = self.embedder.embed_query(parsed.text)
        except PaperstandError as exc:  # e.g. the model package is missing
            log.warning("dense search skipped: %s", exc)
            return []
        wanted = FILTERED_DEPTH if filters.active else depth
        found = knn(vector, wanted)
        if filters.active:
            kept = self.fulltext.filter_ids([pid for pid, _ in found], filters)
            found = [hit for hit in found if hit[0] in kept]
        return found[:depth]

    # --- direct hits ------------------------------------------------------------------

    def _direct(self, query: str) -> SearchResult | None:
        """The answer to a query that is a paper reference, or None for other queries."""
        text = query.strip()
        if not text or len(text) > 300 or any(c.isspace() for c in text):
            return None
        ref = ids.parse_reference(text)
        if ref is None:
            return None
        paper = resolve(self.store, ref.id)
        notice = None
        # A stored paper that resolve() refused (deleted or hidden) is not fetched again.
        if paper is None and ref.kind == "arxiv" and self.store.get_paper(ref.id) is None:
            paper, notice = self._fetch(ref.id)
        if paper is None:
            return SearchResult(total=0, notice=notice or f"{text} is not in this store")
        hit = Hit(paper, 1.0)
        return SearchResult(hits=[hit], total=1, direct=hit, notice=notice)

    def _fetch(self, arxiv_id: str) -> tuple[Paper | None, str | None]:
        """Fetch a paper missing from the store from the arXiv API and keep it."""
        if not self.settings.search_fetch_missing:
            return None, f"{arxiv_id} is not in this store"
        from paperstand.sources import arxiv_api
        from paperstand.sources.http import Fetcher

        # One quick try: someone is waiting for the answer.
        fetcher = Fetcher(timeout=5.0, retries=0)
        try:
            paper = arxiv_api.fetch_paper(self.settings.arxiv_api_url, arxiv_id, fetcher=fetcher)
        except PaperstandError as exc:
            log.info("fetching %s from arXiv failed: %s", arxiv_id, exc)
            return None, f"{arxiv_id} is not in this store, and arXiv could not be reached"
        if paper is None:
            return None, f"{arxiv_id} is not in this store, and arXiv does not know it"
        self.store.upsert_papers([paper])
        return self.store.get_paper(paper.id), f"{arxiv_id} was fetched from arXiv"

    # --- similar papers ---------------------------------------------------------------

    def similar(self, paper_id: str, *, limit: int = 10) -> list[Hit]:
        """The papers nearest to this one, never itself; :class:`NotFound` if unknown."""
        paper = resolve(self.store, paper_id)
        if paper is None:
            raise NotFound(f"paper {paper_id!r} is not in this store")
        return self.like([paper], limit=limit)

    def more_like(self, paper_ids: Sequence[str], *, limit: int = 10) -> list[Hit]:
        """Papers near all of these, none of them. Unknown ids are left out;
        :class:`NotFound` when none is known.

        Three rankings are fused: the nearest embeddings to the mean of the papers'
        (meaning), the papers sharing their most telling words (BM25 "more like this": names
        of methods and datasets that embeddings blur), and the papers by their authors
        (people keep working on a topic); papers in one of their primary categories get a
        bonus. Each alone ranked below the fusion on the similar-paper sets of
        benchmarks/search_quality.py (docs/benchmarks.md, "Similar papers")."""
        papers = [p for p in (resolve(self.store, pid) for pid in paper_ids) if p is not None]
        if not papers:
            raise NotFound(f"none of {', '.join(map(str, paper_ids))} is in this store")
        return self.like(papers, limit=limit)

    def like(self, papers: Sequence[Paper], *, limit: int = 10) -> list[Hit]:
        """:meth:`more_like` for papers already read (a paper page has its paper: reading
        it again costs a lookup)."""
        papers = list(papers)
        limit = max(int(limit), 0)
        if limit == 0:
            return []
        self.refresh()
        exclude = {p.id for p in papers}
        depth = max(SIMILAR_DEPTH, limit)
        # The dense neighbours in another thread while this one reads the full-text and
        # author rankings: numpy's scan and tantivy both release the GIL, so on two idle
        # cores the page waits for the longer of the two instead of their sum.
        dense = self._pool.submit(self._dense_neighbours, papers, depth, exclude)
        texts = [f"{p.title}\n{p.abstract}" for p in papers]
        text = [pid for pid, _ in self.fulltext.more_like_this(texts, limit=depth, exclude=exclude)]
        coauthored = self._coauthored(papers, depth, exclude)
        rankings, weights = [], []
        nearest = dense.result()
        if nearest:
            rankings.append(nearest)
            weights.append(SIMILAR_WEIGHTS["dense"])
        rankings.append(text)
        weights.append(SIMILAR_WEIGHTS["text"])
        if coauthored:
            rankings.append(coauthored)
            weights.append(SIMILAR_WEIGHTS["authors"])
        fused = reciprocal_rank_fusion(rankings, k=self.settings.fusion_k, weights=weights)
        fused = self._alike_first(papers, set(coauthored), fused[: max(limit, SIMILAR_RERANK)])
        return visible_hits(self.store, fused[:limit])

    def _dense_neighbours(self, papers: list[Paper], depth: int, exclude: set[str]) -> list[str]:
        """The ``depth`` papers whose embeddings are nearest the mean of ``papers``'."""
        vectors = self._paper_vectors(papers)
        if not vectors:
            return []
        centre = np.mean(vectors, axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        return [pid for pid, _ in self.vectors.knn(centre, depth, exclude=exclude)]

    def _coauthored(self, papers: list[Paper], depth: int, exclude: set[str]) -> list[str]:
        """Up to ``depth`` papers by the authors of ``papers`` (their first
        ``MAX_AUTHORS`` each), those sharing the most telling authors first: each shared
        author counts ln(1 + depth / papers read of them), so a rare name outweighs a
        common one, two outweigh one; then the latest. Bounded whatever the names: only
        the newest ``per_author`` papers of each author are read (an index range each),
        enough to fill the list twice over, so "Wei Zhang" on thousands of papers costs
        what a rare name does."""
        names = list(dict.fromkeys(a for p in papers for a in p.authors[:MAX_AUTHORS]))
        if not names:
            return []
        per_author = min(depth, max(COAUTHOR_MIN, -(-2 * depth // len(names))))
        found = self.store.newest_by_authors(names, per_author=per_author)
        score: dict[str, float] = {}
        order: dict[str, int] = {}
        for ids_ in found.values():
            weight = math.log1p(depth / max(len(ids_), 1))
            for rank, pid in enumerate(ids_):
                if pid not in exclude:
                    score[pid] = score.get(pid, 0.0) + weight
                    order[pid] = min(order.get(pid, rank), rank)
        return sorted(score, key=lambda pid: (-score[pid], order[pid]))[:depth]

    def _paper_vectors(self, papers: list[Paper]) -> list[np.ndarray]:
        """The stored embeddings of ``papers``; a paper without one yet (ingested since the
        last ``index build``) is embedded on the fly from its title and abstract by the
        query model (truncated as queries are: a few ms), so its page still gets dense
        neighbours from the vector index instead of full text alone."""
        stored = self.vectors.get([p.id for p in papers])
        missing = [p for p in papers if p.id not in stored]
        if missing and self.vectors.has_vectors():
            from paperstand.index.embeddings import document_text

            try:
                for paper in missing:
                    text = document_text(paper.title, paper.abstract)
                    stored[paper.id] = self.embedder.embed_query(text)
            except PaperstandError as exc:  # e.g. the model package is missing
                log.warning("similar papers without embeddings: %s", exc)
        return list(stored.values())

    def _alike_first(
        self, papers: list[Paper], coauthored: set[str], fused: list[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """Raise the fused score of papers sharing an author, and of papers sharing a
        primary category, with ``papers``."""
        primaries = list(dict.fromkeys(p.categories[0] for p in papers if p.categories))
        ids_ = [pid for pid, _ in fused]
        same_category: set[str] = set()
        for category in primaries[:MAX_CATEGORIES]:
            same_category |= self.fulltext.filter_ids(ids_, Filters(category=category))
        boosted = [
            (
                pid,
                score
                * (1 + AUTHOR_BONUS * (pid in coauthored))
                * (1 + CATEGORY_BONUS * (pid in same_category)),
            )
            for pid, score in fused
        ]
        return sorted(boosted, key=lambda hit: -hit[1])
