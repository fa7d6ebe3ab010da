"""Structured logs: one JSON object a line in production, readable text in development.

Every line carries the request id (or the Celery task id) it belongs to.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
#: A request id from a proxy is kept only if it is plainly an id (no log injection).
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s"
access_log = logging.getLogger("lti_tool.access")


class _StderrHandler(logging.StreamHandler[Any]):
    """Writes to whatever sys.stderr is at the moment (test runners swap it)."""

    @property
    def stream(self) -> Any:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class ContextFilter(logging.Filter):
    """Adds request_id and task_id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate the record; never drops it."""
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        record.task_id = _current_task_id()
        return True


def _current_task_id() -> str | None:
    from celery import current_task  # noqa: PLC0415 (celery is imported lazily by design)

    request = getattr(current_task, "request", None)
    return getattr(request, "id", None)


def configure_logging(log_format: str, level: str, env: str) -> None:
    """Install our handler on the root logger (replacing a previous one of ours)."""
    if log_format == "auto":
        log_format = "json" if env == "production" else "text"
    handler = _StderrHandler()
    handler.set_name("virtual-mentor")
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                _JSON_FIELDS,
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "virtual-mentor"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Werkzeug's development server logs each request line with its query string, where
    # launch tokens, OIDC states and one-click links travel; our own access line (path
    # only) already says what was asked. Its warnings and errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def init_request_logging(app: Flask) -> None:
    """Give each request an id, answer it in a header, and log one access line."""

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        # The path only: query strings can carry tokens (dynamic registration, one-click links).
        access_log.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed_ms, 1),
            },
        )
        return response
