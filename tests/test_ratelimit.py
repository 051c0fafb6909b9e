"""Named rate limits counted in the store: per account, per address, shared by every
process using the store, exact under concurrent hits, on both backends."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from paperstand.errors import InvalidInput, RateLimited
from paperstand.ratelimit import Limiter
from paperstand.settings import Settings
from paperstand.store import Store, open_store


def limiter(store: Store, tmp_path: Path, **rates: str) -> Limiter:
    return Limiter(Settings(home=tmp_path, **rates), store)


def test_account_and_address_are_counted_apart(store: Store, tmp_path: Path) -> None:
    limits = limiter(store, tmp_path, rate_vote="3/minute", rate_vote_ip="5/minute")
    for _ in range(3):
        limits.hit("vote", account="1", address="10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limits.hit("vote", account="1", address="10.0.0.1")
    assert 1 <= refused.value.retry_after <= 60
    assert "too many votes" in str(refused.value)
    assert refused.value.http_status == 429
    # Another account from the same address: its own count, until the address's is full.
    limits.hit("vote", account="2", address="10.0.0.1")
    with pytest.raises(RateLimited):  # the address's sixth vote
        limits.hit("vote", account="3", address="10.0.0.1")
    limits.hit("vote", account="3", address="10.0.0.2")
    # Other names count apart.
    limits.hit("comment", account="1", address="10.0.0.1")


def test_several_windows_and_no_limit(store: Store, tmp_path: Path) -> None:
    limits = limiter(store, tmp_path, rate_login="2/minute;3/day", rate_login_ip="")
    limits.hit("login", account="ada@lab.example", address="10.0.0.1")
    limits.hit("login", account="ada@lab.example", address="10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limits.hit("login", account="ada@lab.example", address="10.0.0.1")
    # The day's window is not full, the minute's is: wait for the minute.
    assert refused.value.retry_after <= 60
    for _ in range(50):  # no per-address rule for log-ins here
        limits.hit("login", account=f"{_}@lab.example", address="10.0.0.1")


def test_a_window_ends(store: Store, tmp_path: Path) -> None:
    limits = limiter(store, tmp_path, rate_signup_ip="1/second")
    limits.hit("signup", address="10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limits.hit("signup", address="10.0.0.1")
    assert refused.value.retry_after == 1
    deadline = time.monotonic() + 10
    while True:  # the next second's window; a loaded machine may take a while to get there
        time.sleep(0.3)
        try:
            limits.hit("signup", address="10.0.0.1")
            break
        except RateLimited:
            assert time.monotonic() < deadline


def test_processes_count_together(tmp_path: Path) -> None:
    """Two stores opened on one SQLite file stand for two worker processes."""
    url = f"sqlite:///{tmp_path / 'paperstand.sqlite3'}"
    with open_store(url) as first, open_store(url) as second:
        one = limiter(first, tmp_path, rate_comment="4/hour")
        two = limiter(second, tmp_path, rate_comment="4/hour")
        one.hit("comment", account="7")
        two.hit("comment", account="7")
        one.hit("comment", account="7")
        two.hit("comment", account="7")
        with pytest.raises(RateLimited):
            one.hit("comment", account="7")
        with pytest.raises(RateLimited):
            two.hit("comment", account="7")


def test_concurrent_hits_are_exact(store: Store, tmp_path: Path) -> None:
    limits = limiter(store, tmp_path, rate_vote="50/hour", rate_vote_ip="")

    def hit(_: int) -> bool:
        try:
            limits.hit("vote", account="9")
            return True
        except RateLimited:
            return False

    with ThreadPoolExecutor(8) as pool:
        allowed = sum(pool.map(hit, range(80)))
    assert allowed == 50


def test_memory_storage_and_bad_settings(store: Store, tmp_path: Path) -> None:
    limits = limiter(store, tmp_path, rate_vote="1/minute", rate_storage="memory://")
    limits.hit("vote", account="1")
    with pytest.raises(RateLimited):
        limits.hit("vote", account="1")
    with store.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM rate_limits")).scalar() == 0
    with pytest.raises(InvalidInput, match="PAPERSTAND_RATE_VOTE"):
        limiter(store, tmp_path, rate_vote="lots")
    with pytest.raises(InvalidInput, match="PAPERSTAND_RATE_STORAGE"):
        limiter(store, tmp_path, rate_storage="nosuch://")
    with pytest.raises(ValueError, match="unknown rate limit"):
        limits.hit("frobnicate", account="1")
