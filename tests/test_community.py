"""The community service on both backends: submissions and their rules, the job that fetches
a submitted paper, votes (also under concurrency), comments, moderation and the lists."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest

from paperstand import community
from paperstand.errors import Conflict, InvalidInput, NotFound, RateLimited, RuleBroken
from paperstand.jobs import Worker
from paperstand.models import Paper
from paperstand.ratelimit import Limiter
from paperstand.settings import Settings
from paperstand.store import Store
from tests.replay import ATOM_PATH, Reply

DAY = date(2026, 4, 30)
ALICE, BOB, CAROL, ADMIN = 1, 2, 3, 4


def paper(pid: str, **fields) -> Paper:
    defaults = {"title": f"Paper {pid}", "authors": ["A. Author"], "published": "2026-04-28"}
    return Paper(id=pid, **{**defaults, **fields})


def add_users(store: Store, count: int, first: int = 1) -> list[int]:
    """Accounts u{first}..u{first + count - 1} (no password): in a fresh store, those are
    also their ids."""
    made = [
        store.accounts.add_user(f"u{n}@lab.example", f"u{n}", None)
        for n in range(first, first + count)
    ]
    return [user.id for user in made]


@pytest.fixture(autouse=True)
def accounts(store: Store) -> None:
    assert add_users(store, 4) == [ALICE, BOB, CAROL, ADMIN]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, arxiv_delay=0, http_retries=0, submission_daily_quota=2)


def day_ids(store: Store, first: str, last: str | None = None) -> list[str]:
    entries, total = community.curated(store, first, last or first)
    assert total == len(entries)
    return [e.paper.id for e in entries]


# --- submissions ----------------------------------------------------------------------------


def test_a_stored_recent_paper_is_listed_at_once_with_its_submitter(
    store: Store, settings: Settings
) -> None:
    store.upsert_papers([paper("2604.00001", listed="2026-04-29")])
    submission = community.submit(
        store, settings, ALICE, "https://arxiv.org/abs/2604.00001v2", on=DAY
    )
    assert (submission.paper_id, submission.status, submission.day) == (
        "2604.00001",
        "ready",
        "2026-04-30",
    )
    [entry] = community.curated(store, "2026-04-30", "2026-04-30")[0]
    assert (entry.paper.id, entry.listed.submitter_id, entry.listed.day) == (
        "2604.00001",
        ALICE,
        "2026-04-30",
    )
    # It is on the day it was submitted, not on the day arXiv listed it.
    assert day_ids(store, "2026-04-29") == []
    assert store.list_jobs() == []  # nothing to fetch


def test_a_second_submission_links_to_the_first(store: Store, settings: Settings) -> None:
    store.upsert_papers([paper("2604.00001")])
    community.submit(store, settings, ALICE, "2604.00001", on=DAY)
    with pytest.raises(Conflict, match="2604.00001 was already submitted on 2026-04-30"):
        community.submit(store, settings, BOB, "arxiv.org/abs/2604.00001", on=DAY)


def test_a_paper_featured_by_hugging_face_cannot_be_submitted_again(
    store: Store, settings: Settings
) -> None:
    store.upsert_papers([paper("2604.00002", submitted_on="2026-04-29", upvotes=5)])
    with pytest.raises(Conflict, match="daily list of 2026-04-29"):
        community.submit(store, settings, ALICE, "2604.00002", on=DAY)


def test_the_daily_quota_counts_per_account_and_day(store: Store, settings: Settings) -> None:
    store.upsert_papers([paper(f"2604.0001{n}") for n in range(5)])
    community.submit(store, settings, ALICE, "2604.00010", on=DAY)
    community.submit(store, settings, ALICE, "2604.00011", on=DAY)
    with pytest.raises(RuleBroken, match="daily quota reached: 2 submissions a day"):
        community.submit(store, settings, ALICE, "2604.00012", on=DAY)
    community.submit(store, settings, BOB, "2604.00012", on=DAY)  # another account
    community.submit(store, settings, ALICE, "2604.00013", on=date(2026, 5, 1))  # next day
    assert store.community.submission("2604.00012").user_id == BOB


def test_the_age_rule(store: Store, settings: Settings) -> None:
    store.upsert_papers(
        [paper("2604.00020", published="2026-04-16"), paper("2604.00021", published="2026-04-15")]
    )
    community.submit(store, settings, ALICE, "2604.00020", on=DAY)  # 14 days: allowed
    with pytest.raises(RuleBroken, match="15 days old .* at most 14 days old"):
        community.submit(store, settings, ALICE, "2604.00021", on=DAY)
    # A paper not in the store: its id's month is enough to tell it is too old.
    with pytest.raises(RuleBroken, match="at most 14 days old"):
        community.submit(store, settings, ALICE, "1707.08567", on=DAY)
    with pytest.raises(RuleBroken, match="before 2007"):
        community.submit(store, settings, ALICE, "hep-th/9901001", on=DAY)
    assert store.list_jobs() == []


@pytest.mark.parametrize("reference", ["", "not a paper", "10.1000/xyz", "2613.00001"])
def test_submissions_need_an_arxiv_id(store: Store, settings: Settings, reference: str) -> None:
    with pytest.raises(InvalidInput):
        community.submit(store, settings, ALICE, reference, on=DAY)


def test_an_unknown_paper_is_fetched_by_a_job(store: Store, settings: Settings, replay) -> None:
    settings = settings.model_copy(
        update={"arxiv_api_url": replay.atom_url, "submission_max_age_days": 10_000}
    )
    submission = community.submit(store, settings, ALICE, "1707.08567", on=DAY)
    assert submission.status == "pending"
    assert day_ids(store, "2026-04-30") == []  # not before its metadata is here
    [job] = store.list_jobs()
    assert (job.kind, job.params) == ("submission-fetch", {"id": "1707.08567"})
    Worker(store, settings).run_one()
    assert store.community.submission("1707.08567").status == "ready"
    assert day_ids(store, "2026-04-30") == ["1707.08567"]
    assert store.get_paper("1707.08567").published.startswith("2017-07-27")
    # The job again (delivery is at least once) changes nothing.
    assert community.fetch_submitted(store, settings, "1707.08567")["status"] == "ready"


def test_the_job_rejects_a_paper_older_than_its_id_says(
    store: Store, settings: Settings, replay
) -> None:
    # A recorded answer for a November 2026 id whose first version is from 2017.
    recorded = (
        Path(__file__).parent / "data/arxiv-atom/arxivpy__id_1707.08567_s0_m100_6a1afebfc6a3.xml"
    ).read_bytes()
    params = {"id_list": "2611.01234", "sortBy": "relevance", "sortOrder": "descending"}
    replay.add(
        ATOM_PATH,
        {**params, "start": 0, "max_results": 100},
        Reply(recorded.replace(b"1707.08567", b"2611.01234")),
    )
    settings = settings.model_copy(update={"arxiv_api_url": replay.atom_url})
    community.submit(store, settings, ALICE, "2611.01234", on=date(2026, 11, 20))
    Worker(store, settings).run_one()
    submission = store.community.submission("2611.01234")
    assert submission.status == "rejected"
    assert "first version 2017-07-27" in submission.reason
    assert store.get_paper("2611.01234") is None
    with pytest.raises(RuleBroken, match="2017-07-27"):
        community.submit(store, settings, BOB, "2611.01234", on=date(2026, 11, 20))


def test_an_admin_adds_a_paper_that_is_not_on_arxiv(store: Store) -> None:
    submission = community.add_paper(
        store,
        ADMIN,
        title="  A  journal paper ",
        authors=["Ada Lovelace", " "],
        doi="https://doi.org/10.1000/XYZ.1",
        on=DAY,
    )
    assert (submission.paper_id, submission.status) == ("doi:10.1000/xyz.1", "ready")
    stored = store.get_paper("doi:10.1000/xyz.1")
    assert (stored.title, stored.authors) == ("A journal paper", ["Ada Lovelace"])
    assert day_ids(store, "2026-04-30") == ["doi:10.1000/xyz.1"]
    with pytest.raises(InvalidInput, match="not a DOI"):
        community.add_paper(store, ADMIN, title="x", authors=[], doi="2604.00001")


# --- votes ------------------------------------------------------------------------------------


def test_one_vote_per_account_kept_apart_from_hugging_face_upvotes(store: Store) -> None:
    store.upsert_papers([paper("2604.00030", submitted_on="2026-04-30", upvotes=30)])
    part = store.community
    first = community.vote(part, ALICE, "2604.00030", up=True)
    again = community.vote(part, ALICE, "https://arxiv.org/abs/2604.00030", up=True)
    assert (first.local_votes, first.hf_votes, first.upvotes, first.upvoted) == (1, 30, 31, True)
    assert again == first
    assert community.vote(part, BOB, "2604.00030", up=True).local_votes == 2
    assert community.vote(part, ALICE, "2604.00030", up=False).upvotes == 31
    assert community.vote(part, ALICE, "2604.00030", up=False).local_votes == 1
    entry = community.paper_standing(store, "2604.00030", BOB)
    assert (entry.standing.local_votes, entry.standing.hf_votes, entry.standing.upvoted) == (
        1,
        30,
        True,
    )
    assert community.paper_standing(store, "2604.00030", ALICE).standing.upvoted is False
    assert store.get_paper("2604.00030").upvotes == 30  # the imported count is untouched
    with pytest.raises(NotFound):
        community.vote(part, ALICE, "2604.99999", up=True)


def test_the_vote_limit_is_counted_in_the_votes_own_transaction(
    store: Store, tmp_path: Path
) -> None:
    store.upsert_papers([paper("2604.00032", submitted_on="2026-04-30")])
    settings = Settings(
        home=tmp_path, rate_vote="3/minute", rate_vote_ip="", rate_follow="", rate_follow_ip=""
    )
    limits = Limiter(settings, store)

    def vote(reference: str, up: bool = True) -> community.Standing:
        counting = limits.counting("vote", account=str(ALICE), address="10.0.0.1")
        return community.vote(store.community, ALICE, reference, up=up, counting=counting)

    assert vote("2604.00032").local_votes == 1
    # An unknown paper is still a hit: probing costs what voting does.
    with pytest.raises(NotFound):
        vote("2604.99999")
    assert vote("2604.00032", up=False).local_votes == 0
    with pytest.raises(RateLimited) as refused:
        vote("2604.00032")
    assert 1 <= refused.value.retry_after <= 60 and "too many votes" in str(refused.value)
    # Refused: the vote was not made, and the window it filled is the one Limiter.hit sees.
    assert store.community.vote_counts() == {}
    with pytest.raises(RateLimited):
        limits.hit("vote", account=str(ALICE), address="10.0.0.1")
    # Other accounts have their own windows; no rule at all leaves nothing to count.
    counting = limits.counting("vote", account=str(BOB), address="10.0.0.1")
    assert community.vote(store.community, BOB, "2604.00032", up=True, counting=counting).upvoted
    assert limits.counting("follow", account=str(BOB), address="10.0.0.1") is None


def test_a_vote_limit_kept_in_memory_is_counted_by_the_limiter(
    store: Store, tmp_path: Path
) -> None:
    store.upsert_papers([paper("2604.00033", submitted_on="2026-04-30")])
    settings = Settings(home=tmp_path, rate_vote="1/minute", rate_storage="memory://")
    limits = Limiter(settings, store)
    assert limits.counting("vote", account=str(ALICE)) is None  # counted already
    with pytest.raises(RateLimited):
        limits.counting("vote", account=str(ALICE))
    assert store.community.vote_counts() == {}


def test_votes_are_exact_under_concurrent_clicking(store: Store) -> None:
    store.upsert_papers([paper("2604.00031", submitted_on="2026-04-30")])
    voters, clicks = 12, 4
    first_voter = ADMIN + 1
    assert add_users(store, voters, first_voter)[0] == first_voter
    barrier = threading.Barrier(voters)
    errors: list[BaseException] = []

    def click(user: int) -> None:
        barrier.wait()
        try:
            for n in range(clicks):
                # Everyone upvotes several times; the odd users take theirs back at the end.
                community.vote(store.community, user, "2604.00031", up=True)
                if user % 2 and n == clicks - 1:
                    community.vote(store.community, user, "2604.00031", up=False)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=click, args=(user,))
        for user in range(first_voter, first_voter + voters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.community.vote_counts() == {"2604.00031": voters // 2}


def test_votes_waiting_for_the_writer_are_cast_together_each_with_its_own_answer(
    store: Store, tmp_path: Path
) -> None:
    """Group commit (SQLite): votes queued while another transaction holds the writer slot
    go in the next one transaction (one bump of the community version), and each caller still gets
    its own outcome: a standing, a 404, or a 429 with no vote."""
    store.upsert_papers(
        [paper(pid, submitted_on="2026-04-30") for pid in ("2604.00034", "2604.00035")]
    )
    voters = add_users(store, 5, ADMIN + 1)
    settings = Settings(home=tmp_path, rate_vote="1/minute", rate_vote_ip="")
    limits = Limiter(settings, store)
    part = store.community
    community.vote(
        part,
        voters[4],
        "2604.00035",
        up=True,
        counting=limits.counting("vote", account=str(voters[4])),
    )
    asks = [
        (voters[0], "2604.00034", True),
        (voters[1], "2604.00034", True),
        (voters[2], "2604.00035", True),
        (voters[3], "2604.99999", True),  # unknown paper
        (voters[4], "2604.00034", True),  # past its limit
    ]
    answers: dict[int, object] = {}

    def ask(user: int, reference: str, up: bool) -> None:
        try:
            counting = limits.counting("vote", account=str(user))
            answers[user] = community.vote(part, user, reference, up=up, counting=counting)
        except (NotFound, RateLimited) as exc:
            answers[user] = type(exc)

    version = part.version()
    threads = [threading.Thread(target=ask, args=vote) for vote in asks]
    grouped = part.dialect == "sqlite"  # PostgreSQL writes at once: each vote alone
    with part.write():  # SQLite's writer slot, taken: the votes queue behind it
        for thread in threads:
            thread.start()
        while grouped and len(part._ballots) < len(asks):  # one leader, four followers
            time.sleep(0.01)
    for thread in threads:
        thread.join()
    assert part.version() == version + (1 if grouped else 3)  # a bump per transaction
    assert answers[voters[3]] is NotFound and answers[voters[4]] is RateLimited
    assert [answers[v].upvoted for v in voters[:3]] == [True, True, True]
    # In one group, both see the count their group committed; alone, what was committed.
    assert [answers[v].local_votes for v in voters[:2]] == [2, 2] or not grouped
    assert answers[voters[2]].local_votes == 2
    assert store.community.vote_counts() == {"2604.00034": 2, "2604.00035": 2}


# --- comments ---------------------------------------------------------------------------------


def test_comments_thread_one_level_deep(store: Store) -> None:
    store.upsert_papers([paper("2604.00040", submitted_on="2026-04-30")])
    part = store.community
    top = community.comment(part, ALICE, "2604.00040", "  **Nice** paper  ")
    reply = community.comment(part, BOB, "2604.00040", "Agreed", parent_id=top.id)
    deeper = community.comment(part, CAROL, "2604.00040", "Me too", parent_id=reply.id)
    assert (top.body, top.parent_id, top.user_id) == ("**Nice** paper", None, ALICE)
    assert reply.parent_id == deeper.parent_id == top.id  # a reply to a reply: to the top
    assert community.thread(part.comments("2604.00040")) == [(top, [reply, deeper])]
    assert community.paper_standing(store, "2604.00040").standing.comments == 3
    with pytest.raises(InvalidInput, match="some text"):
        community.comment(part, ALICE, "2604.00040", " \x00 ")
    with pytest.raises(InvalidInput, match="at most 10,000"):
        community.comment(part, ALICE, "2604.00040", "x" * 10_001)
    store.upsert_papers([paper("2604.00041")])
    with pytest.raises(InvalidInput, match="to reply to"):
        community.comment(part, ALICE, "2604.00041", "elsewhere", parent_id=top.id)


def test_edit_and_delete_only_your_own_comments(store: Store) -> None:
    store.upsert_papers([paper("2604.00042")])
    part = store.community
    top = community.comment(part, ALICE, "2604.00042", "first")
    reply = community.comment(part, BOB, "2604.00042", "second", parent_id=top.id)
    with pytest.raises(NotFound):
        community.edit_comment(part, BOB, top.id, "hijacked")
    with pytest.raises(NotFound):
        part.delete_comment(top.id, BOB)
    edited = community.edit_comment(part, ALICE, top.id, "first, edited")
    assert (edited.body, edited.edited is not None) == ("first, edited", True)
    deleted = part.delete_comment(top.id, ALICE)
    assert (deleted.body, deleted.deleted) == ("", True)
    # The blank top-level comment still holds its reply; the counts leave it out.
    assert community.thread(part.comments("2604.00042")) == [(deleted, [reply])]
    assert community.paper_standing(store, "2604.00042").standing.comments == 1
    part.delete_comment(reply.id, BOB)
    assert community.thread(part.comments("2604.00042")) == []


def test_admins_hide_comments_and_papers(store: Store) -> None:
    store.upsert_papers(
        [
            paper("2604.00050", submitted_on="2026-04-30"),
            paper("2604.00051", submitted_on="2026-04-30"),
        ]
    )
    part = store.community
    spam = community.comment(part, ALICE, "2604.00050", "buy now")
    part.set_comment_hidden(spam.id, True)
    assert part.comments("2604.00050") == []
    assert [c.id for c in part.comments("2604.00050", with_hidden=True)] == [spam.id]
    assert community.paper_standing(store, "2604.00050").standing.comments == 0
    part.set_paper_hidden("2604.00051", ADMIN, True)
    part.set_paper_hidden("2604.00051", ADMIN, True)  # twice: no error
    assert day_ids(store, "2026-04-30") == ["2604.00050"]
    with pytest.raises(NotFound):
        community.paper_standing(store, "2604.00051")
    with pytest.raises(NotFound):
        community.vote(part, ALICE, "2604.00051", up=True)
    part.set_paper_hidden("2604.00051", ADMIN, False)
    assert sorted(day_ids(store, "2026-04-30")) == ["2604.00050", "2604.00051"]


# --- lists ------------------------------------------------------------------------------------


def test_the_curated_list_is_submitted_or_featured_papers_ranked_by_both_votes(
    store: Store, settings: Settings
) -> None:
    store.upsert_papers(
        [
            paper("2604.00060", submitted_on="2026-04-30", upvotes=3),
            paper("2604.00061", submitted_on="2026-04-30", upvotes=2),
            paper("2604.00062", listed="2026-04-30"),  # only listed by arXiv
            paper("2604.00063", listed="2026-04-29"),
        ]
    )
    community.submit(store, settings, ALICE, "2604.00063", on=DAY)
    for user in (ALICE, BOB, CAROL):
        community.vote(store.community, user, "2604.00063", up=True)
    community.vote(store.community, ALICE, "2604.00061", up=True)
    entries, total = community.curated(store, "2026-04-30", "2026-04-30", user_id=ALICE)
    assert total == 3
    # 3 local + 0; 3 imported; 2 imported + 1 local, ties broken by the larger id.
    assert [e.paper.id for e in entries] == ["2604.00063", "2604.00061", "2604.00060"]
    assert [e.standing.upvoted for e in entries] == [True, True, False]
    page, _ = community.curated(store, "2026-04-30", "2026-04-30", limit=1, offset=1)
    assert [e.paper.id for e in page] == ["2604.00061"]
    assert store.community.latest_curated_day() == "2026-04-30"
    assert store.community.curated_neighbours("2026-04-30", "2026-04-30") == (None, None)
    assert store.community.curated_neighbours("2026-04-29", "2026-04-29") == (None, "2026-04-30")
    assert store.community.curated_neighbours("2026-05-01", "2026-05-02") == ("2026-04-30", None)


def test_new_on_arxiv_lists_a_whole_day_by_category_and_page(store: Store) -> None:
    store.upsert_papers(
        [
            paper("2604.00070", listed="2026-04-30", categories=["cs.LG", "stat.ML"]),
            paper("2604.00071", listed="2026-04-30", categories=["stat.ML"]),
            paper("2604.00072", listed="2026-04-30", categories=["math.AG"]),
            paper("2604.00073", listed="2026-04-29", categories=["stat.ML"]),
        ]
    )
    found = community.new_on_arxiv(store, "2026-04-30")
    assert ([e.paper.id for e in found.entries], found.total) == (
        ["2604.00072", "2604.00071", "2604.00070"],
        3,
    )
    assert (found.previous, found.following) == ("2026-04-29", None)
    found = community.new_on_arxiv(store, "2026-04-30", category="stat.ML", limit=1)
    assert ([e.paper.id for e in found.entries], found.total) == (["2604.00071"], 2)
    assert (found.offset, found.older, found.newer) == (0, "2604.00071", None)
    # The next page is the one past the cursor (ids below it); it knows its place.
    found = community.new_on_arxiv(store, "2026-04-30", category="stat.ML", before=found.older)
    assert [e.paper.id for e in found.entries] == ["2604.00070"]
    assert (found.offset, found.older, found.newer) == (1, None, "2604.00070")
    back = community.new_on_arxiv(store, "2026-04-30", category="stat.ML", after=found.newer)
    assert [e.paper.id for e in back.entries] == ["2604.00071"]
    assert community.new_on_arxiv_cursor(store, "2026-04-30", "stat.ML", 1) == "2604.00070"
    assert community.new_on_arxiv(store, "2026-04-30", category="cs.\x00").total == 0
    with pytest.raises(InvalidInput):
        community.new_on_arxiv(store, "2026-02-30")
    assert store.community.listing_neighbours("2026-04-30") == ("2026-04-30", "2026-04-29", None)
    assert store.community.listing_neighbours("2026-04-01") == ("2026-04-30", None, "2026-04-29")
