"""Fixtures of the completion reader tests: a fake Moodle and a fake Canvas on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import pytest

from tests.helpers.servers import serve
from tests.lms.fake_canvas import FakeCanvas
from tests.lms.fake_moodle import FakeMoodle

Fake = TypeVar("Fake", FakeMoodle, FakeCanvas)


def _served(fake: Fake) -> Iterator[Fake]:
    """``fake`` at a real URL on 127.0.0.1, released and stopped after the test."""
    server: Any
    server, fake.url = serve(fake.app)
    yield fake
    fake.released.set()
    server.shutdown()


@pytest.fixture
def fake_moodle() -> Iterator[FakeMoodle]:
    """A fake Moodle at a real URL on 127.0.0.1."""
    yield from _served(FakeMoodle())


@pytest.fixture
def fake_canvas() -> Iterator[FakeCanvas]:
    """A fake Canvas at a real URL on 127.0.0.1."""
    yield from _served(FakeCanvas())
