"""``paperstand digest ...`` (subscribers, sending, previews) and ``paperstand mail test``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from paperstand import mail
from paperstand.cli.app import app, err, print_json, settings, store_for
from paperstand.dates import parse_day
from paperstand.digest.content import Contents, Period, fulltext_search
from paperstand.digest.sender import DigestSender
from paperstand.digest.subscriptions import DEFAULT_SECTIONS, SECTIONS, Preferences, Subscriptions
from paperstand.errors import InvalidInput, NotFound
from paperstand.store.digests import STATUSES

digest_app = typer.Typer(
    help="Email digests: subscribers, sending, previews.", no_args_is_help=True
)
app.add_typer(digest_app, name="digest")
mail_app = typer.Typer(help="Outgoing mail.", no_args_is_help=True)
app.add_typer(mail_app, name="mail")

Email = Annotated[str, typer.Argument(metavar="EMAIL", help="The subscriber's address.")]
Day = Annotated[
    str | None, typer.Option("--date", help="The day, YYYY-MM-DD (default: today, UTC).")
]


def _day(text: str | None) -> date:
    return parse_day(text) if text else datetime.now(UTC).date()


@digest_app.command("subscribe")
def subscribe(
    ctx: typer.Context,
    email: Email,
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Skip the confirmation mail (an admin's word).")
    ] = False,
    weekly: Annotated[bool, typer.Option("--weekly", help="Once a week, not daily.")] = False,
    weekends: Annotated[
        bool, typer.Option("--weekends", help="Daily digests on Saturdays and Sundays too.")
    ] = False,
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section", help=f"What it holds: {', '.join(SECTIONS)} (default: daily, trending)."
        ),
    ] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="e.g. cs.CL")] = None,
    author: Annotated[list[str] | None, typer.Option("--author", help="An author's name.")] = None,
    search: Annotated[list[str] | None, typer.Option("--search", help="A saved search.")] = None,
) -> None:
    """Subscribe an address; without --confirmed it is mailed a confirmation link."""
    preferences = Preferences(
        weekly,
        weekends,
        list(section or DEFAULT_SECTIONS),
        category or [],
        author or [],
        search or [],
    )
    conf = settings(ctx)
    with store_for(ctx) as store:
        service = Subscriptions(store, conf)
        subscriber = service.subscribe(email, preferences, confirmed=confirmed)
        if subscriber.status == "confirmed":
            typer.echo(f"subscribed {subscriber.email} (confirmed)")
            return
        if mail.configured(conf):
            service.mail_confirmation(subscriber)
            typer.echo(f"subscribed {subscriber.email}: confirmation link mailed")
        else:
            typer.echo(f"subscribed {subscriber.email}: pending; mail is not configured")
            err.print(
                f"the confirmation link: {service.link(subscriber, 'digest-confirm')}",
                highlight=False,
                soft_wrap=True,
            )


@digest_app.command("unsubscribe")
def unsubscribe(ctx: typer.Context, email: Email) -> None:
    """End a subscription (the address stays known, unsubscribed)."""
    with store_for(ctx) as store:
        subscriber = Subscriptions(store, settings(ctx)).unsubscribe_email(email)
    typer.echo(f"{subscriber.email}: {subscriber.status}")


@digest_app.command("list")
def list_subscribers(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help=f"Only these: {', '.join(STATUSES)}.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The subscribers; bounced ones show the server's reply that stopped their mail."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"--status must be one of {', '.join(STATUSES)}")
    with store_for(ctx) as store:
        found = store.digests.subscribers(status=status)
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    for s in found:
        how = "weekly" if s.weekly else ("daily+weekends" if s.weekends else "daily")
        note = f"  {s.problem}" if s.problem else ""
        typer.echo(f"{s.email:<40} {s.status:<12} {how:<15} {','.join(s.sections)}{note}")


@digest_app.command("send")
def send(ctx: typer.Context, day: Day = None) -> None:
    """Send the digests of a day (and of its week on the weekly day) to every confirmed
    subscriber who has not had them; safe to rerun and to run on several machines."""
    with store_for(ctx) as store:
        reports = DigestSender(store, settings(ctx)).send_day(_day(day))
    for r in reports:
        typer.echo(
            f"{r.period}: {r.sent} sent, {r.already} already sent, {r.empty} empty, "
            f"{r.refused} refused (of {r.due} due)"
        )


@digest_app.command("preview")
def preview(
    ctx: typer.Context,
    email: Email,
    day: Day = None,
    weekly: Annotated[bool, typer.Option("--weekly", help="The week's digest.")] = False,
    html: Annotated[bool, typer.Option("--html", help="The HTML part, not the text.")] = False,
) -> None:
    """Print the digest a subscriber would get (nothing is sent or recorded)."""
    conf = settings(ctx)
    when = _day(day)
    period = Period.week(when) if weekly else Period.day(when)
    with store_for(ctx) as store:
        subscriber = store.digests.subscriber_by_email(email.strip().lower())
        if subscriber is None:
            raise NotFound(f"{email} is not subscribed")
        sender = DigestSender(store, conf, search=fulltext_search(store, conf))
        digest = Contents(store, sender.settings, period, sender.search).digest_for(subscriber)
        links = sender.links(subscriber)
        if digest.count == 0:
            err.print(f"nothing for {subscriber.email} in {period.key}: no mail would go out")
            raise typer.Exit(1)
        composer = sender.composer
        typer.echo(f"Subject: {composer.subject(digest)}\n")
        part = composer.html if html else composer.text
        typer.echo(part(subscriber.email, digest, links))


@mail_app.command("test")
def test_mail(ctx: typer.Context, email: Email) -> None:
    """Send one message to check the PAPERSTAND_SMTP_* settings."""
    conf = settings(ctx)
    mail.send(
        conf,
        email,
        "paperstand: test message",
        f"This message from {conf.base_url} shows that paperstand can send mail.\n",
    )
    typer.echo(f"sent to {email} through {conf.smtp_host}")
