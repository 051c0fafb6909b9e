"""Subscribing, confirming, changing preferences and unsubscribing.

A subscription needs only an email address. It starts ``pending`` and is mailed a signed
confirmation link that expires (``PAPERSTAND_DIGEST_CONFIRM_HOURS``): nobody can sign up an
address they cannot read. Every digest carries two more signed links, which never expire
and need no account: one to change preferences and one to unsubscribe (also the
``List-Unsubscribe`` one-click URL). The links are signed with the site's key
(``accounts/credentials.py``); what they name is a subscriber id together with its address,
so a link stops working if that row is deleted and the address subscribes again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from paperstand import mail
from paperstand.accounts.credentials import signing_key
from paperstand.errors import InvalidInput, NotFound
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.store.digests import Subscriber

# What a digest can hold, in the order it shows them (each has a builder in
# content.SECTIONS). "for_you" needs an account: the personal model's picks for it.
SECTIONS = ("for_you", "daily", "trending", "follows")
DEFAULT_SECTIONS = ("daily", "trending")
MAX_FOLLOWS = 50
MAX_SEARCHES = 20
MAX_TEXT = 200
_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_CATEGORY = re.compile(r"^[a-z-]+(?:\.[A-Za-z-]+)?$")

CONFIRM, MANAGE = "digest-confirm", "digest-manage"


@dataclass
class Preferences:
    """What a subscriber gets: how often, and which sections and follows."""

    weekly: bool = False
    weekends: bool = False
    sections: list[str] = field(default_factory=lambda: list(DEFAULT_SECTIONS))
    categories: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, subscriber: Subscriber) -> Preferences:
        return cls(
            subscriber.weekly,
            subscriber.weekends,
            list(subscriber.sections),
            list(subscriber.categories),
            list(subscriber.authors),
            list(subscriber.searches),
        )

    def checked(self) -> Preferences:
        """These preferences cleaned (trimmed, without repeats), or :class:`InvalidInput`."""
        unknown = [s for s in self.sections if s not in SECTIONS]
        if unknown:
            raise InvalidInput(
                f"unknown digest section {unknown[0]!r}; known: {', '.join(SECTIONS)}"
            )
        categories = _texts(self.categories, "categories", MAX_FOLLOWS)
        for category in categories:
            if not _CATEGORY.match(category):
                raise InvalidInput(f"not an arXiv category: {category!r} (e.g. cs.CL)")
        authors = _texts(self.authors, "authors", MAX_FOLLOWS)
        searches = _texts(self.searches, "saved searches", MAX_SEARCHES)
        sections = [s for s in SECTIONS if s in self.sections]
        if (categories or authors or searches) and "follows" not in sections:
            sections.append("follows")
        if not sections:
            raise InvalidInput("choose at least one thing for the digest to hold")
        return Preferences(self.weekly, self.weekends, sections, categories, authors, searches)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _texts(values: list[str], what: str, most: int) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(v.split()) for v in values if v and v.strip()))
    if len(cleaned) > most:
        raise InvalidInput(f"at most {most} {what}")
    for value in cleaned:
        if len(value) > MAX_TEXT:
            raise InvalidInput(f"{what}: at most {MAX_TEXT} characters each")
    return cleaned


def normal_email(email: str) -> str:
    """The address as stored (trimmed, lower-cased), or :class:`InvalidInput`."""
    address = (email or "").strip().lower()
    if len(address) > 254 or not _EMAIL.match(address):
        raise InvalidInput(f"not an email address: {email[:80]!r}")
    return address


class Subscriptions:
    """The subscription service of one store and its settings."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        key = signing_key(settings.secret_key.get_secret_value(), settings.home)
        self._serializer = URLSafeTimedSerializer(key)

    # --- signed links -------------------------------------------------------------------

    def token(self, subscriber: Subscriber, purpose: str) -> str:
        return self._serializer.dumps([subscriber.id, subscriber.email], salt=purpose)

    def link(self, subscriber: Subscriber, purpose: str) -> str:
        page = {CONFIRM: "confirm", MANAGE: "manage", "unsubscribe": "unsubscribe"}[purpose]
        salt = CONFIRM if purpose == CONFIRM else MANAGE
        return self._url(page, self.token(subscriber, salt))

    def manage_links(self, subscriber: Subscriber) -> tuple[str, str]:
        """The preferences and the unsubscribe link of every digest. Both pages take the
        same signed token, so it is signed once: a send signs one per message."""
        token = self.token(subscriber, MANAGE)
        return self._url("manage", token), self._url("unsubscribe", token)

    def _url(self, page: str, token: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/digest/{page}?token={token}"

    def from_token(self, token: str, purpose: str) -> Subscriber:
        """The subscriber a signed link names; :class:`InvalidInput` when the link is
        forged, mangled or (for confirmations) expired."""
        max_age = self.settings.digest_confirm_hours * 3600 if purpose == CONFIRM else None
        try:
            subscriber_id, email = self._serializer.loads(token, salt=purpose, max_age=max_age)
        except SignatureExpired:
            raise InvalidInput("this confirmation link has expired: subscribe again") from None
        except (BadSignature, ValueError, TypeError):
            raise InvalidInput("this link is not valid (was it cut short?)") from None
        found = self.store.digests.subscriber(subscriber_id)
        if found is None or found.email != email:
            raise NotFound("this subscription does not exist any more")
        return found

    # --- subscribing --------------------------------------------------------------------

    def subscribe(
        self,
        email: str,
        preferences: Preferences,
        *,
        confirmed: bool = False,
        user_id: int | None = None,
    ) -> Subscriber:
        """Subscribe ``email``. Unless ``confirmed`` (an admin, or an account whose address
        is known), it stays pending until its confirmation link is opened; the caller mails
        that link (:meth:`mail_confirmation`). A confirmed subscription of an address is
        never changed from here without the subscriber's own link: the caller mails the
        preferences link instead, so nobody can reconfigure someone else's digest."""
        address = normal_email(email)
        wanted = preferences.checked()
        existing = self.store.digests.subscriber_by_email(address)
        if existing is not None and existing.status == "confirmed" and not confirmed:
            return existing
        status = "confirmed" if confirmed else "pending"
        return self.store.digests.save_subscriber(address, status, wanted.to_dict(), user_id)

    def mail_confirmation(self, subscriber: Subscriber) -> None:
        """Mail the confirmation link (or, to a confirmed subscriber, the preferences link)."""
        if subscriber.status == "confirmed":
            manage, unsubscribe = self.manage_links(subscriber)
            text = (
                "You are already subscribed to the paperstand digest.\n\n"
                f"Change what you get: {manage}\n"
                f"Unsubscribe: {unsubscribe}\n"
            )
            mail.send(self.settings, subscriber.email, "Your paperstand digest", text)
            return
        hours = self.settings.digest_confirm_hours
        text = (
            "Someone (we hope you) asked for the paperstand digest at this address.\n\n"
            f"Confirm within {hours} hours: {self.link(subscriber, CONFIRM)}\n\n"
            "If it was not you, ignore this message: nothing will be sent.\n"
        )
        mail.send(self.settings, subscriber.email, "Confirm your paperstand digest", text)

    def confirm(self, token: str) -> Subscriber:
        subscriber = self.from_token(token, CONFIRM)
        if subscriber.status == "confirmed":
            return subscriber
        if subscriber.status != "pending":
            raise InvalidInput("this subscription was ended: subscribe again")
        confirmed = self.store.digests.set_status(subscriber.id, "confirmed", only_from=["pending"])
        return confirmed or subscriber

    def update(self, token: str, preferences: Preferences) -> Subscriber:
        subscriber = self.from_token(token, MANAGE)
        return self.store.digests.set_preferences(subscriber.id, preferences.checked().to_dict())

    def unsubscribe(self, token: str) -> Subscriber:
        """End the subscription the link names (again is fine)."""
        return self._end(self.from_token(token, MANAGE))

    def unsubscribe_email(self, email: str) -> Subscriber:
        found = self.store.digests.subscriber_by_email(normal_email(email))
        if found is None:
            raise NotFound(f"{email} is not subscribed")
        return self._end(found)

    def _end(self, subscriber: Subscriber) -> Subscriber:
        if subscriber.status in ("unsubscribed", "bounced"):
            return subscriber
        ended = self.store.digests.set_status(subscriber.id, "unsubscribed")
        return ended or subscriber
