"""The mail face: messages paperstand sends (password-reset links today, digests later),
through the SMTP server of the settings, with the standard library's ``smtplib``.

``send(settings, to, subject, text)`` sends one plain-text message. ``configured(settings)``
tells whether mail can be sent at all: until ``PAPERSTAND_SMTP_HOST`` is set, callers offer
another way (``paperstand user reset-link EMAIL`` prints the link instead).
"""

from __future__ import annotations

from paperstand.mail.smtp import MailError, configured, send

__all__ = ["MailError", "configured", "send"]
