"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what it receives
as stdlib ``email`` messages, with faults to inject per recipient."""

from __future__ import annotations

import email
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A loopback port nobody listens on (aiosmtpd's ``port=0`` does not work)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """What the server received. ``refuse`` maps an address to the reply its RCPT gets
    (e.g. ``"550 no such user"``); ``busy`` maps an address to how many times its message
    is answered ``451`` before it is taken."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    recipients_tried: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    busy: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            self.recipients_tried.append(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for address in envelope.rcpt_tos:
                if self.busy.get(address, 0) > 0:
                    self.busy[address] -= 1
                    return "451 4.3.0 try again later"
            self.envelopes.append(envelope)
            self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def per_recipient(self) -> Counter[str]:
        with self.lock:
            return Counter(m["To"] for m in self.messages)


def smtp_server(inbox: Inbox, **options: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port
