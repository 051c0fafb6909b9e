"""SQLite's one writer slot is queued for across processes (``serve --workers N``), on a
lock file beside the database; counts written by several processes at once stay exact.
SQLite only: on PostgreSQL row locks do this work and there is no writer slot."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paperstand.store import open_store

WRITES = 150
# One process's writes: the same rate-limit window counted WRITES times, one transaction each.
WRITER = """
import sys, time
from paperstand.store import open_store
with open_store(sys.argv[1]) as store:
    for _ in range(int(sys.argv[2])):
        store.accounts.rate_hits([("shared", 3600.0, 1)], time.time())
"""


def _held_elsewhere(lock_file: Path) -> bool:
    """Whether another open file (as another process has) could take the lock now."""
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing also lets go of a lock taken here
    return False


def test_a_write_holds_the_lock_file_until_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "paperstand.sqlite3"
    with open_store(f"sqlite:///{path}") as store:
        lock_file = tmp_path / "paperstand.sqlite3-writer"
        assert lock_file.exists() and not _held_elsewhere(lock_file)
        with store.accounts.write():
            assert _held_elsewhere(lock_file)
        assert not _held_elsewhere(lock_file)
        # A failed write lets go too.
        with pytest.raises(RuntimeError), store.accounts.write():
            raise RuntimeError("rolled back")
        assert not _held_elsewhere(lock_file)


def test_processes_writing_at_once_lose_no_count(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'paperstand.sqlite3'}"
    open_store(url).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, str(WRITES)], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err.decode()
    with open_store(url) as store:
        assert store.accounts.rate_count("shared", 0.0) == 3 * WRITES
