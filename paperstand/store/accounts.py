"""Accounts in the store: users, their sessions, API tokens and password-reset links, and the
rate-limit counters, written once for SQLite and PostgreSQL.

Tokens are stored only as SHA-256 digests (``accounts/credentials.py``). Everything of a
user refers to ``users.id`` with ``ON DELETE CASCADE``: deleting the user row deletes what
the account made, here and in the tables of other areas (votes, comments, ...), which refer
to it the same way, in one transaction. Expiry times are the database's clock
(``dialect.later``), so processes on several machines agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    Row,
    Table,
    Text,
    bindparam,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from paperstand.errors import Conflict
from paperstand.models import ApiToken, User
from paperstand.store import dialect
from paperstand.store.part import Part
from paperstand.store.schema import Key, Stamp, metadata, stamp_text

users = Table(
    "users",
    metadata,
    Column("id", Key, primary_key=True),
    Column("email", Text, nullable=False, unique=True),  # lower-cased
    Column("name", Text, nullable=False, unique=True),  # public, lower-cased
    Column("password_hash", Text),  # argon2id; NULL: none set yet (made by an admin)
    Column("is_admin", Boolean(create_constraint=False), nullable=False, server_default="0"),
    Column("banned", Boolean(create_constraint=False), nullable=False, server_default="0"),
    Column("created", Stamp, nullable=False),
)


def _owner() -> Column[Any]:
    return Column(
        "user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )


sessions = Table(
    "sessions",
    metadata,
    Column("digest", Text, primary_key=True),
    _owner(),
    Column("created", Stamp, nullable=False),
    Column("expires", Stamp, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Key, primary_key=True),
    _owner(),
    Column("digest", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("created", Stamp, nullable=False),
    Column("last_used", Stamp),
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("digest", Text, primary_key=True),
    _owner(),
    Column("expires", Stamp, nullable=False),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    # A fixed window of the ``limits`` package: its key, hits so far, and when the window
    # ends (seconds since the epoch, the clock of the processes counting).
    Column("key", Text, primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)
Index("rate_limits_expires_at", rate_limits.c.expires_at)

# An API token's last use is written at most this often: a write on every request would
# serialise all API readers on SQLite's one writer.
LAST_USED_EVERY = 3600.0


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        is_admin=bool(row.is_admin),
        banned=bool(row.banned),
        created=stamp_text(row.created),
    )


_USER_COLUMNS = tuple(
    users.c[name] for name in ("id", "email", "name", "is_admin", "banned", "created")
)


def rate_hit_statement(dialect_name: str) -> Any:
    """Add ``amount`` to the window of ``key`` (a new window of ``expiry`` seconds if the
    last one ended before ``now``), returning the window's hits: one upsert, atomic on both
    backends."""
    ended = rate_limits.c.expires_at <= bindparam("now")
    fresh_end = bindparam("now") + bindparam("expiry")
    return (
        dialect.insert(dialect_name, rate_limits)
        .values(key=bindparam("key"), hits=bindparam("amount"), expires_at=fresh_end)
        .on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={
                "hits": case(
                    (ended, bindparam("amount")),
                    else_=rate_limits.c.hits + bindparam("amount"),
                ),
                "expires_at": case((ended, fresh_end), else_=rate_limits.c.expires_at),
            },
        )
        .returning(rate_limits.c.hits)
    )


def count_rate_hits(
    conn: Connection, statement: Any, hits: Sequence[tuple[str, float, int]], now: float
) -> list[int]:
    """Run :func:`rate_hit_statement` for each (key, expiry, amount) in the caller's
    transaction; the windows' hits."""
    return [
        conn.execute(
            statement, {"key": key, "amount": amount, "now": now, "expiry": expiry}
        ).scalar_one()
        for key, expiry, amount in hits
    ]


class AccountsStore(Part):
    """The store's ``accounts`` part.

    The statements run on every signed-in request (session and token lookups, rate-limit
    hits) are built once here with bound parameters: building a Core statement costs more
    CPU than SQLite takes to run it (``benchmarks/accounts.py``).
    """

    def __init__(self, engine: Engine, where: str) -> None:
        super().__init__(engine, where)
        now = dialect.now(self.dialect)
        self._session_user = (
            select(*_USER_COLUMNS)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.digest == bindparam("digest"), sessions.c.expires > now)
        )
        self._token_user = (
            select(
                *_USER_COLUMNS,
                api_tokens.c.id.label("token_id"),
                func.coalesce(
                    api_tokens.c.last_used < dialect.later(self.dialect, -LAST_USED_EVERY), True
                ).label("stale"),
            )
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.digest == bindparam("digest"))
        )
        self._rate_hit = rate_hit_statement(self.dialect)
        self._token_used = (
            update(api_tokens).where(api_tokens.c.id == bindparam("token_id")).values(last_used=now)
        )

    # --- users --------------------------------------------------------------------------

    def add_user(
        self, email: str, name: str, password_hash: str | None, is_admin: bool = False
    ) -> User:
        """A new user; :class:`Conflict` when the email or the name is taken."""
        statement = (
            users.insert()
            .values(
                email=email,
                name=name,
                password_hash=password_hash,
                is_admin=is_admin,
                created=dialect.now(self.dialect),
            )
            .returning(*_USER_COLUMNS)
        )
        try:
            with self.write() as conn:
                return _user(conn.execute(statement).one())
        except IntegrityError as exc:
            with self.read() as conn:
                taken = conn.execute(select(users.c.id).where(users.c.email == email)).first()
            what = f"an account for {email}" if taken else f"a user called {name}"
            raise Conflict(f"there is already {what}") from exc

    def _one_user(self, where: Any) -> User | None:
        with self.read() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(where)).first()
        return _user(row) if row else None

    def user_by_id(self, user_id: int) -> User | None:
        return self._one_user(users.c.id == user_id)

    def user_by_email(self, email: str) -> User | None:
        return self._one_user(users.c.email == email)

    def user_by_name(self, name: str) -> User | None:
        return self._one_user(users.c.name == name)

    def password_hash(self, user_id: int) -> str | None:
        with self.read() as conn:
            return conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar()

    def set_password(
        self, user_id: int, password_hash: str, *, keep_session: str | None = None
    ) -> None:
        """A new password hash; the user's other sessions and reset links end with it."""
        with self.write() as conn:
            conn.execute(
                update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )
            conn.execute(delete(password_resets).where(password_resets.c.user_id == user_id))
            ended = delete(sessions).where(sessions.c.user_id == user_id)
            if keep_session is not None:
                ended = ended.where(sessions.c.digest != keep_session)
            conn.execute(ended)

    def set_banned(self, user_id: int, banned: bool) -> User:
        with self.write() as conn:
            row = conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(banned=banned)
                .returning(*_USER_COLUMNS)
            ).one()
        return _user(row)

    def delete_user(self, user_id: int) -> bool:
        """Delete the user and, by cascade, everything that refers to it."""
        with self.write() as conn:
            return conn.execute(delete(users).where(users.c.id == user_id)).rowcount > 0

    # --- sessions -----------------------------------------------------------------------

    def add_session(self, user_id: int, digest: str, seconds: float) -> None:
        with self.write() as conn:
            conn.execute(
                sessions.insert().values(
                    digest=digest,
                    user_id=user_id,
                    created=dialect.now(self.dialect),
                    expires=dialect.later(self.dialect, seconds),
                )
            )
            # Each log-in sweeps away every expired session, so the table stays small.
            conn.execute(delete(sessions).where(sessions.c.expires <= dialect.now(self.dialect)))

    def user_for_session(self, digest: str) -> User | None:
        with self.read() as conn:
            row = conn.execute(self._session_user, {"digest": digest}).first()
        return _user(row) if row else None

    def delete_sessions(self, *, digest: str) -> None:
        with self.write() as conn:
            conn.execute(delete(sessions).where(sessions.c.digest == digest))

    # --- API tokens ---------------------------------------------------------------------

    def add_api_token(self, user_id: int, name: str, digest: str) -> ApiToken:
        with self.write() as conn:
            row = conn.execute(
                api_tokens.insert()
                .values(
                    user_id=user_id, name=name, digest=digest, created=dialect.now(self.dialect)
                )
                .returning(api_tokens.c.id, api_tokens.c.name, api_tokens.c.created)
            ).one()
        return ApiToken(id=row.id, name=row.name, created=stamp_text(row.created), last_used=None)

    def api_tokens(self, user_id: int) -> list[ApiToken]:
        with self.read() as conn:
            rows = conn.execute(
                select(
                    api_tokens.c.id, api_tokens.c.name, api_tokens.c.created, api_tokens.c.last_used
                )
                .where(api_tokens.c.user_id == user_id)
                .order_by(api_tokens.c.id)
            ).all()
        return [
            ApiToken(
                id=row.id,
                name=row.name,
                created=stamp_text(row.created),
                last_used=stamp_text(row.last_used) if row.last_used is not None else None,
            )
            for row in rows
        ]

    def delete_api_token(self, user_id: int, token_id: int) -> bool:
        with self.write() as conn:
            done = conn.execute(
                delete(api_tokens).where(
                    api_tokens.c.id == token_id, api_tokens.c.user_id == user_id
                )
            )
        return done.rowcount > 0

    def user_for_api_token(self, digest: str) -> User | None:
        """The token's user; notes the token's use when the last note is an hour old."""
        with self.read() as conn:
            row = conn.execute(self._token_user, {"digest": digest}).first()
        if row is None:
            return None
        if row.stale:
            with self.write() as conn:
                conn.execute(self._token_used, {"token_id": row.token_id})
        return _user(row)

    # --- password-reset links -----------------------------------------------------------

    def add_reset(self, user_id: int, digest: str, seconds: float) -> None:
        now = dialect.now(self.dialect)
        with self.write() as conn:
            conn.execute(delete(password_resets).where(password_resets.c.expires <= now))
            conn.execute(
                password_resets.insert().values(
                    digest=digest, user_id=user_id, expires=dialect.later(self.dialect, seconds)
                )
            )

    def reset_user(self, digest: str) -> int | None:
        """The user a live reset link is for, None for an unknown, used or expired one."""
        with self.read() as conn:
            return conn.execute(
                select(password_resets.c.user_id).where(
                    password_resets.c.digest == digest,
                    password_resets.c.expires > dialect.now(self.dialect),
                )
            ).scalar()

    def use_reset(self, digest: str, password_hash: str) -> User | None:
        """Spend a live reset link on a new password, all in one transaction: the link (and
        the user's other links) die, every session of the user ends. None if the link is
        not live; of two requests racing with one link, one wins."""
        with self.write() as conn:
            user_id = conn.execute(
                delete(password_resets)
                .where(
                    password_resets.c.digest == digest,
                    password_resets.c.expires > dialect.now(self.dialect),
                )
                .returning(password_resets.c.user_id)
            ).scalar()
            if user_id is None:
                return None
            conn.execute(delete(password_resets).where(password_resets.c.user_id == user_id))
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
            row = conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(password_hash=password_hash)
                .returning(*_USER_COLUMNS)
            ).one()
        return _user(row)

    # --- rate-limit counters (ratelimit.StoreCounters) ----------------------------------

    def rate_hit(self, key: str, expiry: float, amount: int, now: float) -> int:
        """Add ``amount`` to the window of ``key`` (a new window of ``expiry`` seconds if the
        last one ended) and return the window's hits: one upsert, atomic on both backends."""
        return self.rate_hits([(key, expiry, amount)], now)[0]

    def rate_hits(self, hits: Sequence[tuple[str, float, int]], now: float) -> list[int]:
        """:meth:`rate_hit` for several (key, expiry, amount) at once, in one transaction:
        a request counted against its account's and its address's windows pays for one
        commit, not one per window."""
        with self.write() as conn:
            return count_rate_hits(conn, self._rate_hit, hits, now)

    def rate_count(self, key: str, now: float) -> int:
        with self.read() as conn:
            hits = conn.execute(
                select(rate_limits.c.hits).where(
                    rate_limits.c.key == key, rate_limits.c.expires_at > now
                )
            ).scalar()
        return hits or 0

    def rate_expiry(self, key: str, now: float) -> float | None:
        with self.read() as conn:
            return conn.execute(
                select(rate_limits.c.expires_at).where(
                    rate_limits.c.key == key, rate_limits.c.expires_at > now
                )
            ).scalar()

    def rate_clear(self, key: str | None = None) -> int:
        """Forget the counter of ``key``, or every counter; returns how many went."""
        statement = delete(rate_limits)
        if key is not None:
            statement = statement.where(rate_limits.c.key == key)
        with self.write() as conn:
            return conn.execute(statement).rowcount

    def rate_purge(self, now: float) -> None:
        with self.write() as conn:
            conn.execute(delete(rate_limits).where(rate_limits.c.expires_at <= now))
