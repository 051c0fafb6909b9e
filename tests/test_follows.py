"""Follows and author claims, the service over the store, on both backends: what counts as
new since a visit, following twice, bad input, claims from pending to approved, and papers a
claimed author hides."""

from __future__ import annotations

import pytest

from paperstand import follows
from paperstand.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleBroken
from paperstand.models import Paper
from paperstand.store import Store


def _user(store: Store, name: str) -> int:
    return store.accounts.add_user(f"{name}@lab.example", name, None).id


def _paper(pid: str, authors: list[str], categories: list[str] | None = None) -> Paper:
    return Paper(
        id=pid,
        title=f"Paper {pid}",
        authors=authors,
        categories=categories or ["cs.LG"],
        listed="2026-04-01",
    )


@pytest.fixture
def ada(store: Store) -> int:
    store.upsert_papers([_paper("2604.00001", ["Zoë Ångström", "Bo Sample"], ["cs.CL"])])
    return _user(store, "ada")


def test_a_follow_shows_the_papers_that_arrive_after_it(store: Store, ada: int) -> None:
    made, new = follows.follow(store, ada, "author", "zoe  angstrom")
    assert new and made.kind == "author" and made.value == "zoe angstrom"
    again, new = follows.follow(store, ada, "author", "ZOË ÅNGSTRÖM")
    assert (again.id, new) == (made.id, False)
    follows.follow(store, ada, "category", "cs.CL")
    # The author's paper from before the follow is not new.
    assert follows.unseen_count(store, ada) == 0
    store.upsert_papers(
        [
            _paper("2604.00002", ["Zoë Ångström"], ["cs.CL"]),
            _paper("2604.00003", ["Someone Else"], ["cs.CL"]),
            _paper("2604.00004", ["Someone Else"], ["math.AG"]),
        ]
    )
    # Each paper once, though 2604.00002 matches both follows.
    assert follows.unseen_count(store, ada) == 2
    page = follows.following(store, ada)
    by_kind = {news.follow.kind: [p.id for p in news.papers] for news in page}
    assert by_kind == {"author": ["2604.00002"], "category": ["2604.00003", "2604.00002"]}
    # Visited: nothing unseen, and a reload shows the same papers.
    assert follows.unseen_count(store, ada) == 0
    assert [[p.id for p in n.papers] for n in follows.following(store, ada)] == [
        [p.id for p in n.papers] for n in page
    ]
    # An update of a known paper is not a new paper.
    store.upsert_papers([_paper("2604.00001", ["Zoë Ångström", "Bo Sample"], ["cs.CL", "cs.AI"])])
    assert follows.unseen_count(store, ada) == 0
    assert [(f.kind, f.value) for f in follows.follows_of(store, ada)] == [
        ("author", "zoe angstrom"),
        ("category", "cs.CL"),
    ]


def test_new_papers_of_a_follow_come_latest_arrival_first_by_id(store: Store, ada: int) -> None:
    """The store finds them by pk in the author and category rows and answers with ids."""
    author, _ = follows.follow(store, ada, "author", "Bo Sample")
    category, _ = follows.follow(store, ada, "category", "math.AG")
    arrivals = ["2604.00009", "2604.00003", "2604.00007"]
    for pid in arrivals:
        store.upsert_papers([_paper(pid, ["Bo Sample"], ["math.AG"])])
    found = store.follows.new_papers(ada, unseen=True, per_follow=2)
    assert found == {author.id: arrivals[:0:-1], category.id: arrivals[:0:-1]}


def test_saved_searches_take_their_results_from_the_search_given(store: Store, ada: int) -> None:
    made, _ = follows.follow(
        store, ada, "search", "  neural   operators ", {"category": "cs.LG", "since": "2026-04-01"}
    )
    assert (made.value, made.filters) == (
        "neural operators",
        {"category": "cs.LG", "since": "2026-04-01"},
    )
    asked = []

    def search(query: str, filters: dict) -> list[str]:
        asked.append((query, filters))
        return ["2604.00009", "2604.00001"]

    assert follows.unseen_count(store, ada, search) == 0  # 2604.00001 is older than the follow
    store.upsert_papers([_paper("2604.00009", ["New Author"])])
    assert follows.unseen_count(store, ada, search) == 1
    assert asked[0] == ("neural operators", {"category": "cs.LG", "since": "2026-04-01"})


def test_unfollow_and_bad_follows(store: Store, ada: int) -> None:
    made, _ = follows.follow(store, ada, "category", "hep-th")
    other = _user(store, "bo")
    with pytest.raises(NotFound):
        follows.unfollow(store, other, made.id)
    follows.unfollow(store, ada, made.id)
    assert follows.follows_of(store, ada) == []
    with pytest.raises(NotFound):
        follows.unfollow(store, ada, made.id)
    for kind, value, filters in (
        ("author", "   ", None),
        ("author", "a\x00b", None),
        ("author", "x" * 301, None),
        ("category", "<script>", None),
        ("search", "", None),
        ("search", "q", {"since": "2026-02-30"}),
        ("search", "q", {"colour": "red"}),
        ("search", "q", {"has_code": "yes"}),
        ("author", "Ada", {"since": "2026-01-01"}),
        ("planet", "Mars", None),
    ):
        with pytest.raises(InvalidInput):
            follows.follow(store, ada, kind, value, filters)
    assert follows.follows_of(store, ada) == []


def test_follows_per_account_are_bounded(store: Store, ada: int, monkeypatch) -> None:
    monkeypatch.setattr(follows, "MAX_FOLLOWS", 2)
    follows.follow(store, ada, "category", "cs.LG")
    follows.follow(store, ada, "category", "cs.CL")
    follows.follow(store, ada, "category", "cs.CL")  # a repeat is no new follow
    with pytest.raises(RuleBroken):
        follows.follow(store, ada, "category", "cs.AI")


def test_claim_approve_hide(store: Store, ada: int) -> None:
    store.upsert_papers([_paper("2604.00002", ["Zoë Ångström"])])
    made = follows.claim(store, ada, "arXiv:2604.00001", "zoe angstrom")
    assert (made.status, made.author, made.user_name) == ("pending", "Zoë Ångström", "ada")
    with pytest.raises(Conflict):
        follows.claim(store, ada, "2604.00001", "Zoë Ångström")
    with pytest.raises(InvalidInput):
        follows.claim(store, ada, "2604.00001", "Not On It")
    with pytest.raises(NotFound):
        follows.claim(store, ada, "2699.99999", "Zoë Ångström")
    # Pending: nothing linked yet, and hiding is refused.
    assert follows.claimed_paper_ids(store, ada) == set()
    assert follows.author_claims(store, "Zoë Ångström").accounts == []
    with pytest.raises(Forbidden):
        follows.hide_from_author(store, ada, "Zoë Ångström", "2604.00002", hidden=True)

    assert [c.id for c in store.follows.claims(status="pending")] == [made.id]
    follows.decide(store, made.id, approve=True)
    assert follows.claimed_paper_ids(store, ada) == {"2604.00001"}
    shown = follows.author_claims(store, "ZOE ANGSTROM")
    assert (shown.accounts, shown.claimed, shown.hidden) == (["ada"], ["2604.00001"], set())

    follows.hide_from_author(store, ada, "Zoë Ångström", "2604.00002", hidden=True)
    assert follows.author_claims(store, "Zoë Ångström").hidden == {"2604.00002"}
    with pytest.raises(NotFound):  # not a paper of this author
        follows.hide_from_author(store, ada, "Zoë Ångström", "2699.99999", hidden=True)
    follows.hide_from_author(store, ada, "Zoë Ångström", "2604.00002", hidden=False)
    assert follows.author_claims(store, "Zoë Ångström").hidden == set()

    follows.decide(store, made.id, approve=False)
    assert follows.claimed_paper_ids(store, ada) == set()
    with pytest.raises(NotFound):
        follows.decide(store, 10**9, approve=True)


def test_deleting_an_account_deletes_its_follows_and_claims(store: Store, ada: int) -> None:
    follows.follow(store, ada, "author", "Bo Sample")
    follows.claim(store, ada, "2604.00001", "Bo Sample")
    store.accounts.delete_user(ada)
    assert store.follows.claims() == []
    assert follows.follows_of(store, ada) == []
