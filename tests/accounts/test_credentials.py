"""Password hashes, tokens and the signing key."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from paperstand.accounts import credentials
from paperstand.errors import InvalidInput


def test_password_hash_verifies_only_the_password() -> None:
    stored = credentials.hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert credentials.verify_password(stored, "correct horse")
    assert not credentials.verify_password(stored, "correct horsE")
    assert not credentials.verify_password(stored, "")
    assert not credentials.needs_rehash(stored)
    # Salted: the same password never gives the same hash.
    assert credentials.hash_password("correct horse") != stored


def test_accounts_without_password_and_broken_hashes_match_nothing() -> None:
    assert not credentials.verify_password(None, "anything at all")
    assert not credentials.verify_password("", "anything at all")
    assert not credentials.verify_password("$argon2id$garbage", "anything at all")
    assert not credentials.verify_password(credentials.hash_password("x" * 8), "x" * 5000)


@pytest.mark.parametrize("password", ["", "short", "x" * 1025])
def test_password_rules(password: str) -> None:
    with pytest.raises(InvalidInput, match="password"):
        credentials.hash_password(password)


def test_tokens_are_random_and_stored_as_digests() -> None:
    tokens = {credentials.new_token("pst_") for _ in range(1000)}
    assert len(tokens) == 1000
    token = tokens.pop()
    assert token.startswith("pst_") and len(token) == 4 + 43
    digest = credentials.token_digest(token)
    assert len(digest) == 64 and token not in digest
    assert credentials.token_digest(token) == digest


def test_configured_signing_key_wins(tmp_path: Path) -> None:
    assert credentials.signing_key("from-the-environment", tmp_path) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_signing_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = credentials.signing_key("", home)
    path = home / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32
    assert credentials.signing_key("", home) == key
    assert sorted(p.name for p in home.iterdir()) == ["secret_key"]


def _key_in_process(home: str) -> str:
    return credentials.signing_key("", Path(home))


def test_processes_starting_together_agree_on_the_key(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        keys = pool.map(_key_in_process, [str(tmp_path)] * 16)
    assert len(set(keys)) == 1
    assert credentials.signing_key("", tmp_path) == keys[0]


def test_a_damaged_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(InvalidInput, match="PAPERSTAND_SECRET_KEY"):
        credentials.signing_key("", tmp_path)
