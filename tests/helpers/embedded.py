"""The tool with its embedded platform (as ``make demo`` runs them), for tests that launch
through the platform's course page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.lti import keysets


@pytest.fixture
def platform_client(
    make_app: Callable[..., Flask], db: SQLAlchemy, monkeypatch: pytest.MonkeyPatch
) -> FlaskClient:
    """The tool with its embedded platform; the tool fetches the platform's JWKS through it."""
    client = make_app(LTI_EMBEDDED_PLATFORM=True).test_client()
    monkeypatch.setattr(
        keysets, "fetch_key_set", lambda url, timeout: client.get(urlsplit(url).path).json
    )
    return client
