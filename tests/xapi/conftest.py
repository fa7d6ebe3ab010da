"""Fixtures of the xAPI tests: a fake LRS to pull statements from and send them to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.xapi.fake_lrs import FakeLrs, running


@pytest.fixture
def fake_lrs() -> Iterator[FakeLrs]:
    """A fake LRS at a real URL on 127.0.0.1."""
    with running() as fake:
        yield fake
