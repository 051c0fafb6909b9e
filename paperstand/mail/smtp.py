"""Sending one message over SMTP, as the settings say.

| setting | meaning |
| --- | --- |
| ``PAPERSTAND_SMTP_HOST`` | the SMTP server; empty: mail is not configured |
| ``PAPERSTAND_SMTP_PORT`` | its port; 0 picks the usual one for the security (25, 587, 465) |
| ``PAPERSTAND_SMTP_SECURITY`` | ``starttls`` (default), ``tls`` (implicit TLS) or ``none`` |
| ``PAPERSTAND_SMTP_USER``, ``_PASSWORD`` | log in with these when the user is set |
| ``PAPERSTAND_MAIL_FROM`` | the sender address |

TLS certificates are checked against the system's trust store (``SSL_CERT_FILE`` points
Python at another one).
"""

from __future__ import annotations

import email
import smtplib
import ssl
from collections.abc import Callable
from email import policy
from email.message import EmailMessage, Message
from email.utils import make_msgid

from paperstand.errors import InvalidInput, PaperstandError
from paperstand.settings import Settings

DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
TIMEOUT = 30.0


class MailError(PaperstandError):
    """The message could not be handed to the SMTP server (not configured, refused, down)."""

    http_status = 503


class TemporaryMailError(MailError):
    """Worth trying again later: a 4xx reply, a dropped or refused connection, a timeout."""


class PermanentMailError(MailError):
    """A 5xx reply about this message or its recipient: sending it again will not help."""


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.mail_from)


def message_id(settings: Settings) -> str:
    """A new Message-ID in the sender's domain."""
    return make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)


def plain_message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    """A plain-text message from the configured sender; :class:`InvalidInput` when a header
    value would smuggle in a line break."""
    message = EmailMessage()
    try:
        message["From"] = settings.mail_from
        message["To"] = to
        message["Subject"] = subject
    except ValueError as exc:  # a line break in a header: never let it add headers
        raise InvalidInput(f"cannot mail this: {exc}") from exc
    message["Message-ID"] = message_id(settings)
    message.set_content(text)
    return message


def seven_bit(data: bytes) -> bytes:
    """A message with 8-bit parts rewritten in 7-bit transfer encodings, for a server that
    does not take 8BITMIME."""
    message = email.message_from_bytes(data, policy=policy.SMTP)
    return message.as_bytes(policy=policy.SMTP.clone(cte_type="7bit"))


class Mailer:
    """One SMTP connection, opened on first use and kept for the messages that follow (a
    digest run sends thousands; a new connection each would cost a TLS handshake each).

    :meth:`send` sorts failures into :class:`TemporaryMailError` (the connection is closed
    and reopened on the next send) and :class:`PermanentMailError`.
    """

    def __init__(self, settings: Settings) -> None:
        if not configured(settings):
            raise MailError("mail is not configured: set PAPERSTAND_SMTP_HOST and _MAIL_FROM")
        self.settings = settings
        self.security = settings.smtp_security
        self.host = settings.smtp_host
        self.port = settings.smtp_port or DEFAULT_PORTS[self.security]
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=TIMEOUT, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
        try:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.settings.smtp_user:
                client.login(
                    self.settings.smtp_user, self.settings.smtp_password.get_secret_value()
                )
        except BaseException:
            client.close()
            raise
        return client

    def send(self, message: Message) -> None:
        """Hand ``message`` to the server (its To header is the recipient)."""
        self._transmit(lambda client: client.send_message(message))

    def send_bytes(self, to: str, data: bytes) -> None:
        """Hand a message already written out (CRLF lines, UTF-8 parts marked 8-bit) to the
        server for ``to``: as it is where the server takes 8BITMIME, which nearly all do,
        and re-encoded to 7-bit (base64 parts) where it does not."""

        def hand_over(client: smtplib.SMTP) -> None:
            client.ehlo_or_helo_if_needed()
            if client.has_extn("8bitmime"):
                options = ["BODY=8BITMIME"]
                client.sendmail(self.settings.mail_from, [to], data, mail_options=options)
            else:
                client.sendmail(self.settings.mail_from, [to], seven_bit(data))

        self._transmit(hand_over)

    def _transmit(self, hand_over: Callable[[smtplib.SMTP], object]) -> None:
        try:
            if self._client is None:
                self._client = self._connect()
            hand_over(self._client)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            self._fail(code, reply)
        except smtplib.SMTPResponseException as exc:
            self._fail(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise TemporaryMailError(self._where(detail)) from exc

    def _fail(self, code: int, reply: bytes | str) -> None:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        detail = self._where(f"{code} {' '.join(text.split())}")
        if 500 <= code < 600:
            self._reset()
            raise PermanentMailError(detail)
        self.close()
        raise TemporaryMailError(detail)

    def _reset(self) -> None:
        """After a refused message the session stays usable once reset (RSET)."""
        try:
            if self._client is not None:
                self._client.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def _where(self, detail: str) -> str:
        return f"could not send mail through {self.host}:{self.port}: {detail}"

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()


def send(settings: Settings, to: str, subject: str, text: str) -> None:
    """Hand one plain-text message for ``to`` to the SMTP server; :class:`MailError` if the
    server cannot be reached or refuses it."""
    if not configured(settings):
        raise MailError("mail is not configured: set PAPERSTAND_SMTP_HOST and _MAIL_FROM")
    with Mailer(settings) as mailer:
        mailer.send(plain_message(settings, to, subject, text))
