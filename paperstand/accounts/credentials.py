"""The secrets of accounts: password hashes, random tokens and the site's signing key.

Passwords are hashed with argon2id (``argon2-cffi``, its RFC 9106 low-memory profile: about a
third of a CPU-second per hash, which is what makes a stolen table expensive to crack).
Tokens (sessions, API tokens, password-reset links) are 256 random bits; only their SHA-256
is stored: a token that long cannot be guessed, so a slow hash would buy nothing and cost a
third of a second on every request.

The signing key signs the session and CSRF cookies. It is ``PAPERSTAND_SECRET_KEY`` when
set, otherwise made once and kept in ``HOME/secret_key`` (mode 0600) so that every worker
process of one machine agrees on it. Several machines serving one PostgreSQL store must be
given the same ``PAPERSTAND_SECRET_KEY``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paperstand.errors import InvalidInput

MIN_PASSWORD = 8
# argon2 takes any length, but a megabyte "password" is a cheap way to burn server time.
MAX_PASSWORD = 1024

_hasher = PasswordHasher()


def check_password_rules(password: str) -> None:
    """Raise :class:`InvalidInput` for a password too short or too long to accept."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"the password must have at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; the parameters are in the string)."""
    check_password_rules(password)
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches the ``stored`` hash. An account without a password
    (made by an admin, not yet set through a reset link) matches nothing."""
    if not stored or len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)


def burn_password_time() -> None:
    """Spend what a password check costs, so that a log-in with an unknown email takes as
    long as one with a known email and a wrong password (no account enumeration by timing)."""
    verify_password(_dummy_hash(), "not the password")


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def new_token(prefix: str) -> str:
    """A new random token, ``prefix`` + 43 URL-safe characters (256 bits). The prefix tells
    a reader (and a secret scanner) what the token is for."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the store keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def signing_key(configured: str, home: Path) -> str:
    """``configured`` when set, else the key kept in ``home/secret_key``, made on first use.

    The file is created with ``O_EXCL`` and mode 0600: of several processes starting at
    once, one writes it and the others read that one.
    """
    if configured:
        return configured
    path = home / "secret_key"
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    partial = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(key + "\n")
    try:
        # link() fails if another process got there first; its key wins, ours is dropped.
        os.link(partial, path)
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 32:
        raise InvalidInput(f"{path} holds no usable key: delete it or set PAPERSTAND_SECRET_KEY")
    return key
