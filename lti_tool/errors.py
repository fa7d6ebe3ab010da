"""The tool's errors and their one mapping to HTTP responses."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext  # not lti_tool.i18n: it imports models that import us
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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


class Unavailable(AppError):
    """A service the tool needs (its database) is not available for now."""

    status = 503
    title = lazy_gettext("Service unavailable")

    def headers(self) -> dict[str, str]:
        """Clients that retry wait a few seconds first."""
        return {"Retry-After": "5"}


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

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_unreachable(error: Exception) -> Response:
        # A restart, failover or lock of the database: say so (503, Retry-After), no traceback.
        driver_error = getattr(error, "orig", None) or error  # psycopg's, not its wrapper
        log.warning("The database could not be reached: %s", type(driver_error).__name__)
        return _app_error(Unavailable(gettext(
            "The database is not available right now. Please try again in a few seconds."
        )))  # fmt: skip

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
