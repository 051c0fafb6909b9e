"""Sending a day's digests, each exactly once per subscriber and period.

**The ledger.** Subscribers are taken in batches. For each batch the sender *claims* the
ledger rows (subscriber, period) in one transaction (``DigestStore.claim``): rows nobody
has, and rows whose sender died (status ``sending``, lease run out). Rows another sender
holds or has sent are skipped, so two workers, or a rerun, never mail a subscriber the same
digest twice. After the SMTP server accepts a message its row is marked ``sent`` in its own
transaction; every quarter of a lease that transaction also renews the lease of the rest
of the batch, so a slow but living sender never loses its rows to another (one message
with all its retries takes at most half a lease, see ``_lease``).

**The window between the server's acceptance and the mark.** No sender can close it: the
server may take a message and the process die before its commit. We chose at-least-once
for that one message rather than at-most-once: the rerun (after the lease,
``PAPERSTAND_DIGEST_LEASE``) sends it again, but with the *same* Message-ID, stored in the
ledger at the first claim. A receiving server or mail client that sees the Message-ID twice
keeps one copy (Gmail does; so does any client threading by Message-ID), and a reader who
sees two copies sees the same message. A lost digest would be invisible; a repeated one
with one id is not. The window is one SMTP round trip and one commit: per sender, at most
one message can be in it when a process dies.

**SMTP errors.** A temporary failure (4xx, a dropped connection, a timeout) is retried
``PAPERSTAND_DIGEST_TRIES`` times with doubling pauses; if it persists, the claims still held
are given back and the run stops with an error (the job queue retries it later, and the rows
already sent stay sent). A permanent failure (5xx) marks the address ``bounced``: it is
never mailed again and ``paperstand digest list --status bounced`` shows it with the reply.
An empty digest is not sent (its claim is given back: a later run, after more papers came
in, may still send it).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date

from paperstand.digest.content import Contents, Period, fulltext_search, is_due, periods_of
from paperstand.digest.subscriptions import Subscriptions
from paperstand.mail import Mailer, PermanentMailError, TemporaryMailError
from paperstand.mail.digest import DigestComposer, Links
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.store.digests import Claim, Subscriber

log = logging.getLogger(__name__)

BATCH = 100


@dataclass
class SendReport:
    period: str
    due: int = 0  # confirmed subscribers who get this period's digest
    sent: int = 0
    already: int = 0  # sent before, or being sent by another sender
    empty: int = 0  # nothing to send them
    refused: int = 0  # permanent failures: those addresses are now bounced

    def to_dict(self) -> dict[str, int | str]:
        return asdict(self)


class Pacer:
    """Keeps sending at most ``rate`` messages per second (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next > now:
            time.sleep(self.next - now)
        self.next = max(self.next, now) + self.interval


class DigestSender:
    """Sends the digests of a day (and of its week, on the weekly day) to every subscriber
    confirmed when it runs."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        worker: str | None = None,
        search: Callable[[str, Period], list[str]] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.search = search if search is not None else fulltext_search(store, settings)
        self.subscriptions = Subscriptions(store, settings)
        self.composer = DigestComposer(settings)
        self.domain = settings.mail_from.rpartition("@")[2] or socket.getfqdn()
        self._leased = time.monotonic()  # when the held rows' lease was last set

    def send_day(self, day: date) -> list[SendReport]:
        subscribers = self.store.digests.subscribers(status="confirmed")
        with Mailer(self.settings) as mailer:
            return [
                self.send_period(mailer, period, [s for s in subscribers if is_due(s, period)])
                for period in periods_of(day, self.settings)
            ]

    def links(self, subscriber: Subscriber) -> Links:
        return Links(*self.subscriptions.manage_links(subscriber))

    def _message_id(self, period: Period, subscriber: Subscriber) -> str:
        unique = f"{period.kind}.{period.label}.{subscriber.id}.{secrets.token_hex(6)}"
        return f"<digest.{unique}@{self.domain}>"

    def send_period(
        self, mailer: Mailer, period: Period, subscribers: list[Subscriber]
    ) -> SendReport:
        report = SendReport(period.key, due=len(subscribers))
        contents: Contents | None = None
        pacer = Pacer(self.settings.digest_rate)
        digests = self.store.digests
        for start in range(0, len(subscribers), BATCH):
            batch = subscribers[start : start + BATCH]
            ids = {s.id: self._message_id(period, s) for s in batch}
            claims = digests.claim(period.key, ids, batch, self.worker, self._lease())
            self._leased = time.monotonic()
            report.already += len(batch) - len(claims)
            if claims and contents is None:
                contents = Contents(self.store, self.settings, period, self.search)
            for number, claim in enumerate(claims):
                assert contents is not None
                try:
                    self._send_one(mailer, pacer, contents, period, claim, report)
                except TemporaryMailError:
                    for rest in claims[number:]:
                        digests.release(rest.subscriber.id, period.key, self.worker)
                    raise
        return report

    def _lease(self) -> float:
        """Long enough for one message at the configured rate with all its retries."""
        retries = self.settings.digest_backoff * (2**self.settings.digest_tries)
        pace = 1.0 / self.settings.digest_rate if self.settings.digest_rate else 0.0
        return max(self.settings.digest_lease, 2 * (retries + pace))

    def _renewal(self) -> float | None:
        """The lease to renew the held rows for, once a quarter of it has passed since the
        claim or the last renewal (None before): renewing visits the period's whole ledger,
        too much for every message, and a quarter leaves the rest of the lease to spare."""
        lease = self._lease()
        if time.monotonic() - self._leased < lease / 4:
            return None
        self._leased = time.monotonic()
        return lease

    def _send_one(
        self,
        mailer: Mailer,
        pacer: Pacer,
        contents: Contents,
        period: Period,
        claim: Claim,
        report: SendReport,
    ) -> None:
        subscriber = claim.subscriber
        digests = self.store.digests
        digest = contents.digest_for(subscriber)
        if digest.count == 0:
            digests.release(subscriber.id, period.key, self.worker)
            report.empty += 1
            return
        message = self.composer.message(
            subscriber.email, digest, self.links(subscriber), claim.message_id
        )
        try:
            self._deliver(mailer, pacer, subscriber.email, message)
        except PermanentMailError as exc:
            digests.mark_refused(subscriber.id, period.key, self.worker, str(exc))
            report.refused += 1
            log.warning("%s refused for good: %s", subscriber.email, exc)
            return
        if digests.mark_sent(subscriber.id, period.key, self.worker, self._renewal()):
            report.sent += 1
        else:  # pragma: no cover - only when this sender stalled past its lease
            log.warning("%s: the claim passed to another sender while sending", subscriber.email)

    def _deliver(self, mailer: Mailer, pacer: Pacer, to: str, message: bytes) -> None:
        tries = self.settings.digest_tries
        for attempt in range(tries):
            pacer.wait()
            try:
                mailer.send_bytes(to, message)
                return
            except TemporaryMailError as exc:
                if attempt == tries - 1:
                    raise
                pause = self.settings.digest_backoff * 2**attempt
                log.info("%s; trying again in %.1fs", exc, pause)
                time.sleep(pause)


def send_digests(store: Store, settings: Settings, day: date) -> list[SendReport]:
    """Send the digests of ``day`` (see :class:`DigestSender`)."""
    return DigestSender(store, settings).send_day(day)
