"""The outbox on PostgreSQL with workers racing: two deliverers at once never send a statement
twice (``FOR UPDATE SKIP LOCKED``), and every statement arrives."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from lti_tool.extensions import db
from lti_tool.lti.models import PlatformRegistration
from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory
from tests.helpers.services import service_url
from tests.xapi.fake_lrs import PASSWORD, USERNAME, FakeLrs, running
from xapi import builders, delivery, outbox, sources
from xapi.builders import Scene
from xapi.models import LrsPurpose, OutboxStatement

pytestmark = pytest.mark.integration
STATEMENTS = 60
SETTINGS = delivery.DeliverySettings(
    batch=5, first_retry=30.0, last_retry=3600.0, timeout=5.0, production=False
)


@pytest.fixture
def fake_lrs() -> Iterator[FakeLrs]:
    """A fake LRS at a real URL on 127.0.0.1."""
    with running() as fake:
        yield fake


@pytest.fixture
def committed_outbox(app: Flask, fake_lrs: FakeLrs) -> Iterator[int]:
    """A registration with STATEMENTS statements waiting and an LRS to send them to,
    committed for every connection to see (removed afterwards); its id."""
    service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    with app.app_context():
        registration = RegistrationFactory()
        scene = Scene.of(
            "https://mentor.example.org", registration, PersonFactory(registration=registration),
            CourseFactory(deployment=DeploymentFactory(registration=registration)),
        )  # fmt: skip
        sources.add(db.session(), sources.NewSource(
            registration_id=registration.id, name="ACME LRS", endpoint=f"{fake_lrs.url}/xapi",
            username=USERNAME, password=PASSWORD, purpose=LrsPurpose.SEND,
        ), production=False)  # fmt: skip
        start = datetime(2026, 11, 24, 8, tzinfo=UTC)
        for number in range(STATEMENTS):
            at = start + timedelta(seconds=number)
            statement = builders.asked_question(scene, question_id=number, text="?", at=at)
            outbox.emit(db.session(), registration.id, statement)
        db.session.commit()
        registration_id = registration.id
        db.session.remove()
    yield registration_id
    with app.app_context():
        db.session.execute(delete(PlatformRegistration).where(
            PlatformRegistration.id == registration_id))  # fmt: skip
        db.session.commit()
        db.session.remove()


def test_two_deliverers_at_once_never_send_a_statement_twice(
    app: Flask, fake_lrs: FakeLrs, committed_outbox: int
) -> None:
    fake_lrs.hang = 0.05  # each POST takes a while, so the two deliverers overlap
    delivered: list[int] = []
    start = threading.Barrier(2)

    def deliverer() -> None:
        with app.app_context():
            start.wait()
            delivered.append(delivery.deliver(db.session(), committed_outbox, SETTINGS))
            db.session.remove()

    workers = [threading.Thread(target=deliverer) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    sent = Counter(statement_id for batch in fake_lrs.accepted for statement_id in batch)
    assert len(sent) == STATEMENTS
    assert set(sent.values()) == {1}  # no statement went twice
    assert sum(delivered) == STATEMENTS
    assert all(count > 0 for count in delivered)  # both took a share
    with app.app_context():
        undelivered = db.session.scalar(
            select(func.count()).select_from(OutboxStatement).where(
                OutboxStatement.registration_id == committed_outbox,
                OutboxStatement.delivered_at.is_(None),
            )
        )  # fmt: skip
        db.session.remove()
    assert undelivered == 0
