"""``paperstand user ...``: accounts from the command line (an admin's tools).

Output meant for scripts goes to stdout alone (the API token, the reset link); notes go to
stderr. The accounts service (argon2, the store) is imported when a command runs, not when
the program starts.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from paperstand.cli.app import app, err, settings, store_for
from paperstand.store import Store

if TYPE_CHECKING:
    from paperstand.accounts.service import Accounts

user_app = typer.Typer(help="Accounts: create, API tokens, bans, password-reset links.")
app.add_typer(user_app, name="user")


def _accounts(ctx: typer.Context, store: Store) -> Accounts:
    from paperstand.accounts.service import Accounts

    return Accounts(store, settings(ctx))


Email = Annotated[str, typer.Argument(metavar="EMAIL", help="The account's email address.")]


@user_app.command("create")
def create(
    ctx: typer.Context,
    email: Email,
    admin: Annotated[bool, typer.Option("--admin", help="An administrator.")] = False,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of stdin (else the account has "
            "none until a reset link sets one).",
        ),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Public user name (default: from the email).")
    ] = None,
) -> None:
    """Create an account."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with store_for(ctx) as store:
        user = _accounts(ctx, store).create(email, password=password, name=name, admin=admin)
    role = "admin" if user.is_admin else "user"
    typer.echo(f"created {role} {user.email} (name {user.name})")
    if password is None:
        err.print(
            f"no password yet: 'paperstand user reset-link {user.email}' makes a link to set one",
            highlight=False,
        )


@user_app.command("token")
def token(
    ctx: typer.Context,
    email: Email,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "command line",
) -> None:
    """Make a personal API token for the account and print it (only this once)."""
    with store_for(ctx) as store:
        accounts = _accounts(ctx, store)
        _, secret = accounts.new_api_token(accounts.by_email(email), name)
    typer.echo(secret)


@user_app.command("ban")
def ban(ctx: typer.Context, email: Email) -> None:
    """Ban an account: it can still read, but not log in, post, vote or use its tokens."""
    with store_for(ctx) as store:
        user = _accounts(ctx, store).set_banned(email, True)
    typer.echo(f"banned {user.email}")


@user_app.command("unban")
def unban(ctx: typer.Context, email: Email) -> None:
    """Lift a ban."""
    with store_for(ctx) as store:
        user = _accounts(ctx, store).set_banned(email, False)
    typer.echo(f"unbanned {user.email}")


@user_app.command("reset-link")
def reset_link(ctx: typer.Context, email: Email) -> None:
    """Print a one-use link that sets the account's password (for when mail is not set
    up, or to hand over an account made without a password)."""
    conf = settings(ctx)
    with store_for(ctx) as store:
        link = _accounts(ctx, store).reset_link(email)
    typer.echo(link)
    err.print(f"valid for {conf.reset_link_minutes} minutes, once", highlight=False)
