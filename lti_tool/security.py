"""Headers every response carries."""

from __future__ import annotations

from flask import Flask, Response


def init_security_headers(app: Flask) -> None:
    """No MIME sniffing; no Referer to other sites (launch tokens travel in page URLs)."""

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
