"""Fixtures of the channel tests: a real SMTP server on 127.0.0.1 and messages to send."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lti_tool.mentoring.channels.email import SmtpSettings
from tests.channels.fake_receiver import FakeReceiver
from tests.helpers.servers import serve
from tests.helpers.smtp import Mailbox, smtp_server


@pytest.fixture
def mailbox() -> Mailbox:
    """An SMTP server's mailbox; the server runs while the test does (``smtp`` fixture)."""
    return Mailbox()


@pytest.fixture
def smtp(mailbox: Mailbox) -> Iterator[SmtpSettings]:
    """Settings that reach a real SMTP server on 127.0.0.1 without TLS."""
    with smtp_server(mailbox) as (host, port):
        yield SmtpSettings(host=host, port=port, from_address="mentor@vm.example.org",
                           security="none", timeout=2.0, reply_secret="s" * 40)  # fmt: skip


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    """A webhook receiver at a real URL on 127.0.0.1."""
    fake = FakeReceiver()
    server, fake.url = serve(fake.app)
    yield fake
    fake.released.set()
    server.shutdown()
