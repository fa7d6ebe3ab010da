"""The tool's errors and their one mapping to HTTP responses."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext  # not lti_tool.i18n: it imports models that import us
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error a person can act on: an HTTP status and a sentence that explains it."""

    status = 400
    title: str = lazy_gettext("Bad request")

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides the usual ones."""
        return {}


class NotFound(AppError):
    """The thing asked for does not exist (or is not yours to see)."""

    status = 404
    title = lazy_gettext("Not found")


class Forbidden(AppError):
    """The caller is known but may not do this."""

    status = 403
    title = lazy_gettext("Forbidden")


class Conflict(AppError):
    """The request contradicts what is stored."""

    status = 409
    title = lazy_gettext("Conflict")


def register_error_handlers(app: Flask) -> None:
    """Answer every error as JSON for API clients and as a page for people."""

    @app.errorhandler(AppError)
    def _app_error(error: AppError) -> Response:
        response = _respond(error.status, str(error.title), error.message)
        response.headers.update(error.headers())
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        return _respond(status, error.name, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("Unhandled error")
        return _respond(
            500,
            gettext("Something went wrong"),
            gettext("The error has been logged. Please try again shortly."),
        )


def _wants_json() -> bool:
    if request.path.startswith(("/xapi/", "/lti/jwks", "/healthz", "/readyz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _respond(status: int, title: str, message: str) -> Response:
    if _wants_json():
        response = jsonify({"error": title, "message": message})
        response.status_code = status
        return response
    html = render_template("errors/error.html", status=status, title=title, message=message)
    return Response(html, status=status, mimetype="text/html")
