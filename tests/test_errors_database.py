"""A database that cannot be used for now (a restart, a failover) is a 503 that says to try
again, never a 500: API clients get JSON, people a page, and no traceback is logged."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

SENTENCE = "The database is not available right now. Please try again in a few seconds."


def _down() -> str:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


@pytest.mark.parametrize(
    ("path", "kind"), [("/xapi/down", "application/json"), ("/down", "text/html")]
)
def test_a_database_that_is_down_answers_503_with_retry_after_and_a_sentence(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture, path: str, kind: str
) -> None:
    app = make_app()
    app.add_url_rule(path, view_func=_down)
    answer = app.test_client().get(path)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.mimetype == kind
    assert SENTENCE in answer.get_data(as_text=True)
    assert "Traceback" not in caplog.text
    assert "The database could not be reached: ConnectionRefusedError" in caplog.text
