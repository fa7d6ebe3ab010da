"""Dispatchers racing on real PostgreSQL (the app's own engine, as in production): every due
delivery is delivered exactly once however many dispatchers claim at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.extensions import close_connections, db
from lti_tool.mentoring import dispatch
from lti_tool.mentoring.models import Delivery, DeliveryStatus
from tests.conftest import own_database
from tests.helpers.seed import welcome_due
from tests.helpers.services import service_url

LEARNERS = 300


def _seed(app: Flask) -> None:
    with app.app_context():
        welcome_due(db.session(), LEARNERS)


@pytest.mark.integration
def test_two_dispatchers_at_once_deliver_each_delivery_once(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    with own_database(tmp_path) as url:
        app = make_app(DATABASE_URL=url, BROKER_URL="memory://", MENTORING_QUIET_START="",
                       MENTORING_QUIET_END="", MENTORING_DAILY_CAP=0)  # fmt: skip
        with app.app_context():
            flask_migrate.upgrade()
        _seed(app)
        counts: list[int] = []
        start = threading.Barrier(4)

        def dispatcher() -> None:
            with app.app_context():
                start.wait()
                counts.append(dispatch.dispatch_due(db.session(), batch=25))
                db.session.remove()

        threads = [threading.Thread(target=dispatcher) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with app.app_context():
            delivered = db.session.scalar(
                select(func.count()).select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.DELIVERED)
            )  # fmt: skip
            close_connections()
        assert sum(counts) == delivered == LEARNERS
