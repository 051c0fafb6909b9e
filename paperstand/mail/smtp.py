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

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from paperstand.errors import InvalidInput, PaperstandError
from paperstand.settings import Settings

DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
TIMEOUT = 30.0


class MailError(PaperstandError):
    """The message could not be handed to the SMTP server (not configured, refused, down)."""

    http_status = 503


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.mail_from)


def send(settings: Settings, to: str, subject: str, text: str) -> None:
    """Hand one plain-text message for ``to`` to the SMTP server; :class:`MailError` if the
    server cannot be reached or refuses it."""
    if not configured(settings):
        raise MailError("mail is not configured: set PAPERSTAND_SMTP_HOST and _MAIL_FROM")
    message = EmailMessage()
    try:
        message["From"] = settings.mail_from
        message["To"] = to
        message["Subject"] = subject
    except ValueError as exc:  # a line break in a header: never let it add headers
        raise InvalidInput(f"cannot mail this: {exc}") from exc
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(text)

    security = settings.smtp_security
    port = settings.smtp_port or DEFAULT_PORTS[security]
    context = ssl.create_default_context()
    host = settings.smtp_host
    try:
        if security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with client:
            if security == "starttls":
                client.starttls(context=context)
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise MailError(f"could not send mail through {host}:{port}: {detail}") from exc
