"""Errors answer people with a page and programs with JSON, never a stack trace."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from lti_tool.errors import Conflict


@pytest.fixture
def error_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    @app.get("/conflict")
    def conflict() -> str:
        raise Conflict("That statement id is already stored with different content.")

    @app.post("/echo")
    def echo() -> str:
        from flask import request

        return str(len(request.get_data()))

    return app


def test_unknown_page_is_a_readable_404(error_app: Flask) -> None:
    response = error_app.test_client().get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<h1>Not Found</h1>" in html
    assert "reference" in html  # the request id, to quote to support


def test_api_clients_get_json_errors(error_app: Flask) -> None:
    response = error_app.test_client().get("/no-such", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"] == "Not Found"


def test_xapi_paths_always_answer_json(error_app: Flask) -> None:
    response = error_app.test_client().get("/xapi/nothing-here", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.is_json


def test_app_errors_keep_their_status_and_sentence(error_app: Flask) -> None:
    response = error_app.test_client().get("/conflict", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json == {
        "error": "Conflict",
        "message": "That statement id is already stored with different content.",
    }


def test_unexpected_errors_hide_internals_and_are_logged(
    error_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    response = error_app.test_client().get("/boom", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Something went wrong" in response.get_data(as_text=True)
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


def test_method_not_allowed(error_app: Flask) -> None:
    response = error_app.test_client().post("/healthz")
    assert response.status_code == 405


def test_oversized_body_is_refused_with_413(make_app: Callable[..., Flask]) -> None:
    app = make_app(HTTP_MAX_CONTENT_LENGTH=1024)

    @app.post("/upload")
    def upload() -> str:
        from flask import request

        return str(len(request.get_data()))

    client = app.test_client()
    assert client.post("/upload", data=b"x" * 1024).status_code == 200
    response = client.post("/upload", data=b"x" * 1025, headers={"Accept": "application/json"})
    assert response.status_code == 413
