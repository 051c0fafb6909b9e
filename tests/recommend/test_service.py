"""The "for you" service on both backends, over 480 real arXiv papers and their MiniLM
vectors (tests/topics/slice.py): what a reader likes decides what comes first, thumbs
move the ranking, every reason names a liked paper that exists, and a reader without
signals is sent to onboarding."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from paperstand import follows, library
from paperstand.digest.content import Contents, Period
from paperstand.errors import InvalidInput, NotFound
from paperstand.recommend import service
from paperstand.recommend.model import Reason
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.store.digests import Subscriber
from tests.topics import slice as data

READER, OTHER = 1, 2
DAYS = 14  # 2026-03-18 .. 2026-03-31, the last two weeks of the slice


@pytest.fixture
def loaded(store: Store) -> Store:
    data.load(store)
    for n in (READER, OTHER):
        store.accounts.add_user(f"u{n}@lab.example", f"u{n}", None)
    return store


def gnn_ids() -> set[str]:
    return {r["id"] for r, gnn in zip(data.rows(), data.is_gnn(), strict=True) if gnn}


def early(ids: set[str], count: int) -> list[str]:
    """``count`` of ``ids`` listed before the feed's window, oldest first."""
    found = [r["id"] for r in data.rows() if r["id"] in ids and r["listed"] < "2026-03-18"]
    return sorted(found)[:count]


def like(store: Store, ids: list[str]) -> None:
    for paper_id in ids:
        store.community.vote(READER, paper_id, up=True)


def feed(store: Store, user: int = READER, limit: int = 20) -> service.ForYou:
    return service.for_you(store, data.MODEL, user, days=DAYS, limit=limit)


def test_a_reader_of_graph_neural_networks_gets_graph_papers_first(loaded: Store) -> None:
    gnn = gnn_ids()
    like(loaded, early(gnn, 6))
    found = feed(loaded)
    assert not found.onboarding and (found.first, found.last) == ("2026-03-18", "2026-03-31")
    top = [pick.paper.id for pick in found.picks]
    in_window = [r["id"] for r in data.rows() if r["listed"] >= "2026-03-18"]
    base_rate = len(gnn & set(in_window)) / len(in_window)
    assert sum(p in gnn for p in top[:5]) >= 4
    assert sum(p in gnn for p in top[:10]) / 10 > 3 * base_rate
    assert set(top).isdisjoint(early(gnn, 6)), "liked papers are not recommended again"


def test_thumbs_down_on_a_topic_pushes_it_down(loaded: Store) -> None:
    gnn = gnn_ids()
    physics = {r["id"] for r in data.rows() if r["categories"][0].startswith("cond-mat")}
    like(loaded, early(gnn, 4) + early(physics, 4))
    before = [pick.paper.id for pick in feed(loaded, limit=60).picks]
    disliked = [p for p in before if p in gnn][:3]
    for paper_id in disliked:
        service.thumb(loaded, READER, paper_id, -1)
    after = [pick.paper.id for pick in feed(loaded, limit=60).picks]
    assert set(disliked).isdisjoint(after)

    def mean_rank(order: list[str], wanted: set[str]) -> float:
        return float(np.mean([i for i, p in enumerate(order) if p in wanted][:5]))

    remaining = gnn - set(disliked)
    assert mean_rank(after, remaining) > mean_rank(before, remaining)
    # Taking the thumbs back restores the ranking.
    for paper_id in disliked:
        service.thumb(loaded, READER, paper_id, 0)
    assert [pick.paper.id for pick in feed(loaded, limit=60).picks] == before


def test_each_reason_names_liked_papers_that_exist(loaded: Store) -> None:
    liked = early(gnn_ids(), 3) + early({r["id"] for r in data.rows()}, 3)
    like(loaded, liked)
    picks = feed(loaded).picks
    assert picks
    for pick in picks:
        named = [r for r in pick.reasons if r.kind == "liked"]
        assert 1 <= len(named) <= 3
        for reason in named:
            assert reason.value in liked
            stored = loaded.get_paper(reason.value)
            assert stored is not None and stored.title == reason.title


def test_a_reader_with_no_signals_gets_onboarding(loaded: Store) -> None:
    found = feed(loaded, OTHER)
    assert found.onboarding and found.picks == []
    sample = service.onboarding_sample(loaded)
    assert len(sample) == service.ONBOARDING_SIZE
    assert len({p.id for p in sample}) == len(sample)
    # Without a topic map, one paper per primary category: the sample is diverse.
    assert len({p.categories[0] for p in sample}) >= service.ONBOARDING_SIZE - 2


def test_onboarding_needs_five_picks_or_pasted_ids(loaded: Store) -> None:
    sample = [p.id for p in service.onboarding_sample(loaded)]
    with pytest.raises(InvalidInput, match="at least 5"):
        service.onboard(loaded, OTHER, sample[:4])
    done = service.onboard(loaded, OTHER, [], "2603.99999, " + early(gnn_ids(), 1)[0])
    assert done.unknown == ["2603.99999"] and len(done.recorded) == 1
    assert not feed(loaded, OTHER).onboarding
    with pytest.raises(InvalidInput, match="is in this store"):
        service.onboard(loaded, READER, [], "2603.99998")


def test_thumbs_on_unknown_papers_and_values_are_refused(loaded: Store) -> None:
    with pytest.raises(NotFound):
        service.thumb(loaded, READER, "2603.99999", 1)
    with pytest.raises(InvalidInput):
        service.thumb(loaded, READER, early(gnn_ids(), 1)[0], 2)
    with pytest.raises(InvalidInput):
        service.thumb(loaded, READER, "not an id", 1)


def test_many_readers_at_once_match_one_at_a_time(loaded: Store) -> None:
    like(loaded, early(gnn_ids(), 5))
    service.onboard(loaded, OTHER, [], " ".join(early({r["id"] for r in data.rows()}, 6)))
    together = service.for_many(loaded, data.MODEL, [READER, OTHER], days=DAYS, limit=10)
    for user in (READER, OTHER):
        alone = [pick.paper.id for pick in feed(loaded, user, limit=10).picks]
        assert [pick.paper.id for pick in together[user]] == alone


def test_feed_tokens_name_their_reader_until_replaced(loaded: Store) -> None:
    first = service.new_feed_token(loaded, READER)
    assert service.feed_owner(loaded, first) == READER
    second = service.new_feed_token(loaded, READER)
    assert service.feed_owner(loaded, first) is None
    assert service.feed_owner(loaded, second) == READER
    assert service.feed_owner(loaded, "psf_forged") is None


def test_the_digest_has_a_for_you_section_for_a_subscriber_with_an_account(
    loaded: Store, tmp_path
) -> None:
    like(loaded, early(gnn_ids(), 6))
    settings = Settings(home=tmp_path, embedding_model=data.MODEL)
    contents = Contents(loaded, settings, Period.week(date(2026, 3, 25)))
    reader = Subscriber(1, "u1@lab.example", "confirmed", sections=["for_you"], user_id=READER)
    digest = contents.digest_for(reader)
    assert [s.key for s in digest.sections] == ["for_you"]
    picked = [p.id for p in digest.sections[0].papers]
    assert picked and sum(p in gnn_ids() for p in picked[:3]) >= 2
    assert all("2026-03-23" <= (p.listed or "") <= "2026-03-29" for p in digest.sections[0].papers)
    anonymous = Subscriber(2, "x@lab.example", "confirmed", sections=["for_you", "daily"])
    assert [s.key for s in contents.digest_for(anonymous).sections] != ["for_you"]


def test_saved_papers_count_as_likes_and_a_followed_author_comes_first(loaded: Store) -> None:
    gnn = gnn_ids()
    for paper_id in early(gnn, 5):
        library.save(loaded, READER, paper_id)
    found = feed(loaded)
    assert not found.onboarding
    assert sum(pick.paper.id in gnn for pick in found.picks[:5]) >= 4
    # An author of a late paper far from graphs: following them puts it first, saying so.
    target = next(r for r in data.rows() if r["listed"] >= "2026-03-18" and r["id"] not in gnn)
    follows.follow(loaded, READER, "author", target["authors"][0])
    first = feed(loaded).picks[0]
    assert first.paper.id == target["id"]
    assert first.reasons[0] == Reason("author", target["authors"][0], followed=True)


def test_a_followed_category_alone_is_enough_to_start(loaded: Store) -> None:
    follows.follow(loaded, OTHER, "category", "physics.chem-ph")
    found = feed(loaded, OTHER)
    assert not found.onboarding and found.picks
    assert found.picks[0].paper.categories[0] == "physics.chem-ph"
    assert Reason("category", "physics.chem-ph", followed=True) in found.picks[0].reasons


def test_a_saved_search_ranks_its_new_papers_up_and_says_so(loaded: Store) -> None:
    like(loaded, early(gnn_ids(), 6))
    target = next(
        r for r in data.rows() if r["listed"] >= "2026-03-18" and r["id"] not in gnn_ids()
    )
    asked = []

    def search(query: str, filters: dict) -> list[str]:
        """Titles holding every word of the query, among the papers of the filters' days."""
        asked.append(filters)
        words = query.lower().split()
        days = loaded.papers_on_days(filters["since"], filters["until"], limit=1000)
        return [p.id for p in days if all(w in p.title.lower() for w in words)]

    def position(found: service.ForYou) -> int:
        order = [pick.paper.id for pick in found.picks]
        return order.index(target["id"]) if target["id"] in order else len(order)

    before = service.for_you(loaded, data.MODEL, READER, days=DAYS, limit=60, search=search)
    follows.follow(loaded, READER, "search", target["title"], {"since": "2026-01-01"})
    after = service.for_you(loaded, data.MODEL, READER, days=DAYS, limit=60, search=search)
    assert position(after) < position(before)
    pick = next(p for p in after.picks if p.paper.id == target["id"])
    assert Reason("search", target["title"], followed=True) in pick.reasons
    # The search was asked for the feed's days only (its own "since" is older).
    assert asked[-1]["since"] == "2026-03-18" and asked[-1]["until"] == "2026-03-31"
    together = service.for_many(loaded, data.MODEL, [READER], days=DAYS, limit=60, search=search)
    assert [r.paper.id for r in together[READER]] == [p.paper.id for p in after.picks]
    # Without the search (a digest, say) the follow is no reason, and no error.
    plain = service.for_you(loaded, data.MODEL, READER, days=DAYS, limit=60)
    assert all(r.kind != "search" for p in plain.picks for r in p.reasons)


def test_a_saved_search_alone_is_enough_to_start(loaded: Store) -> None:
    follows.follow(loaded, OTHER, "search", "graph")
    found = feed(loaded, OTHER)
    assert not found.onboarding
