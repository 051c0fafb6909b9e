"""BM25 full text over real papers: ranking, operators, filters, hostile text, syncing."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperstand.index import fulltext
from paperstand.index.fulltext import FullTextIndex
from paperstand.index.query import Filters, parse_query
from paperstand.models import Paper
from paperstand.store import Store
from tests.search_corpus import Corpus

HOSTILE = [
    '"',
    '"unbalanced quote',
    "AND (",
    "OR ) NOT",
    "*",
    "-",
    ":",
    "title:",
    "author:",
    'author:"',
    "cat:",
    "+-*/\\^~!{}[]()<>",
    "field:value:other",
    "\x00",
    "diffusion\x00models",
    "ünïcödé 数学 🤖 ﷽",
    "a" * 10_000,
    "word " * 2_000,
    "",
    "   ",
    "IN [a b]",
    "title:[a TO z]",
    "'single' `back` $latex$",
]


def ids(hits: list[tuple[str, float]]) -> list[str]:
    return [pid for pid, _ in hits]


def test_an_exact_title_finds_its_paper_first(corpus: Corpus) -> None:
    for paper_id in ("2503.11685", "2503.11692", "2503.11781"):
        title = corpus.paper(paper_id).title
        assert ids(corpus.searcher.fulltext.search(title, limit=5))[0] == paper_id


def test_the_title_weighs_more_than_the_abstract(corpus: Corpus) -> None:
    # "CORDIC" is in the title of one paper; papers that only mention it in the abstract
    # must come after it.
    hits = ids(corpus.searcher.fulltext.search("cordic", limit=10))
    assert hits[0] == "2503.11685"


def test_stopwords_and_word_forms_do_not_matter(corpus: Corpus) -> None:
    # English stopwords carry nothing, and "networks"/"network" are one word once stemmed.
    plain = ids(corpus.searcher.fulltext.search("hypernetwork kolmogorov arnold", limit=5))
    wordy = ids(
        corpus.searcher.fulltext.search("the hypernetworks of a kolmogorov arnold", limit=5)
    )
    assert plain[0] == wordy[0] == "2503.11781"
    assert corpus.searcher.fulltext.full_match_score(parse_query("the of and")) == 0.0


def test_more_like_this_finds_the_same_topic_and_never_the_paper(corpus: Corpus) -> None:
    paper = corpus.paper("2503.11781")  # color matching with hypernetwork-based KANs
    hits = corpus.searcher.fulltext.more_like_this(
        [f"{paper.title}\n{paper.abstract}"], limit=10, exclude={paper.id}
    )
    assert len(hits) == 10 and paper.id not in ids(hits)
    text = " ".join(
        f"{p.title} {p.abstract}".lower() for p in corpus.store.get_papers(ids(hits)[:3])
    )
    assert "color" in text or "kolmogorov" in text
    assert corpus.searcher.fulltext.more_like_this([""], limit=10) == []


def test_author_operator_keeps_papers_of_that_author(corpus: Corpus) -> None:
    hits = corpus.searcher.fulltext.search('author:"Nicu Sebe"', limit=50)
    assert len(hits) >= 5
    for paper in corpus.store.get_papers(ids(hits)):
        assert any("sebe" in a.lower() for a in paper.authors)
    narrowed = corpus.searcher.fulltext.search('author:"Nicu Sebe" video', limit=50)
    assert 0 < len(narrowed) <= len(hits)


def test_category_operator_and_filter(corpus: Corpus) -> None:
    by_operator = corpus.searcher.fulltext.search("cat:cs.RO robot", limit=50)
    by_filter = corpus.searcher.fulltext.search(
        "robot", limit=50, filters=Filters(category="cs.ro")
    )
    assert by_operator and ids(by_operator) == ids(by_filter)
    for paper in corpus.store.get_papers(ids(by_operator)):
        assert "cs.RO" in paper.categories


def test_quoted_phrase_requires_the_words_together(corpus: Corpus) -> None:
    hits = corpus.searcher.fulltext.search('"gaussian splatting"', limit=100)
    assert hits
    for paper in corpus.store.get_papers(ids(hits)):
        text = f"{paper.title} {paper.abstract}".lower()
        assert "gaussian splat" in text  # stemmed: splats, splatting


def test_date_filters_are_inclusive_listing_days(corpus: Corpus) -> None:
    window = Filters(since="2025-03-20", until="2025-03-21")
    hits = corpus.searcher.fulltext.search("model", limit=500, filters=window)
    assert hits
    days = {p.listed for p in corpus.store.get_papers(ids(hits))}
    assert days == {"2025-03-20", "2025-03-21"}


def test_has_code_keeps_papers_with_a_repository(corpus: Corpus) -> None:
    hits = corpus.searcher.fulltext.search("model", limit=500, filters=Filters(has_code=True))
    assert hits
    assert all(p.github_repo for p in corpus.store.get_papers(ids(hits)))


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_gives_results_or_nothing(corpus: Corpus, text: str) -> None:
    hits = corpus.searcher.fulltext.search(text, limit=10)
    assert isinstance(hits, list)
    hits = corpus.searcher.fulltext.search(text, limit=10, filters=Filters(category="cs.CV"))
    assert isinstance(hits, list)


def test_the_parser_drops_syntax_and_keeps_operators() -> None:
    parsed = parse_query('AND ( "Neural Operators" author:"Yann LeCun" cat:cs.LG -fast* x:y')
    assert parsed.phrases == [["neural", "operators"]]
    assert parsed.authors == ["Yann LeCun"]
    assert parsed.categories == ["cs.LG"]
    assert parsed.words == ["and", "fast", "x", "y"]


def test_sync_follows_inserts_updates_and_deletions(store: Store, tmp_path: Path) -> None:
    index = FullTextIndex(tmp_path / "fulltext")
    store.upsert_papers(
        [
            Paper(id="2501.00001", title="Quokka detection in the wild", listed="2025-01-02"),
            Paper(id="2501.00002", title="Wombat tracking", listed="2025-01-02"),
        ]
    )
    assert index.sync(store) == 2
    assert ids(index.search("quokka")) == ["2501.00001"]
    store.upsert_papers([Paper(id="2501.00002", title="Wombat and quokka tracking", version=2)])
    assert index.sync(store) == 1
    assert sorted(ids(index.search("quokka"))) == ["2501.00001", "2501.00002"]
    store.upsert_papers([Paper(id="2501.00001", deleted=True)])
    index.sync(store)
    assert ids(index.search("quokka")) == ["2501.00002"]
    assert index.sync(store) == 0
    # Another process (here: another object) sees the same index and its revision.
    again = FullTextIndex(tmp_path / "fulltext")
    assert again.revision == index.revision == store.revision()
    assert ids(again.search("wombat")) == ["2501.00002"]


def test_a_damaged_index_is_rebuilt(store: Store, tmp_path: Path) -> None:
    store.upsert_papers([Paper(id="2501.00003", title="Platypus genomics")])
    path = tmp_path / "fulltext"
    FullTextIndex(path).sync(store)
    (path / "paperstand.json").write_text("not json")
    index = FullTextIndex(path)
    assert index.search("platypus") == []
    index.sync(store)
    assert ids(index.search("platypus")) == ["2501.00003"]


def test_a_busy_index_is_searched_as_it_is(store: Store, tmp_path: Path) -> None:
    """Another process holding the writer (e.g. `index build` beside a server) is no error."""
    import tantivy

    path = tmp_path / "fulltext"
    index = FullTextIndex(path)
    store.upsert_papers([Paper(id="2501.00004", title="Echidna spines")])
    index.sync(store)
    store.upsert_papers([Paper(id="2501.00005", title="Echidna eggs")])
    other = tantivy.Index.open(str(path)).writer(heap_size=15_000_000, num_threads=1)
    assert index.sync(store) == 0
    assert ids(index.search("echidna")) == ["2501.00004"]
    del other  # the other process is done
    assert index.sync(store) == 1
    assert sorted(ids(index.search("echidna"))) == ["2501.00004", "2501.00005"]


def test_a_word_in_most_papers_is_left_out_beside_telling_ones(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring every paper that holds "model" is what a query pays for it at scale, for a
    weight that barely moves the ranking; alone, or in a small index, it is still searched."""
    store.upsert_papers(
        [
            Paper(id="2501.00011", title="A quokka model"),
            Paper(id="2501.00012", title="Wombat models"),
            Paper(id="2501.00013", title="Modelling platypus"),
            Paper(id="2501.00014", title="Echidna eggs"),
        ]
    )
    index = FullTextIndex(tmp_path / "fulltext")
    index.sync(store)
    assert len(index.search("quokka model")) == 3  # a small index: exact BM25
    monkeypatch.setattr(fulltext, "COMMON_FROM", 4)  # as if it held millions
    assert ids(index.search("quokka model")) == ["2501.00011"]
    assert sorted(ids(index.search("models"))) == ["2501.00011", "2501.00012", "2501.00013"]
    # "eggs" is in one paper of four: kept.
    assert ids(index.search("echidna eggs")) == ["2501.00014"]
