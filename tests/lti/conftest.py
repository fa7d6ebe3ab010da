"""Fixtures for LTI tests: a registered test platform with a live JWKS endpoint."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flask_sqlalchemy import SQLAlchemy

from lti_tool.lti.models import PlatformRegistration
from tests.helpers.platform import PlatformDouble, serve_jwks


@pytest.fixture
def platform() -> Iterator[PlatformDouble]:
    """A platform with one key, its JWKS served on 127.0.0.1 (not yet registered)."""
    unique = secrets.token_hex(4)
    double = PlatformDouble(
        issuer=f"https://lms-{unique}.example.edu",
        client_id=f"client-{unique}",
        deployment_id="deployment-1",
    )
    double.rotate()
    yield from serve_jwks(double)


@pytest.fixture
def registered(platform: PlatformDouble, db: SQLAlchemy) -> PlatformDouble:
    """The platform, registered with an active deployment."""
    platform.register(db.session())
    return platform


@pytest.fixture
def registration(registered: PlatformDouble, db: SQLAlchemy) -> PlatformRegistration:
    """The registration row of the registered platform."""
    return db.session.query(PlatformRegistration).filter_by(issuer=registered.issuer).one()
