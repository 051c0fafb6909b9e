"""The search service on real papers: known items, operators, filters, direct hits,
hostile text, similar papers, and incremental (re-)embedding."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperstand import search
from paperstand.errors import InvalidInput, NotFound
from paperstand.index.build import build_index
from paperstand.index.embeddings import get_embedder
from paperstand.models import Paper
from paperstand.search import Searcher
from paperstand.settings import Settings
from paperstand.sources.jsonl import records
from paperstand.store import Store
from tests.index.test_fulltext import HOSTILE
from tests.replay import Replay
from tests.search_corpus import TEST_MODEL, Corpus, first_listings

COLOR = "2503.11781"  # Color Matching Using Hypernetwork-Based Kolmogorov-Arnold Networks


def top(corpus: Corpus, query: str, n: int = 3, **filters) -> list[str]:
    return [h.paper.id for h in corpus.searcher.search(query, limit=n, **filters).hits]


def test_known_item_by_exact_title(corpus: Corpus) -> None:
    for paper_id in ("2503.11677", "2503.11692", "2503.11742", COLOR):
        assert top(corpus, corpus.paper(paper_id).title, 1) == [paper_id]


def test_known_item_by_misspelled_or_partial_title(corpus: Corpus) -> None:
    assert COLOR in top(corpus, "colour matchng with hypernetwork kolmogorov arnold netwroks")
    assert "2503.11692" in top(corpus, "flower pose estimaton pollination")
    assert "2503.11685" in top(corpus, "cordic is all u need")


def test_author_category_and_date_filters(corpus: Corpus) -> None:
    result = corpus.searcher.search('author:"Nicu Sebe"', limit=50)
    assert len(result.hits) >= 5
    assert all("Nicu Sebe" in h.paper.authors for h in result.hits)
    hits = corpus.searcher.search("robot grasping", limit=30, category="cs.RO").hits
    assert hits and all("cs.RO" in h.paper.categories for h in hits)
    hits = corpus.searcher.search(
        "image segmentation", limit=50, since="2025-03-24", until="2025-03-25"
    ).hits
    assert hits and {h.paper.listed for h in hits} <= {"2025-03-24", "2025-03-25"}
    hits = corpus.searcher.search("language model", limit=30, has_code=True).hits
    assert hits and all(h.paper.github_repo for h in hits)


def test_paging_and_scores(corpus: Corpus) -> None:
    first = corpus.searcher.search("video generation", limit=10)
    second = corpus.searcher.search("video generation", limit=10, offset=10)
    assert len(first.hits) == len(second.hits) == 10
    assert not {h.paper.id for h in first.hits} & {h.paper.id for h in second.hits}
    scores = [h.score for h in first.hits + second.hits]
    assert scores == sorted(scores, reverse=True)
    assert first.total is not None and first.total >= 20


def test_paging_stops_at_the_result_bound(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deep pages are not served, so no page costs more than the bound's depth."""
    monkeypatch.setattr(search, "MAX_RESULTS", 15)
    whole = corpus.searcher.search("video generation", limit=100)
    assert len(whole.hits) == whole.total == 15
    last = corpus.searcher.search("video generation", limit=10, offset=10)
    assert [h.paper.id for h in last.hits] == [h.paper.id for h in whole.hits[10:]]
    assert corpus.searcher.search("video generation", limit=10, offset=15).hits == []


def test_fusion_method_is_a_setting(corpus: Corpus) -> None:
    embedder = get_embedder(TEST_MODEL)
    by_rank = Searcher(
        corpus.store, corpus.settings.model_copy(update={"fusion_method": "rrf"}), embedder=embedder
    ).search("video generation", limit=20)
    searcher = Searcher(
        corpus.store,
        corpus.settings.model_copy(update={"fusion_method": "score"}),
        embedder=embedder,
    )
    by_score = searcher.search("video generation", limit=20)
    # Normalised scores: full text gives at most 1, dense at most its default weight 0.5.
    assert all(0 <= h.score <= 1.5 for h in by_score.hits)
    assert max(h.score for h in by_rank.hits) < 2 / 61
    assert len(by_score.hits) == 20
    assert [h.paper.id for h in by_score.hits] != [h.paper.id for h in by_rank.hits]
    # Score fusion is the default; the known-title check applies whatever the fusion.
    assert corpus.settings.fusion_method == "score"
    assert searcher.search(corpus.paper(COLOR).title, limit=1).hits[0].paper.id == COLOR


def test_dense_weight_setting_overrides_the_default(corpus: Corpus) -> None:
    """An explicit dense weight replaces the method's default: at 0 the dense list adds
    nothing, so the order is the full text's own."""
    settings = corpus.settings.model_copy(update={"fusion_weight_dense": 0.0})
    searcher = Searcher(corpus.store, settings, embedder=get_embedder(TEST_MODEL))
    hits = searcher.search("video generation", limit=10).hits
    text = corpus.searcher.fulltext.search("video generation", limit=10)
    assert [h.paper.id for h in hits] == [pid for pid, _ in text]


def test_the_first_page_ranks_alike_whatever_its_size(store: Store, tmp_path: Path) -> None:
    """Score fusion normalises each list against fixed floors (BM25 0, the cosine of the
    DENSE_DEPTH-th nearest), not against the lists as deep as a page made them read: a page
    of 5 and the first 5 of a page of 100 are the same papers in the same order."""
    ingest_listings(store, first_listings(400), tmp_path)
    build_index(store, Settings(home=tmp_path), embedder=get_embedder(TEST_MODEL))
    searcher = searcher_for(store, tmp_path)
    for query in ("video generation", "robot grasping with tactile sensing", "graph"):
        small = [h.paper.id for h in searcher.search(query, limit=5).hits]
        large = [h.paper.id for h in searcher.search(query, limit=100).hits]
        assert len(small) == 5 and len(large) > search.DENSE_DEPTH
        assert small == large[:5], query


@pytest.mark.parametrize(
    "reference",
    [
        "2503.11685",
        "2503.11685v2",
        "arXiv:2503.11685",
        " https://arxiv.org/abs/2503.11685 ",
        "https://arxiv.org/pdf/2503.11685v1",
        "arxiv.org/pdf/2503.11685.pdf",
        "https://huggingface.co/papers/2503.11685",
    ],
)
def test_a_pasted_reference_is_a_direct_hit(corpus: Corpus, reference: str) -> None:
    result = corpus.searcher.search(reference)
    assert result.direct is not None and result.direct.paper.id == "2503.11685"
    assert result.hits[0].paper.id == "2503.11685"
    assert result.notice is None


def searcher_for(store: Store, home: Path, **overrides) -> Searcher:
    settings = Settings(home=home, embedding_model=TEST_MODEL, **overrides)
    return Searcher(store, settings, embedder=get_embedder(TEST_MODEL))


def test_old_style_ids_and_dois(store: Store, tmp_path: Path) -> None:
    store.upsert_papers(
        [
            Paper(id="hep-th/9901001", title="Old style"),
            Paper(id="2401.00001", title="With a DOI", doi="10.1103/PhysRevD.99.123456"),
        ]
    )
    searcher = searcher_for(store, tmp_path, search_fetch_missing=False)
    for text, expected in [
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("https://arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("10.1103/physrevd.99.123456", "2401.00001"),
        ("https://doi.org/10.1103/PhysRevD.99.123456", "2401.00001"),
        ("doi:10.1103/PHYSREVD.99.123456", "2401.00001"),
    ]:
        result = searcher.search(text)
        assert result.direct is not None and result.direct.paper.id == expected, text


def test_a_missing_paper_is_fetched_or_reported(
    store: Store, tmp_path: Path, replay: Replay
) -> None:
    offline = searcher_for(store, tmp_path, search_fetch_missing=False)
    result = offline.search("1605.08386")
    assert result.direct is None and result.hits == []
    assert result.notice == "1605.08386 is not in this store"
    online = searcher_for(store, tmp_path, arxiv_api_url=replay.atom_url)
    result = online.search("https://arxiv.org/abs/1605.08386v1")
    assert result.direct is not None and result.direct.paper.id == "1605.08386"
    assert store.get_paper("1605.08386") is not None  # kept
    assert online.search("1605.08386").notice is None  # now simply in the store
    unknown = online.search("0000.0000")
    assert unknown.direct is None and "not in this store" in unknown.notice
    unreachable = searcher_for(store, tmp_path, arxiv_api_url="http://127.0.0.1:9/api/query")
    result = unreachable.search("2407.01234")
    assert result.direct is None and "could not be reached" in result.notice


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_never_raise(corpus: Corpus, text: str) -> None:
    result = corpus.searcher.search(text, limit=5, category="cs.CV", since="2025-03-01")
    assert isinstance(result.hits, list)
    assert all(h.paper.id for h in result.hits)


NONSENSE = [
    "asdfgh qwerty zxcvb",
    "blorf snazzle wibble",
    "ünïcödé 数学 🤖 ﷽",
    "a" * 10_000,
    "xkcd foo bar baz",
]


@pytest.mark.parametrize("text", NONSENSE)
def test_nonsense_is_flagged_as_few_good_matches(corpus: Corpus, text: str) -> None:
    result = corpus.searcher.search(text, limit=5)
    assert result.few_good_matches, (text, [h.paper.title for h in result.hits])


def test_real_queries_are_not_flagged(corpus: Corpus) -> None:
    queries = [
        corpus.paper(COLOR).title,
        "colour matchng with hypernetwork kolmogorov arnold netwroks",
        "video generation",
        "gaussian splatting",
        "robot grasping",
        "diffusion\x00models",
    ]
    for text in queries:
        result = corpus.searcher.search(text, limit=5)
        assert result.hits and not result.few_good_matches, text
    # Names are matched, not meant: an author search with hits is never flagged.
    assert not corpus.searcher.search('author:"Nicu Sebe"', limit=5).few_good_matches


def test_bad_dates_are_invalid_input(corpus: Corpus) -> None:
    for bad in ("yesterday", "2025-13-01", "2025-02-30", "\x00"):
        with pytest.raises(InvalidInput):
            corpus.searcher.search("model", since=bad)
        with pytest.raises(InvalidInput):
            corpus.searcher.search("model", until=bad)


def test_similar_papers_never_include_the_paper(corpus: Corpus) -> None:
    for paper_id in ("2503.11677", "2503.11685", COLOR):
        hits = corpus.searcher.similar(paper_id, limit=10)
        assert len(hits) == 10
        assert paper_id not in [h.paper.id for h in hits]
    # Accepts the forms a user pastes.
    assert corpus.searcher.similar("https://arxiv.org/abs/2503.11685v1", limit=3)
    with pytest.raises(NotFound):
        corpus.searcher.similar("1999.99999")


def test_more_like_several_papers(corpus: Corpus) -> None:
    seeds = ["2503.11692", "2503.11731"]
    hits = corpus.searcher.more_like(seeds + ["1999.99999"], limit=8)
    assert len(hits) == 8 and not set(seeds) & {h.paper.id for h in hits}
    with pytest.raises(NotFound):
        corpus.searcher.more_like(["1999.99999"])


def test_similar_prefers_the_same_authors_and_topic(store: Store, tmp_path: Path) -> None:
    """Wei-Shi Zheng has four papers among these 600, two of them on human motion
    generation: the similar papers of each of those two include most of the other three,
    and mostly papers of its own category."""
    ingest_listings(store, first_listings(600), tmp_path)
    settings = Settings(home=tmp_path, embedding_model=TEST_MODEL)
    build_index(store, settings, embedder=get_embedder(TEST_MODEL))
    searcher = searcher_for(store, tmp_path)
    zheng = {"2503.12769", "2503.13130", "2503.13300", "2503.14198"}
    motion = ["2503.13130", "2503.13300"]  # ChainHOI; Progressive Human Motion Generation
    for paper_id in motion:
        hits = searcher.similar(paper_id, limit=10)
        found = [h.paper.id for h in hits]
        assert paper_id not in found
        assert len(zheng & set(found)) >= 2, found
        assert sum("cs.CV" in h.paper.categories for h in hits) >= 8
    several = [h.paper for h in searcher.more_like(motion, limit=10)]
    assert not set(motion) & {p.id for p in several}
    assert zheng - set(motion) <= {p.id for p in several}
    assert sum("motion" in f"{p.title} {p.abstract}".lower() for p in several) >= 2


def test_same_author_papers_rank_shared_and_rare_authors_first(
    store: Store, tmp_path: Path
) -> None:
    """The papers by a paper's authors: those sharing two authors first, then those of its
    rare author, then those of its prolific one, of whom only the newest are read."""
    later = "2024-02-01"
    prolific = [
        Paper(id=f"2401.{n:05d}", title=f"P{n}", authors=["Common Name"], listed=f"2024-01-{n:02d}")
        for n in range(1, 26)
    ]
    store.upsert_papers(
        [
            *prolific,
            Paper(id="2402.00001", title="Q", authors=["Rare Name", "common  name"], listed=later),
            Paper(
                id="2402.00002", title="Both", authors=["Common Name", "Rare Name"], listed=later
            ),
            Paper(id="2402.00003", title="Rare", authors=["Rare Name"], listed="2023-01-01"),
        ]
    )
    searcher = searcher_for(store, tmp_path)
    paper = store.get_paper("2402.00001")
    assert paper is not None
    found = searcher._coauthored([paper], 10, {paper.id})
    assert found[:2] == ["2402.00002", "2402.00003"]
    # Then Common Name's newest papers, and no more than were read of them.
    assert found[2:] == [f"2401.{n:05d}" for n in range(25, 25 - len(found[2:]), -1)]
    assert len(found) == 10 and "2401.00001" not in found
    assert searcher._coauthored([Paper(id="x", authors=["!!!", ""])], 10, set()) == []


def ingest_listings(store: Store, rows: list[dict], tmp_path: Path) -> None:
    import orjson

    path = tmp_path / "listings.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    with path.open("rb") as stream:
        papers = [item for item in records(stream, str(path)) if isinstance(item, Paper)]
    store.upsert_papers(papers)


def test_similar_falls_back_to_full_text_without_embeddings(store: Store, tmp_path: Path) -> None:
    ingest_listings(store, first_listings(60), tmp_path)
    searcher = searcher_for(store, tmp_path)
    hits = searcher.similar("2503.11731", limit=5)  # nothing is embedded yet
    assert hits and "2503.11731" not in [h.paper.id for h in hits]


def test_a_paper_without_an_embedding_gets_dense_neighbours(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paper ingested after the last index build is embedded on the fly for its similar
    papers: with the full-text rankings silenced, its neighbours come from the vector
    index, the paper with the same text first."""
    rows = first_listings(300)
    ingest_listings(store, rows, tmp_path)
    build_index(store, Settings(home=tmp_path), embedder=get_embedder(TEST_MODEL))
    twin = dict(rows[7], id="2503.99999", authors=["Nobody Known"])
    ingest_listings(store, [twin], tmp_path)
    searcher = searcher_for(store, tmp_path)
    assert searcher.vectors.get(["2503.99999"]) == {}
    monkeypatch.setattr(searcher.fulltext, "more_like_this", lambda *a, **k: [])
    hits = searcher.similar("2503.99999", limit=5)
    assert [h.paper.id for h in hits][:1] == [rows[7]["id"]] and len(hits) == 5


def test_embedding_is_incremental_and_follows_the_model(store: Store, tmp_path: Path) -> None:
    rows = first_listings(40)
    settings = Settings(home=tmp_path, embedding_model=TEST_MODEL)
    ingest_listings(store, rows[:30], tmp_path)
    static = get_embedder(TEST_MODEL)
    report = build_index(store, settings, embedder=static)
    assert (report.indexed, report.embedded, report.up_to_date) == (30, 30, 0)
    assert build_index(store, settings, embedder=static).embedded == 0
    # A new ingest: ten new papers and one changed abstract.
    rows[0] = {**rows[0], "abstract": rows[0]["abstract"] + " Revised."}
    ingest_listings(store, rows, tmp_path)
    report = build_index(store, settings, embedder=static)
    assert (report.embedded, report.up_to_date) == (11, 29)
    # Another model: everything is embedded again, and searched with that model.
    minilm = get_embedder("minilm-l6-int8")
    report = build_index(store, settings, embedder=minilm)
    assert (report.model, report.embedded, report.up_to_date) == ("minilm-l6-int8", 40, 0)
    assert store.embedding_counts() == {"minilm-l6-int8": 40}
    searcher = Searcher(store, Settings(home=tmp_path), embedder=minilm)
    title = rows[5]["title"]
    assert searcher.search(title, limit=1).hits[0].paper.id == rows[5]["id"]
    # With embeddings the nearest one decides whether anything matches well.
    assert not searcher.search(title, limit=1).few_good_matches
    for nonsense in ("blorf snazzle wibble", "best pizza near me", "football scores yesterday"):
        assert searcher.search(nonsense, limit=5).few_good_matches, nonsense
    assert rows[5]["id"] not in [h.paper.id for h in searcher.similar(rows[5]["id"])]
