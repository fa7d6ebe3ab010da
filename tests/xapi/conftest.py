"""Fixtures of the xAPI tests: a fake LRS to pull statements from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.servers import serve
from tests.xapi.fake_lrs import FakeLrs


@pytest.fixture
def fake_lrs() -> Iterator[FakeLrs]:
    """A fake LRS at a real URL on 127.0.0.1."""
    fake = FakeLrs()
    server, fake.url = serve(fake.app)
    yield fake
    fake.released.set()
    server.shutdown()
