"""An LRS that resets connections or accepts them and never answers, as the outbox and the
poller meet it through a proxy on the LRS's own address: every call gives up within its
timeout, the outbox backs off and the poll says why, and once the LRS is back every statement
arrives (or is read) once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask_sqlalchemy import SQLAlchemy

from lti_tool.clock import FixedClock
from lti_tool.courses.syncs import SyncStatus
from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory
from tests.helpers.faulty import HANG, PASS, RESET, FaultyProxy, faulty_proxy
from tests.xapi.fake_lrs import PASSWORD, USERNAME, FakeLrs, lrs_statement
from tests.xapi.test_lrs_pull import MOODLE, at, events, stored
from tests.xapi.test_lrs_pull import SETTINGS as PULL
from tests.xapi.test_outbox_delivery import SETTINGS as OUTBOX
from tests.xapi.test_outbox_delivery import TOOL, answer, rows, sender
from xapi import delivery, pull, sources
from xapi.builders import Scene
from xapi.models import LrsPurpose, LrsSource

WORDS = {RESET: "The LRS could not be reached", HANG: "The LRS did not answer within"}


@pytest.fixture
def scene(db: SQLAlchemy) -> Scene:
    """Ana in a Moodle course, whose Moodle user id is 3."""
    registration = RegistrationFactory(issuer=MOODLE, product_family="moodle")
    course = CourseFactory(deployment=DeploymentFactory(registration=registration), context_id="2")
    ana = PersonFactory(registration=registration, subject="3", email="ana@example.org")
    db.session.commit()
    return Scene.of(TOOL, registration, ana, course)


@pytest.fixture
def proxy(fake_lrs: FakeLrs) -> Iterator[FaultyProxy]:
    """The fake LRS behind a proxy that can reset or hang connections."""
    port = int(fake_lrs.url.rsplit(":", 1)[1])
    with faulty_proxy(port) as found:
        yield found


def _source(db: SQLAlchemy, proxy: FaultyProxy, registration: int, purpose: str) -> int:
    new = sources.NewSource(
        registration_id=registration, name="ACME LRS",
        endpoint=f"http://127.0.0.1:{proxy.port}/xapi", username=USERNAME, password=PASSWORD,
        purpose=LrsPurpose(purpose),
    )  # fmt: skip
    return sources.add(db.session(), new, production=False).id


@pytest.mark.parametrize("mode", [RESET, HANG])
def test_the_outbox_waits_out_an_lrs_that_resets_or_hangs_and_sends_each_statement_once(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, proxy: FaultyProxy,
    frozen_clock: FixedClock, mode: str,
) -> None:  # fmt: skip
    source_id = _source(db, proxy, scene.registration_id, "send")
    ids = [answer(db, scene, n) for n in range(1, 4)]
    proxy.mode = mode
    started = time.monotonic()
    assert delivery.deliver(db.session(), scene.registration_id, OUTBOX) == 0
    assert time.monotonic() - started < 4 * OUTBOX.timeout  # the timeout holds
    failing = sender(db, source_id)
    assert WORDS[mode] in str(failing.send_error)
    assert failing.send_retry_at == frozen_clock.now() + timedelta(seconds=30)
    assert [row.attempts for row in rows(db)] == [1, 1, 1]
    proxy.mode = PASS
    proxy.release()
    assert delivery.deliver(db.session(), scene.registration_id, OUTBOX) == 0  # backing off
    frozen_clock.advance(timedelta(seconds=30))
    assert delivery.deliver(db.session(), scene.registration_id, OUTBOX) == 3
    assert fake_lrs.accepted == [ids]  # once, in order
    assert sender(db, source_id).send_error is None


@pytest.mark.parametrize("mode", [RESET, HANG])
def test_a_poll_cut_off_mid_way_keeps_its_pages_and_the_next_reads_the_rest_once(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, proxy: FaultyProxy,
    frozen_clock: FixedClock, monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:  # fmt: skip
    fake_lrs.statements = [lrs_statement(n, at(n)) for n in range(1, 6)]
    source_id = _source(db, proxy, scene.registration_id, "read")
    keep_page = pull.keep_page

    def then_fails(*args: Any) -> None:
        keep_page(*args)
        proxy.mode = mode  # the LRS goes bad after the first page

    monkeypatch.setattr(pull, "keep_page", then_fails)
    settings = pull.PullSettings(PULL.poll, PULL.overlap, PULL.page_size, 0.5, False)
    started = time.monotonic()
    pull.run(db.session(), source_id, settings)
    assert time.monotonic() - started < 4 * settings.timeout  # the timeout holds
    monkeypatch.undo()
    source = db.session.get(LrsSource, source_id, populate_existing=True)
    assert source is not None
    assert source.status == SyncStatus.FAILED
    assert WORDS[mode] in str(source.error)
    assert len(stored(db)) == 2  # the page read stays
    proxy.mode = PASS
    proxy.release()
    frozen_clock.advance(settings.poll)  # the next poll, by beat's sweep
    pull.run(db.session(), source_id, settings)
    source = db.session.get(LrsSource, source_id, populate_existing=True)
    assert source is not None
    assert (source.status, source.error) == (SyncStatus.DONE, None)
    assert sorted(stored(db)) == sorted(s["id"] for s in fake_lrs.statements)
    assert events(db) == 5  # each statement one learning event
