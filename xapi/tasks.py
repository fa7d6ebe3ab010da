"""Background jobs that pull statements from organisations' LRSs and deliver the outbox."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from flask import current_app

from lti_tool.extensions import db

#: Retries of one poll while the LRS says it is busy (429, 5xx); then it waits for the next.
MAX_RETRIES = 5


@shared_task(name="xapi.pull_lrs", bind=True, max_retries=MAX_RETRIES)
def pull_lrs(self: Any, source_id: int) -> None:
    """Read the LRS source's new statements; retry later if the LRS is busy."""
    from xapi import pull  # noqa: PLC0415 (pull sends this task)

    wait = pull.run(
        db.session(), source_id, pull.PullSettings.from_config(current_app.config),
        attempt=self.request.retries, may_retry=self.request.retries < MAX_RETRIES,
    )  # fmt: skip
    if wait is not None:
        raise self.retry(countdown=wait)


@shared_task(name="xapi.pull_due")
def pull_due() -> list[int]:
    """Queue the LRS sources due a poll (every VM_XAPI_LRS_POLL_SECONDS) and lost polls."""
    from xapi import pull  # noqa: PLC0415 (pull sends xapi.pull_lrs)

    return pull.queue_due(db.session())


@shared_task(name="xapi.deliver_outbox")
def deliver_outbox(registration_id: int | None = None) -> int:
    """Send the registration's due outbox statements to its LRS; how many were delivered.

    Without a registration (beat, every VM_XAPI_OUTBOX_SWEEP_SECONDS), send this task for each
    registration with statements due, so that none waits on a lost task.
    """
    from xapi import delivery  # noqa: PLC0415 (delivery sends this task)

    settings = delivery.DeliverySettings.from_config(current_app.config)
    if registration_id is None:
        return len(delivery.sweep(db.session(), settings))
    return delivery.deliver(db.session(), registration_id, settings)
