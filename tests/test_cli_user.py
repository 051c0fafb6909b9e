"""``paperstand user ...`` as an admin runs it: real processes over a real store, both
backends. What a script reads (a token, a link) is stdout alone; errors are one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paperstand.accounts.service import Accounts
from paperstand.errors import Forbidden, Unauthorized
from paperstand.settings import Settings
from paperstand.store import Store

MAIN = "import sys; from paperstand.cli import main; sys.argv[0] = 'paperstand'; main()"


def run(store: Store, home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERSTAND_BASE_URL": "https://papers.lab.example"}
    return subprocess.run(
        [sys.executable, "-c", MAIN, "--home", str(home), "--database-url", store.url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def ok(store: Store, home: Path, *args: str, stdin: str = "") -> str:
    done = run(store, home, *args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def fails(store: Store, home: Path, *args: str) -> str:
    done = run(store, home, *args)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def test_user_commands(store: Store, tmp_path: Path) -> None:
    home = tmp_path
    accounts = Accounts(store, Settings(home=home))
    created = ok(store, home, "user", "create", "Root@Lab.example", "--admin", "--password-stdin",
                 stdin="correct horse\n")  # fmt: skip
    assert created == "created admin root@lab.example (name root)"
    assert accounts.log_in("root@lab.example", "correct horse").user.is_admin

    assert "there is already an account" in fails(store, home, "user", "create", "root@lab.example")
    assert "at least 8" in fails(store, home, "user", "create", "x@lab.example", "--password-stdin")
    assert "not an email" in fails(store, home, "user", "create", "nobody")

    token = ok(store, home, "user", "token", "root@lab.example")
    assert token.startswith("pst_") and "\n" not in token
    assert accounts.user_for_api_token(token).email == "root@lab.example"

    assert ok(store, home, "user", "ban", "root@lab.example") == "banned root@lab.example"
    with pytest.raises(Forbidden):
        accounts.log_in("root@lab.example", "correct horse")
    assert ok(store, home, "user", "unban", "root@lab.example") == "unbanned root@lab.example"
    accounts.log_in("root@lab.example", "correct horse")


def test_account_without_password_gets_one_through_a_reset_link(store: Store, tmp_path: Path):
    done = run(store, tmp_path, "user", "create", "ada@lab.example", "--name", "ada_l")
    assert done.stdout.strip() == "created user ada@lab.example (name ada_l)"
    assert "paperstand user reset-link ada@lab.example" in done.stderr
    accounts = Accounts(store, Settings(home=tmp_path))
    with pytest.raises(Unauthorized):
        accounts.log_in("ada@lab.example", "")

    link = ok(store, tmp_path, "user", "reset-link", "ada@lab.example")
    assert link.startswith("https://papers.lab.example/reset/psr_")
    accounts.reset_password(link.rsplit("/", 1)[1], "battery staple")
    assert accounts.log_in("ada@lab.example", "battery staple").user.name == "ada_l"
    assert "no account" in fails(store, tmp_path, "user", "reset-link", "bo@lab.example")
