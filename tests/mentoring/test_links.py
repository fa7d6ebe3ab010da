"""Signed answer links: GET never records, POST records once, a changed link is refused
with 400 and an old one with 410, in words."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.mentoring import links
from lti_tool.mentoring.models import Response
from tests.mentoring.conftest import Tenant


def _question(client: FlaskClient, db: SQLAlchemy, tenant: Tenant) -> int:
    tenant.add_plan(db)
    tenant.later(db, hours=26)
    tenant.post(client)
    tenant.later(db)
    tenant.later(db, days=7)
    return tenant.deliveries(db)[2].id


def _responses(db: SQLAlchemy) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Response)) or 0)


def test_a_link_records_once_and_then_shows_the_answer(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    question = _question(client, db, tenant)
    token = links.sign(question, "not_yet")
    for _ in range(3):
        assert client.get(f"/mentoring/a/{token}").status_code == 200
    assert _responses(db) == 0  # mail scanners prefetch GETs
    first = client.post(f"/mentoring/a/{token}")
    assert "your answer “Not yet” is recorded" in first.text
    other = client.post(f"/mentoring/a/{links.sign(question, 'yes')}")
    assert "You already answered: “Not yet”" in other.text
    assert "You already answered" in client.get(f"/mentoring/a/{token}").text
    assert _responses(db) == 1


def test_a_tampered_link_is_refused_in_words(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    question = _question(client, db, tenant)
    token = links.sign(question, "yes")
    forged = links.sign(question, "yes").replace(".", ".x", 1)
    for bad in (forged, token[:-2], "nonsense"):
        response = client.post(f"/mentoring/a/{bad}")
        assert response.status_code == 400
        assert "was changed, so it cannot record an answer" in response.text
    assert _responses(db) == 0


def test_an_expired_link_is_gone_and_says_where_to_answer(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    question = _question(client, db, tenant)
    token = links.sign(question, "yes")
    tenant.clock.advance(timedelta(days=15))
    for response in (client.get(f"/mentoring/a/{token}"), client.post(f"/mentoring/a/{token}")):
        assert response.status_code == 410
        assert "Open your mentor panel" in response.text
    assert _responses(db) == 0
