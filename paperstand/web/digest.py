"""Digest pages: subscribe with only an address, confirm, change preferences and unsubscribe
from the signed links of every digest (no account needed), and preview a day's digest.

``POST /digest/unsubscribe?token=...`` is also the one-click URL of the ``List-Unsubscribe``
header (RFC 8058): mail providers POST ``List-Unsubscribe=One-Click`` to it without cookies,
so the CSRF check (which guards requests carrying cookies) lets it through, and the signed
token is the whole authority. A browser posting the page's form sends the CSRF field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse

from paperstand import mail
from paperstand.dates import parse_day
from paperstand.digest.content import Contents, Period, fulltext_search
from paperstand.digest.sender import DigestSender
from paperstand.digest.subscriptions import (
    MANAGE,
    SECTIONS,
    Preferences,
    Subscriptions,
)
from paperstand.errors import PaperstandError
from paperstand.mail.digest import Links
from paperstand.store.digests import Subscriber
from paperstand.web import auth
from paperstand.web.auth import CurrentUser, limit
from paperstand.web.params import DayParam
from paperstand.web.site import SiteDep

router = APIRouter()

SECTION_NAMES = {
    "for_you": "For you: new papers picked for you (subscribe while logged in)",
    "daily": "The curated daily list",
    "trending": "Trending papers",
    "follows": "Papers in the categories, by the authors and found by the searches below",
}
Token = Annotated[str, Query(max_length=500, pattern=r"^[A-Za-z0-9_.\-]+$")]
FormToken = Annotated[str, Form(max_length=500, pattern=r"^[A-Za-z0-9_.\-]+$")]
FormText = Annotated[str, Form(max_length=10000)]


def _page(
    site: Any, request: Request, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    header, _ = auth.page_header(request)
    html = site.page(
        template, request=request, section_names=SECTION_NAMES, sections=SECTIONS, **header,
        **context,
    )  # fmt: skip
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _lines(text: str, *, commas: bool = False) -> list[str]:
    parts = text.replace(",", "\n").splitlines() if commas else text.splitlines()
    return [part.strip() for part in parts if part.strip()]


def _preferences(
    frequency: str, weekends: str, sections: list[str], categories: str, authors: str, searches: str
) -> Preferences:
    return Preferences(
        weekly=frequency == "weekly",
        weekends=bool(weekends),
        sections=sections,
        categories=_lines(categories, commas=True),
        authors=_lines(authors),
        searches=_lines(searches),
    )


class PreferenceForm:
    """The form fields shared by the subscribe and the preferences pages."""

    def __init__(
        self,
        frequency: Annotated[str, Form(pattern="^(daily|weekly)$")] = "daily",
        weekends: Annotated[str, Form(max_length=10)] = "",
        sections: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006 - FastAPI's form list
        categories: FormText = "",
        authors: FormText = "",
        searches: FormText = "",
    ) -> None:
        self.preferences = _preferences(
            frequency, weekends, sections, categories, authors, searches
        )


def _values(preferences: Preferences) -> dict[str, Any]:
    return {
        "weekly": preferences.weekly,
        "weekends": preferences.weekends,
        "chosen": preferences.sections,
        "categories": ", ".join(preferences.categories),
        "authors": "\n".join(preferences.authors),
        "searches": "\n".join(preferences.searches),
    }


@router.get("/digest", include_in_schema=False)
def subscribe_page(request: Request, site: SiteDep, viewer: CurrentUser) -> HTMLResponse:
    return _page(
        site,
        request,
        "digest.html",
        title="Email digest",
        email=viewer.email if viewer else "",
        mail_ready=mail.configured(site.settings),
        **_values(Preferences()),
    )


@router.post("/digest", include_in_schema=False, dependencies=[limit("subscribe")])
def subscribe(
    request: Request,
    site: SiteDep,
    viewer: CurrentUser,
    email: Annotated[str, Form(max_length=254)],
    form: Annotated[PreferenceForm, Depends()],
) -> HTMLResponse:
    service = Subscriptions(site.store, site.settings)
    try:
        user_id = viewer.id if viewer and viewer.email == email.strip().lower() else None
        subscriber = service.subscribe(email, form.preferences, user_id=user_id)
        service.mail_confirmation(subscriber)
    except PaperstandError as exc:
        return _page(
            site, request, "digest.html", exc.http_status, title="Email digest", email=email,
            problem=str(exc), mail_ready=mail.configured(site.settings),
            **_values(form.preferences),
        )  # fmt: skip
    return _page(
        site,
        request,
        "digest_done.html",
        title="Check your inbox",
        message=f"A message is on its way to {subscriber.email}: open its link to confirm. "
        "Nothing is sent until then.",
    )


@router.get("/digest/confirm", include_in_schema=False)
def confirm(request: Request, site: SiteDep, token: Token) -> HTMLResponse:
    service = Subscriptions(site.store, site.settings)
    subscriber = service.confirm(token)
    return _page(
        site,
        request,
        "digest_done.html",
        title="Subscribed",
        message=f"{subscriber.email} will get the paperstand digest.",
        manage=service.link(subscriber, MANAGE),
    )


def _manage_page(
    site: Any, request: Request, subscriber: Subscriber, token: str, status: int = 200, **more: Any
) -> HTMLResponse:
    return _page(
        site,
        request,
        "digest_manage.html",
        status,
        title="Your digest",
        subscriber=subscriber,
        token=token,
        **{**_values(Preferences.of(subscriber)), **more},
    )


@router.get("/digest/manage", include_in_schema=False)
def manage_page(request: Request, site: SiteDep, token: Token) -> HTMLResponse:
    subscriber = Subscriptions(site.store, site.settings).from_token(token, MANAGE)
    return _manage_page(site, request, subscriber, token)


@router.post("/digest/manage", include_in_schema=False)
def manage(
    request: Request, site: SiteDep, token: FormToken, form: Annotated[PreferenceForm, Depends()]
) -> HTMLResponse:
    service = Subscriptions(site.store, site.settings)
    subscriber = service.from_token(token, MANAGE)
    try:
        subscriber = service.update(token, form.preferences)
    except PaperstandError as exc:
        return _manage_page(
            site, request, subscriber, token, exc.http_status, problem=str(exc),
            **_values(form.preferences),
        )  # fmt: skip
    return _manage_page(site, request, subscriber, token, saved=True)


@router.get("/digest/unsubscribe", include_in_schema=False)
def unsubscribe_page(request: Request, site: SiteDep, token: Token) -> HTMLResponse:
    subscriber = Subscriptions(site.store, site.settings).from_token(token, MANAGE)
    return _page(
        site, request, "digest_unsubscribe.html", title="Unsubscribe", subscriber=subscriber,
        token=token,
    )  # fmt: skip


@router.post("/digest/unsubscribe", include_in_schema=False)
def unsubscribe(request: Request, site: SiteDep, token: Token) -> HTMLResponse:
    """One click, from a mail client (RFC 8058) or the page's button."""
    subscriber = Subscriptions(site.store, site.settings).unsubscribe(token)
    return _page(
        site,
        request,
        "digest_done.html",
        title="Unsubscribed",
        message=f"{subscriber.email} gets no more digests. You can subscribe again at any time.",
    )


@router.get("/digest/preview", include_in_schema=False)
def preview(
    request: Request,
    site: SiteDep,
    viewer: CurrentUser,
    date: DayParam = None,
    weekly: bool = False,
    token: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The digest of a day as its HTML part: a subscriber's own (by their signed link, or
    the signed-in account's subscription), else what a new subscriber would get."""
    day = parse_day(date) if date else datetime.now(UTC).date()
    service = Subscriptions(site.store, site.settings)
    subscriber = None
    if token:
        subscriber = service.from_token(token, MANAGE)
    elif viewer is not None:
        subscriber = site.store.digests.subscriber_by_email(viewer.email)
    if subscriber is None:
        subscriber = Subscriber(0, "you@example.org", "confirmed", **_defaults())
    settings = site.settings
    sender = DigestSender(site.store, settings, search=fulltext_search(site.store, settings))
    period = Period.week(day) if weekly else Period.day(day)
    digest = Contents(site.store, settings, period, sender.search).digest_for(subscriber)
    if digest.count == 0:
        return _page(
            site, request, "digest_done.html", title="Nothing to send",
            message=f"No papers for this digest of {period.title}: no mail would go out.",
        )  # fmt: skip
    links = sender.links(subscriber) if subscriber.id else _nowhere(settings.base_url)
    return HTMLResponse(sender.composer.html(subscriber.email, digest, links))


def _defaults() -> dict[str, Any]:
    return Preferences().checked().to_dict()


def _nowhere(base_url: str) -> Links:
    """Links for a preview of nobody's digest: the subscribe page."""
    return Links(f"{base_url.rstrip('/')}/digest", f"{base_url.rstrip('/')}/digest")
