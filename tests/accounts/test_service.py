"""The accounts service on both backends: sign-up, log-in, sessions, tokens, resets, bans,
deletion."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from paperstand.accounts.service import Accounts
from paperstand.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from paperstand.settings import Settings
from paperstand.store import Store

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def accounts(store: Store, tmp_path: Path) -> Accounts:
    return Accounts(store, Settings(home=tmp_path, base_url="https://papers.lab.example/"))


def test_sign_up_and_log_in(accounts: Accounts) -> None:
    session = accounts.sign_up("  Ada@Lab.Example ", "correct horse", "Ada")
    assert session.user.email == "ada@lab.example"
    assert session.user.name == "ada"
    assert not session.user.is_admin and not session.user.banned
    assert session.user.created.endswith("Z")
    assert accounts.user_for_session(session.token) == session.user

    again = accounts.log_in("ADA@lab.example", "correct horse")
    assert again.user == session.user and again.token != session.token


@pytest.mark.parametrize(
    ("email", "password", "name", "error"),
    [
        ("not-an-email", "correct horse", "ada", InvalidInput),
        ("a@b", "correct horse", "ada", InvalidInput),
        ("ada@lab.example", "short", "ada", InvalidInput),
        ("ada@lab.example", "correct horse", "a", InvalidInput),
        ("ada@lab.example", "correct horse", "<script>", InvalidInput),
        ("ada@lab.example", "correct horse", "_ada", InvalidInput),
    ],
)
def test_sign_up_refuses_bad_input(
    accounts: Accounts, email: str, password: str, name: str, error: type
) -> None:
    with pytest.raises(error):
        accounts.sign_up(email, password, name)


def test_email_and_name_are_taken_once(accounts: Accounts) -> None:
    accounts.sign_up("ada@lab.example", "correct horse", "ada")
    with pytest.raises(Conflict, match="ada@lab.example"):
        accounts.sign_up("ADA@lab.example", "correct horse", "other")
    with pytest.raises(Conflict, match="called ada"):
        accounts.sign_up("bo@lab.example", "correct horse", "ADA")


def test_closed_sign_up(store: Store, tmp_path: Path) -> None:
    closed = Accounts(store, Settings(home=tmp_path, signup_open=False))
    with pytest.raises(Forbidden, match="closed"):
        closed.sign_up("ada@lab.example", "correct horse", "ada")
    assert closed.create("ada@lab.example", password="correct horse").name == "ada"


def test_admin_made_accounts_get_free_names_and_no_password(accounts: Accounts) -> None:
    first = accounts.create("jo@lab.example", admin=True)
    second = accounts.create("jo@other.example")
    third = accounts.create("x@third.example")
    assert (first.name, second.name, third.name) == ("jo", "jo2", "userx")
    assert first.is_admin and not second.is_admin
    with pytest.raises(Unauthorized):
        accounts.log_in("jo@lab.example", "")
    with pytest.raises(Conflict):
        accounts.create("JO@lab.example")


def test_wrong_password_and_unknown_email_answer_alike(accounts: Accounts) -> None:
    accounts.sign_up("ada@lab.example", "correct horse", "ada")
    with pytest.raises(Unauthorized) as wrong:
        accounts.log_in("ada@lab.example", "wrong horse")
    with pytest.raises(Unauthorized) as unknown:
        accounts.log_in("nobody@lab.example", "wrong horse")
    with pytest.raises(Unauthorized) as garbage:
        accounts.log_in("\x00 not an email", "x" * 5000)
    assert str(wrong.value) == str(unknown.value) == str(garbage.value)


def test_log_out_ends_that_session_only(accounts: Accounts) -> None:
    one = accounts.sign_up("ada@lab.example", "correct horse", "ada")
    two = accounts.log_in("ada@lab.example", "correct horse")
    accounts.log_out(one.token)
    assert accounts.user_for_session(one.token) is None
    assert accounts.user_for_session(two.token) == two.user
    assert accounts.user_for_session("pss_forged") is None
    assert accounts.user_for_session("") is None


def test_expired_sessions_are_dead(store: Store, tmp_path: Path) -> None:
    accounts = Accounts(store, Settings(home=tmp_path))
    session = accounts.sign_up("ada@lab.example", "correct horse", "ada")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE sessions SET expires = created"))
    assert accounts.user_for_session(session.token) is None


def test_change_password_ends_other_sessions(accounts: Accounts) -> None:
    here = accounts.sign_up("ada@lab.example", "correct horse", "ada")
    elsewhere = accounts.log_in("ada@lab.example", "correct horse")
    with pytest.raises(Unauthorized):
        accounts.change_password(here.user, "wrong horse", "battery staple", here.token)
    accounts.change_password(here.user, "correct horse", "battery staple", here.token)
    assert accounts.user_for_session(here.token) == here.user
    assert accounts.user_for_session(elsewhere.token) is None
    with pytest.raises(Unauthorized):
        accounts.log_in("ada@lab.example", "correct horse")
    accounts.log_in("ada@lab.example", "battery staple")


def test_api_tokens(accounts: Accounts) -> None:
    ada = accounts.sign_up("ada@lab.example", "correct horse", "ada").user
    bo = accounts.sign_up("bo@lab.example", "correct horse", "bo").user
    listing, secret = accounts.new_api_token(ada, "  my   script ")
    assert secret.startswith("pst_") and listing.name == "my script"
    assert accounts.user_for_api_token(secret) == ada
    [shown] = accounts.api_tokens(ada)
    assert shown.id == listing.id and shown.last_used is not None  # just used
    assert accounts.api_tokens(bo) == []

    with pytest.raises(NotFound):  # not bo's to revoke
        accounts.revoke_api_token(bo, listing.id)
    accounts.revoke_api_token(ada, listing.id)
    assert accounts.user_for_api_token(secret) is None
    assert accounts.user_for_api_token("pst_" + "x" * 43) is None
    with pytest.raises(InvalidInput):
        accounts.new_api_token(ada, "   ")


def test_reset_link_works_once(accounts: Accounts) -> None:
    session = accounts.sign_up("ada@lab.example", "correct horse", "ada")
    link = accounts.reset_link("Ada@lab.example")
    assert link.startswith("https://papers.lab.example/reset/psr_")
    token = link.rsplit("/", 1)[1]
    older = accounts.reset_link("ada@lab.example").rsplit("/", 1)[1]
    assert accounts.reset_is_valid(token)
    with pytest.raises(InvalidInput):
        accounts.reset_password(token, "short")
    assert accounts.reset_password(token, "battery staple").email == "ada@lab.example"
    # Used: dead. The account's other links died with it, and so did its sessions.
    with pytest.raises(NotFound):
        accounts.reset_password(token, "another password")
    assert not accounts.reset_is_valid(older)
    assert accounts.user_for_session(session.token) is None
    accounts.log_in("ada@lab.example", "battery staple")
    with pytest.raises(NotFound):
        accounts.reset_link("nobody@lab.example")


def test_reset_link_expires(store: Store, tmp_path: Path) -> None:
    accounts = Accounts(store, Settings(home=tmp_path))
    accounts.create("ada@lab.example")
    token = accounts.reset_link("ada@lab.example").rsplit("/", 1)[1]
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM password_resets"))
    assert not accounts.reset_is_valid(token)
    fresh = accounts.reset_link("ada@lab.example").rsplit("/", 1)[1]
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.execute(text("UPDATE password_resets SET expires = '2000-01-01T00:00:00.000Z'"))
        else:
            conn.execute(text("UPDATE password_resets SET expires = now() - interval '1 second'"))
    with pytest.raises(NotFound, match="expired"):
        accounts.reset_password(fresh, "battery staple")


def test_ban(accounts: Accounts) -> None:
    accounts.sign_up("ada@lab.example", "correct horse", "ada")
    assert accounts.set_banned("ADA@lab.example", True).banned
    with pytest.raises(Forbidden, match="banned"):
        accounts.log_in("ada@lab.example", "correct horse")
    with pytest.raises(Unauthorized):  # a wrong password is not told whether it is banned
        accounts.log_in("ada@lab.example", "wrong horse")
    assert not accounts.set_banned("ada@lab.example", False).banned
    accounts.log_in("ada@lab.example", "correct horse")
    with pytest.raises(NotFound):
        accounts.set_banned("nobody@lab.example", True)


def test_delete_account_removes_its_data(accounts: Accounts, store: Store) -> None:
    ada = accounts.sign_up("ada@lab.example", "correct horse", "ada")
    bo = accounts.sign_up("bo@lab.example", "correct horse", "bo")
    _, ada_token = accounts.new_api_token(ada.user, "script")
    accounts.new_api_token(bo.user, "script")
    accounts.reset_link("ada@lab.example")
    with pytest.raises(Unauthorized):
        accounts.delete(ada.user, "wrong horse")
    accounts.delete(ada.user, "correct horse")

    assert accounts.user_for_session(ada.token) is None
    assert accounts.user_for_api_token(ada_token) is None
    with store.engine.connect() as conn:
        for table in ("users", "sessions", "api_tokens", "password_resets"):
            column = "id" if table == "users" else "user_id"
            left = conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :id"), {"id": ada.user.id}
            ).scalar()
            assert left == 0, table
    assert accounts.user_for_session(bo.token) == bo.user
    # The address is free again.
    accounts.sign_up("ada@lab.example", "correct horse", "ada")


def test_rehash_of_old_parameters(accounts: Accounts, store: Store) -> None:
    """A hash made with weaker parameters than today's is replaced at the next log-in."""
    from argon2 import PasswordHasher

    from paperstand.accounts import credentials

    weak = credentials._hasher.hash("correct horse")  # fast_passwords: the cheapest
    user = accounts.create("ada@lab.example")
    store.accounts.set_password(user.id, weak)
    credentials._hasher = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1)
    accounts.log_in("ada@lab.example", "correct horse")
    stored = store.accounts.password_hash(user.id)
    assert stored != weak and stored.startswith("$argon2id$v=19$m=16,t=1,p=1$")
    accounts.log_in("ada@lab.example", "correct horse")
