"""Mail goes through a real SMTP server (aiosmtpd on a loopback port), plain, STARTTLS and
implicit TLS, with and without a login; failures are one-line :class:`MailError`\\ s."""

from __future__ import annotations

import email
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from paperstand import mail
from paperstand.errors import InvalidInput
from paperstand.settings import Settings


def free_port() -> int:
    """A loopback port nobody listens on (aiosmtpd's ``port=0`` does not work)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"s3cret")
    return AuthResult(success=ok, handled=False)


def smtp_server(inbox: Inbox, **options: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


def settings_for(port: int, security: str, **more: Any) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=security,
        mail_from="paperstand@lab.example",
        **more,
    )


def test_plain_smtp_delivers_the_message(inbox: Inbox) -> None:
    controller, port = smtp_server(inbox)
    try:
        mail.send(settings_for(port, "none"), "ada@lab.example", "Hello Ada", "Line one\nüñí")
    finally:
        controller.stop()
    [message] = inbox.messages
    assert message["From"] == "paperstand@lab.example"
    assert message["To"] == "ada@lab.example"
    assert message["Subject"] == "Hello Ada"
    assert message["Message-ID"].endswith("@lab.example>")
    assert message.get_payload(decode=True).decode().splitlines() == ["Line one", "üñí"]
    assert inbox.envelopes[0].rcpt_tos == ["ada@lab.example"]


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server-side TLS context, its certificate trusted by the client's default context."""
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_starttls_with_login(inbox: Inbox, trusted: ssl.SSLContext) -> None:
    controller, port = smtp_server(
        inbox, tls_context=trusted, require_starttls=True, authenticator=check_login
    )
    try:
        conf = settings_for(port, "starttls", smtp_user="bot", smtp_password="s3cret")
        mail.send(conf, "bo@lab.example", "Reset", "link")
        wrong = settings_for(port, "starttls", smtp_user="bot", smtp_password="nope")
        with pytest.raises(mail.MailError, match=f"127.0.0.1:{port}"):
            mail.send(wrong, "bo@lab.example", "Reset", "link")
    finally:
        controller.stop()
    assert [m["Subject"] for m in inbox.messages] == ["Reset"]


def test_implicit_tls(inbox: Inbox, trusted: ssl.SSLContext) -> None:
    controller, port = smtp_server(inbox, ssl_context=trusted)
    try:
        mail.send(settings_for(port, "tls"), "cy@lab.example", "Digest", "papers")
    finally:
        controller.stop()
    assert [m["To"] for m in inbox.messages] == ["cy@lab.example"]


def test_untrusted_certificate_is_refused(
    inbox: Inbox, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(Path(ssl.get_default_verify_paths().cafile or "")))
    controller, port = smtp_server(inbox, tls_context=context, require_starttls=True)
    try:
        with pytest.raises(mail.MailError, match="certificate"):
            mail.send(settings_for(port, "starttls"), "x@lab.example", "s", "t")
    finally:
        controller.stop()
    assert inbox.messages == []


def test_server_down_and_not_configured() -> None:
    with pytest.raises(mail.MailError, match="could not send mail"):
        mail.send(settings_for(free_port(), "none"), "x@lab.example", "s", "t")
    assert not mail.configured(Settings())
    with pytest.raises(mail.MailError, match="not configured"):
        mail.send(Settings(), "x@lab.example", "s", "t")


def test_header_injection_is_refused() -> None:
    with pytest.raises(InvalidInput):
        mail.send(
            settings_for(free_port(), "none"), "x@lab.example\r\nBcc: all@x.example", "s", "t"
        )
