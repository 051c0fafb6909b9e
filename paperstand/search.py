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
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

import numpy as np

from paperstand import ids
from paperstand.errors import NotFound, PaperstandError
from paperstand.index.fulltext import FullTextIndex
from paperstand.index.fusion import reciprocal_rank_fusion
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
# Reciprocal rank fusion gives little weight to deep ranks, so dense search stops earlier.
DEPTH = 100
DENSE_DEPTH = 50
# Dense candidates fetched when filters apply, since they are filtered after the search.
FILTERED_DEPTH = 300
# Known-item search (Searcher._title_first): how many full-text hits have their title
# compared with the query, how alike they must be (difflib ratio of the word sequences) and
# how long the query must be for that to mean anything.
TITLE_CHECK = 5
TITLE_SIMILARITY = 0.8
TITLE_MIN_CHARS = 12
# Words of a paper used as the full-text query when it has no embedding yet.
FALLBACK_WORDS = 60


@dataclass
class Hit:
    paper: Paper
    score: float


@dataclass
class SearchResult:
    hits: list[Hit] = field(default_factory=list)
    total: int | None = None  # results that can be paged through (None: unknown)
    direct: Hit | None = None  # the paper a pasted id, URL or DOI names
    notice: str | None = None  # e.g. that a pasted id is not in this store


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
        self.vectors: VectorIndex = vector_index(store, self._model_name)
        self._sync_lock = threading.Lock()

    # --- parts ------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The query embedder, loaded on first use (a model takes a while to load)."""
        if self._embedder is None:
            from paperstand.index.embeddings import get_embedder

            self._embedder = get_embedder(self._model_name)
        return self._embedder

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
    ) -> SearchResult:
        """Hybrid search. Bad dates raise :class:`InvalidInput`; query text never raises."""
        filters = Filters(since=since, until=until, category=category, has_code=has_code)
        limit, offset = max(int(limit), 0), max(int(offset), 0)
        query = str(query or "")
        direct = self._direct(query)
        if direct is not None:
            return direct
        self.refresh()
        parsed = parse_query(query)
        if parsed.empty or limit == 0:
            return SearchResult(total=0)
        depth = max(DEPTH, offset + limit)
        rankings = [[pid for pid, _ in self.fulltext.search(parsed, limit=depth, filters=filters)]]
        weights = [self.settings.fusion_weight_fulltext]
        dense = self._dense(parsed, filters, max(DENSE_DEPTH, offset + limit))
        if dense:
            rankings.append(dense)
            weights.append(self.settings.fusion_weight_dense)
        fused = reciprocal_rank_fusion(rankings, k=self.settings.fusion_k, weights=weights)
        fused = self._title_first(query, rankings[0], fused)
        page = fused[offset : offset + limit]
        papers = {p.id: p for p in self.store.get_papers([pid for pid, _ in page])}
        hits = [
            Hit(papers[pid], score)
            for pid, score in page
            if pid in papers and not papers[pid].deleted
        ]
        return SearchResult(hits=hits, total=len(fused))

    def _title_first(
        self, query: str, fulltext: list[str], fused: list[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """A query that is (nearly) a paper's whole title puts that paper first.

        People often type or paste a title, sometimes misspelled. Fusion alone can rank a
        paper that both retrievers half like above the one whose title was typed, so the
        best full-text hits whose titles read almost like the query come first."""
        typed = " ".join(words(query))
        if not fused or len(typed) < TITLE_MIN_CHARS:
            return fused
        close = []
        for paper in self.store.get_papers(fulltext[:TITLE_CHECK]):
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

    def _dense(self, parsed: ParsedQuery, filters: Filters, depth: int) -> list[str]:
        """Ids of the papers nearest to the query's words, filters applied."""
        if parsed.authors or not (parsed.words or parsed.phrases):
            return []  # an author search is about names, which embeddings do not know
        if not self.vectors.has_vectors():
            return []
        if parsed.categories:
            filters = Filters(
                since=filters.since,
                until=filters.until,
                category=parsed.categories[0],
                has_code=filters.has_code,
            )
        try:
            vector = self.embedder.embed_query(parsed.text)
        except PaperstandError as exc:  # e.g. the model package is missing
            log.warning("dense search skipped: %s", exc)
            return []
        wanted = FILTERED_DEPTH if filters.active else depth
        found = [pid for pid, _ in self.vectors.knn(vector, wanted)]
        if filters.active:
            kept = self.fulltext.filter_ids(found, filters)
            found = [pid for pid in found if pid in kept]
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
        if paper is None and ref.kind == "arxiv":
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
        return self.more_like([paper.id], limit=limit)

    def more_like(self, paper_ids: Sequence[str], *, limit: int = 10) -> list[Hit]:
        """Papers near all of these (the mean of their embeddings), none of them.
        Unknown ids are left out; :class:`NotFound` when none is known."""
        papers = [p for p in (resolve(self.store, pid) for pid in paper_ids) if p is not None]
        if not papers:
            raise NotFound(f"none of {', '.join(map(str, paper_ids))} is in this store")
        limit = max(int(limit), 0)
        if limit == 0:
            return []
        exclude = {p.id for p in papers}
        vectors = list(self.vectors.get(list(exclude)).values())
        if vectors:
            centre = np.mean(vectors, axis=0)
            centre /= np.linalg.norm(centre) or 1.0
            found = self.vectors.knn(centre, limit, exclude=exclude)
        else:  # not embedded yet: their words, by BM25
            self.refresh()
            text = " ".join(f"{p.title} {p.title} {p.abstract}" for p in papers)
            query = ParsedQuery(words=parse_query(text).words[:FALLBACK_WORDS])
            found = [
                hit
                for hit in self.fulltext.search(query, limit=limit + len(exclude))
                if hit[0] not in exclude
            ][:limit]
        by_id = {p.id: p for p in self.store.get_papers([pid for pid, _ in found])}
        return [
            Hit(by_id[pid], score)
            for pid, score in found
            if pid in by_id and not by_id[pid].deleted
        ]
