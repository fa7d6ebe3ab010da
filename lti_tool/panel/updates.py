"""What is new in the learner's panel, for the page to poll: unread messages, the newest
delivered one and unread thread replies."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.extensions import db
from lti_tool.lti.access import launch_required
from lti_tool.mentoring.models import Delivery, DeliveryStatus
from lti_tool.panel.views import bp
from lti_tool.threads import listing


def news(session: Session, course_id: int, person_id: int) -> dict[str, Any]:
    """``unread`` delivered messages, the ``latest`` delivered one's id (or none) and
    ``threads_unread``: threads with a reply the learner has not read; nothing is marked read."""
    delivered = (Delivery.course_id == course_id, Delivery.person_id == person_id,
                 Delivery.status == DeliveryStatus.DELIVERED)  # fmt: skip
    unread = session.scalar(
        select(func.count()).select_from(Delivery).where(*delivered, Delivery.read_at.is_(None))
    )
    latest = session.scalar(
        select(Delivery.id).where(*delivered)
        .order_by(Delivery.delivered_at.desc(), Delivery.id.desc()).limit(1)
    )  # fmt: skip
    return {"unread": int(unread or 0), "latest": latest,
            "threads_unread": listing.unread_count(session, course_id, person_id)}  # fmt: skip


@bp.get("/updates.json")
@launch_required()
def updates() -> ResponseReturnValue:
    """The learner's news as JSON (``news``), never cached."""
    response = jsonify(news(db.session(), g.launch.course.id, g.launch.person.id))
    response.headers["Cache-Control"] = "no-store"
    return response
