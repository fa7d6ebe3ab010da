"""A real SMTP server for tests and benchmarks: aiosmtpd on 127.0.0.1, in a thread, keeping
what it received and answering however a test tells it to."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the server received, and how it answers."""

    #: (envelope sender, envelope recipients, raw message) of each accepted message.
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    #: Recipient address -> the reply to give its RCPT (e.g. "550 5.1.1 No such user").
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    #: A reply to give every DATA instead of accepting it (e.g. "451 4.3.0 Try later").
    data_reply: str | None = None
    #: Seconds to sit silent before answering DATA (a server that hangs).
    hang: float = 0.0
    #: Counts only, no messages kept (benchmarks).
    count_only: bool = False
    count: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        """Refuse a recipient as told, else accept it."""
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message (or count it), unless told to refuse or hang."""
        if self.hang:
            await asyncio.sleep(self.hang)
        if self.data_reply is not None:
            return self.data_reply
        with self.arrived:
            self.count += 1
            if not self.count_only:
                self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                                      bytes(envelope.original_content)))  # fmt: skip
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` messages have arrived; False if they did not in time."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.count >= count, timeout)

    def messages(self) -> list[EmailMessage]:
        """The received messages, parsed."""
        return [
            email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for _sender, _rcpts, raw in self.received
        ]


@contextlib.contextmanager
def smtp_server(
    mailbox: Mailbox, *, login: tuple[str, str] | None = None, port: int | None = None
) -> Iterator[tuple[str, int]]:
    """Run an SMTP server on 127.0.0.1 for ``mailbox`` (on ``port``, else a free one;
    requiring ``login`` if given)."""
    # aiosmtpd logs every connection at INFO, also from its thread after a test has ended.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    options: dict[str, Any] = {"server_hostname": "mail.test", "ready_timeout": 10}
    if login is not None:
        options.update(authenticator=_authenticator(*login), auth_require_tls=False)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    try:
        yield "127.0.0.1", controller.port
    finally:
        controller.stop()


def _authenticator(username: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (
            username.encode(),
            password.encode(),
        )
        return AuthResult(success=good, handled=False)

    return check
