"""BM25 full-text search over title, abstract and authors, with tantivy.

Why tantivy and not the store's own FTS5 table: natural-language queries need OR
semantics, and on the 118,620 papers of the shared data FTS5 answered OR queries in p50
87 ms / p95 118 ms, while tantivy answered the same queries in p50 2.1 ms / p95 2.8 ms
(`/work/shared/FACTS.md`, re-measured by ``benchmarks/search_speed.py``). Search must stay
under 30 ms at p95 with the query embedding and the fusion included, so FTS5 cannot be the
engine at that size.

The index is a directory beside the database (``HOME/fulltext``). It is derived data: it
remembers the highest paper revision it has seen (see ``Store.revision``) and
:meth:`FullTextIndex.sync` adds what changed since, so it catches up after every ingest
and can be deleted at any time (the next sync rebuilds it). The same index serves the
PostgreSQL backend.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import shutil
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import tantivy

from paperstand.index.query import Filters, ParsedQuery, parse_query
from paperstand.models import Paper
from paperstand.store import Store

log = logging.getLogger(__name__)

# Bump when the schema or the analysis changes: an index of another version is rebuilt.
SCHEMA_VERSION = 2
# Field weights of the BM25 query. "text" is title and abstract as ONE field: BM25 summed
# over separate title and abstract fields (each with its own length normalisation and
# document frequencies) ranked SciFact at nDCG@10 0.666 even unboosted and 0.646 with the
# title at 1.5, against 0.686 for the one field (bm25s, flat, reaches 0.686 too); a small
# extra weight for the title's own words adds about 0.005 on SciFact's training queries
# (docs/benchmarks.md). Typed titles are found by Searcher's known-title check.
FIELD_BOOSTS = {"text": 1.0, "title": 0.3, "authors": 1.2}
TEXT_FIELDS = list(FIELD_BOOSTS)
# English analysis of title and abstract: word tokens, very long tokens dropped (a
# 10,000-letter "word" is no query), lower case, English stopwords, Snowball stemming.
ANALYZER = "english"
MAX_TOKEN_CHARS = 40
# "More like this": a paper's title and abstract become a query of its most telling words,
# by tf-idf (a whole abstract as an OR query would cost tens of milliseconds at 100k papers
# and weigh every common word). Words in fewer than MLT_MIN_DF papers are typos or names of
# one paper's own making and match nothing useful.
MLT_TERMS = 30
MLT_MIN_DF = 2
# ... and the query must not read more postings than this share of the papers in all (the
# sum of its words' document frequencies): a word in half the archive costs as much to
# score as the rest together and tells little. Unbounded, the 30 words of an abstract read
# about 3.3M postings at 2.73M papers (50 ms of CPU); bounded, a few hundred thousand.
MLT_POSTINGS_SHARE = 0.1
MAX_MLT_CHARS = 5000
# Query words found in more than this share of the papers are left out of a query that has
# other words (FullTextIndex._telling), in an index of at least COMMON_FROM papers: below
# that a query takes a few ms whatever its words, so the ranking stays exact BM25 (on the
# 289 seed titles the rule cost 0.002 nDCG@10). Measured on 200 title queries at 2.73M
# papers: 96% of the top 10 kept, the query's p95 CPU -21% (docs/benchmarks.md).
COMMON_SHARE = 0.5
COMMON_FROM = 500_000
_META = "paperstand.json"
_WRITER_HEAP = 64_000_000
# A feed (:meth:`FullTextIndex.feeding`) runs beside a bulk load of millions of papers, and
# each time its heap fills, tantivy writes a segment; once eight segments of a size stand,
# its merge policy rewrites them into one. At 256 MB a segment held 292,000 papers, so a
# load of the whole arXiv (2.73M) made ten, and near its end tantivy merged eight of them
# (2.34M papers rewritten) while the load finished, the commit then waiting for the merge.
# At 1 GB a segment holds about 1.35 million: two segments for the whole arXiv, no merge
# before about ten million papers. The heap is filled as papers come: a small ingest
# uses little of it.
_FEED_HEAP = 1_000_000_000


def english_analyzer() -> tantivy.TextAnalyzer:
    """The analysis of title and abstract, for the index and for queries alike."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name=ANALYZER)
    builder.add_text_field("text", tokenizer_name=ANALYZER)  # title + abstract
    builder.add_text_field("authors", tokenizer_name="default")
    builder.add_text_field("categories", tokenizer_name="raw")  # lower-cased, one per value
    builder.add_integer_field("day", indexed=True, fast=True)  # YYYYMMDD, 0 when unknown
    builder.add_integer_field("has_code", indexed=True, fast=True)
    return builder.build()


def _day_number(day: str | None) -> int:
    return int(day.replace("-", "")) if day else 0


def _document(paper: Paper) -> tantivy.Document:
    return tantivy.Document(
        id=paper.id,
        title=paper.title,
        text=f"{paper.title}\n{paper.abstract}",
        # One value per author, so a phrase never runs from one name into the next.
        authors=paper.authors or [""],
        categories=[c.lower() for c in paper.categories] or [""],
        day=_day_number(paper.listing_day),
        has_code=int(bool(paper.github_repo)),
    )


class FullTextIndex:
    """A tantivy index of the papers of one store, kept in step by :meth:`sync`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.schema = _schema()
        self._analyzer = english_analyzer()
        self._index = self._open()
        self._revision = self._read_meta().get("revision", 0)

    # --- keeping in step --------------------------------------------------------------

    def _read_meta(self) -> dict:
        try:
            return json.loads((self.path / _META).read_text())
        except (OSError, ValueError):
            return {}

    def _open(self) -> tantivy.Index:
        meta = self._read_meta()
        if meta.get("schema") != SCHEMA_VERSION or not tantivy.Index.exists(str(self.path)):
            # A missing, foreign or older index: start again, it is derived data.
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(self.schema, path=str(self.path))
            self._write_meta(0)
        else:
            index = tantivy.Index.open(str(self.path))
        # Analyzers are not stored in the index: each opening registers its own.
        index.register_tokenizer(ANALYZER, self._analyzer)
        return index

    def _write_meta(self, revision: int) -> None:
        tmp = self.path / (_META + ".tmp")
        tmp.write_text(json.dumps({"schema": SCHEMA_VERSION, "revision": revision}))
        tmp.replace(self.path / _META)

    @property
    def revision(self) -> int:
        """The highest paper revision this index holds."""
        return self._revision

    def sync(self, store: Store, progress: Callable[[int], None] | None = None) -> int:
        """Index the papers changed in ``store`` since the last sync; returns how many.

        Another process holding the writer (a server while `index build` runs) is not an
        error: this process then searches the index as it is and catches up next time.
        """
        on_disk = self._read_meta().get("revision", 0)
        if on_disk != self._revision:  # another process wrote: see its commits
            self._index.reload()
            self._revision = on_disk
        target = store.revision()
        if target == self._revision:
            return 0
        if target < self._revision:  # the store was replaced or restored: rebuild
            return self.rebuild(store, progress)
        try:
            writer = self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        except ValueError as exc:
            log.info("full-text index busy, searching it as it is: %s", exc)
            return 0
        done = 0
        revision = self._revision
        try:
            for batch in store.iter_changed_papers(self._revision, batch_size=2000):
                revision = batch[-1][0]
                for _, paper in batch:
                    if self._revision:  # a fresh index has nothing to replace
                        writer.delete_documents_by_term("id", paper.id)
                    if not paper.deleted:
                        writer.add_document(_document(paper))
                done += len(batch)
                if progress:
                    progress(done)
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        self._write_meta(revision)
        self._revision = revision
        self._index.reload()
        return done

    @contextmanager
    def feeding(self, store: Store) -> Iterator[Feed | None]:
        """Index papers as an ingest writes them (:meth:`Feed.add` with each upsert's
        ``written``), committed when the block ends, instead of reading them back from the
        store afterwards. Yields None when the index is not up to date with the store at the
        start, or another process holds its writer: the caller's :meth:`sync` afterwards
        does the work then. Only an unbroken run of revisions following what the index held
        is fed (see :meth:`Feed.add`), so the revision recorded stays exact; an error or an
        interruption rolls the block back, and the next sync catches up from before it."""
        self.sync(store)
        if store.revision() != self._revision:
            yield None
            return
        try:
            writer = self._index.writer(heap_size=_FEED_HEAP, num_threads=1)
        except ValueError as exc:
            log.info("full-text index busy, indexing after the ingest: %s", exc)
            yield None
            return
        feed = Feed(writer, self._revision, self._committed)
        try:
            yield feed
            feed.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # also gives up the writer's lock

    def _committed(self, revision: int) -> None:
        """Record that the index holds every revision up to ``revision``, and search it."""
        self._write_meta(revision)
        self._revision = revision
        self._index.reload()

    def rebuild(self, store: Store, progress: Callable[[int], None] | None = None) -> int:
        """Drop the index and index every paper again."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._index = self._open()
        self._revision = 0
        return self.sync(store, progress)

    # --- searching --------------------------------------------------------------------

    def search(
        self,
        query: str | ParsedQuery,
        *,
        limit: int = 100,
        filters: Filters | None = None,
    ) -> list[tuple[str, float]]:
        """(paper id, BM25 score) of the best matches, best first. Never raises for odd
        text: what cannot be searched gives an empty list."""
        parsed = parse_query(query) if isinstance(query, str) else query
        built = self._build(parsed, filters or Filters())
        if built is None or limit <= 0:
            return []
        try:
            searcher = self._index.searcher()
            result = searcher.search(built, limit=limit, count=False)
            return [(searcher.doc(addr)["id"][0], score) for score, addr in result.hits]
        except ValueError as exc:  # defensive: the pieces are sanitised already
            log.warning("full-text query failed: %s", exc)
            return []

    def full_match_score(self, parsed: ParsedQuery) -> float:
        """About the BM25 score of a paper of average length holding each of the query's
        words once: the sum of their inverse document frequencies, a word no paper holds
        counting as the rarest. A best hit scoring a small part of this matched only the
        query's common words (or none); :class:`Searcher` reads that as "no good match"."""
        terms = {
            token
            for piece in [*parsed.words, *(w for p in parsed.phrases for w in p)]
            for token in self._analyzer.analyze(piece)
        }
        if not terms:
            return 0.0
        searcher = self._index.searcher()
        total = searcher.num_docs
        return sum(
            math.log(1 + (total - df + 0.5) / (df + 0.5))
            for df in (searcher.doc_freq("text", term) for term in terms)
        )

    def more_like_this(
        self, texts: Sequence[str], *, limit: int = 100, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        """(paper id, BM25 score) of the papers sharing most telling words with ``texts``
        (the title and abstract of one paper or several), best first, none in ``exclude``."""
        counts = Counter(
            token for text in texts for token in self._analyzer.analyze(text[:MAX_MLT_CHARS])
        )
        if not counts or limit <= 0:
            return []
        searcher = self._index.searcher()
        total = max(searcher.num_docs, 1)
        weighted = []
        for term, tf in counts.items():
            df = searcher.doc_freq("text", term)
            if df >= MLT_MIN_DF:
                weighted.append((tf * math.log(1 + total / df), term, df))
        budget = MLT_POSTINGS_SHARE * total
        best = []
        for weight, term, df in heapq.nlargest(MLT_TERMS, weighted):
            if df <= budget:
                best.append((weight, term))
                budget -= df
        if not best:
            return []
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "text", term))
                for _, term in best
            ]
        )
        return self._top(query, limit, exclude)

    def _top(
        self, query: tantivy.Query, limit: int, exclude: Collection[str]
    ) -> list[tuple[str, float]]:
        skip = set(exclude)
        searcher = self._index.searcher()
        found = searcher.search(query, limit=limit + len(skip), count=False)
        hits = [(searcher.doc(addr)["id"][0], score) for score, addr in found.hits]
        return [hit for hit in hits if hit[0] not in skip][:limit]

    def filter_ids(self, paper_ids: list[str], filters: Filters) -> set[str]:
        """Those of ``paper_ids`` that pass ``filters``, answered from the index's own
        filter fields (much cheaper than loading the papers)."""
        if not paper_ids:
            return set()
        clauses = [(tantivy.Occur.Must, tantivy.Query.term_set_query(self.schema, "id", paper_ids))]
        clauses += [(tantivy.Occur.Must, q) for q in self._filter_queries(filters)]
        try:
            searcher = self._index.searcher()
            found = searcher.search(
                tantivy.Query.boolean_query(clauses), limit=len(paper_ids), count=False
            )
            return {searcher.doc(addr)["id"][0] for _, addr in found.hits}
        except ValueError as exc:  # defensive, as in search()
            log.warning("full-text filter failed: %s", exc)
            return set()

    def _filter_queries(self, filters: Filters) -> list[tantivy.Query]:
        queries = []
        if filters.category:
            queries.append(
                tantivy.Query.term_query(self.schema, "categories", filters.category.lower())
            )
        if filters.since or filters.until:
            queries.append(
                tantivy.Query.range_query(
                    self.schema,
                    "day",
                    tantivy.FieldType.Integer,
                    _day_number(filters.since) if filters.since else None,
                    _day_number(filters.until) if filters.until else None,
                )
            )
        if filters.has_code:
            queries.append(tantivy.Query.term_query(self.schema, "has_code", 1))
        if filters.among is not None:
            queries.append(tantivy.Query.term_set_query(self.schema, "id", sorted(filters.among)))
        return queries

    def _telling(self, words: list[str]) -> list[str]:
        """``words`` without those found in more than ``COMMON_SHARE`` of the papers, unless
        no other word is left or the index is small. Such a word ("model" is in 73% of
        arXiv abstracts) weighs less than ln 2 per occurrence in BM25, so it barely moves a
        ranking, but every paper holding it is scored: at 2.7M papers "model" alone costs
        18 ms of a query (tantivy's Python search scores every match; it has no top-k
        pruning)."""
        searcher = self._index.searcher()
        if searcher.num_docs < COMMON_FROM:
            return words
        most = COMMON_SHARE * searcher.num_docs
        telling = [
            word
            for word in words
            if not (tokens := self._analyzer.analyze(word))
            or any(searcher.doc_freq("text", token) <= most for token in tokens)
        ]
        return telling or words

    def _text_query(self, parsed: ParsedQuery) -> tantivy.Query | None:
        pieces = self._telling(parsed.words)
        pieces += ['"' + " ".join(p) + '"' for p in parsed.phrases]
        if not pieces:
            return None
        # Only \w tokens and double quotes reach the parser, lower-cased so AND/OR/NOT are
        # words, not operators: the syntax cannot break.
        return self._index.parse_query(" ".join(pieces), TEXT_FIELDS, field_boosts=FIELD_BOOSTS)

    def _build(self, parsed: ParsedQuery, filters: Filters) -> tantivy.Query | None:
        musts: list[tantivy.Query] = []
        text = self._text_query(parsed)
        if text is not None:
            musts.append(text)
        for name in parsed.authors:
            tokens = parse_query(name).words
            if tokens:
                musts.append(self._index.parse_query('"' + " ".join(tokens) + '"', ["authors"]))
        for category in parsed.categories:
            musts.append(tantivy.Query.term_query(self.schema, "categories", category.lower()))
        if not musts:  # filters alone are not a search
            return None
        musts += self._filter_queries(filters)
        if len(musts) == 1:
            return musts[0]
        # Filters must match but do not score; the text part scores.
        clauses = [(tantivy.Occur.Must, musts[0])]
        clauses += [
            (tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in musts[1:]
        ]
        return tantivy.Query.boolean_query(clauses)


class Feed:
    """What :meth:`FullTextIndex.feeding` hands an ingest: papers go to the tantivy writer as
    they are stored (tantivy's own thread analyses them, beside the store's writes)."""

    def __init__(
        self, writer: tantivy.IndexWriter, revision: int, committed: Callable[[int], None]
    ) -> None:
        self._writer = writer
        self.revision = revision  # the highest revision fed, all below it fed too
        self.indexed = 0
        self._broken = False
        self._committed_revision = revision
        self._on_commit = committed

    def commit(self) -> None:
        """Commit what was fed and record its revision (nothing when nothing was fed since
        the last commit). Tantivy finishes analysing and writes the segment on its own
        threads, without the GIL: an ingest calls this in a thread of its own once its
        last batch is stored (``ingest(on_loaded=...)``), while the store builds its
        deferred indexes, and the block's end then has nothing left to commit."""
        if self.revision == self._committed_revision:
            return
        self._writer.commit()
        self._committed_revision = self.revision
        self._on_commit(self.revision)

    def add(self, written: Sequence[tuple[int, Paper, bool]]) -> None:
        """Index one upsert's papers: (revision, paper, whether it is new to the store), in
        revision order. A batch that does not follow the last one fed (another process
        wrote in between) ends the feed: the sync after the ingest takes the rest in
        revision order, so no revision is recorded as indexed while it is not."""
        if self._broken or not written:
            return
        if written[0][0] != self.revision + 1:
            self._broken = True
            return
        add, delete = self._writer.add_document, self._writer.delete_documents_by_term
        for _, paper, new in written:
            if not new:  # a new paper has no document yet: no delete to pay for
                delete("id", paper.id)
            if not paper.deleted:
                add(_document(paper))
        self.revision = written[-1][0]
        self.indexed += len(written)
