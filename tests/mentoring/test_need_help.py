"""A learner's "I need help" answer reaches a person: a question thread with the mentor who
sent the message, carrying what they were asked, about which topic, and what they said."""

from __future__ import annotations

from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Course, Role
from lti_tool.mentoring import answers
from lti_tool.mentoring.models import Step
from lti_tool.threads import listing, services
from lti_tool.threads.models import ThreadStatus
from tests.mentoring.conftest import Tenant
from tests.mentors.helpers import member


def test_need_help_opens_a_thread_with_the_mentor_carrying_the_learners_context(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    mentor = member(db, db.session.get_one(Course, tenant.course_id), Role.MENTOR,
                    profile="Coach", person__name="Mo Diaz")  # fmt: skip
    db.session.commit()
    tenant.add_plan(db)
    tenant.post(client)
    tenant.later(db, days=2)
    tenant.later(db, days=7)  # "Have you applied Active listening?" is delivered
    [ask] = [d for d in tenant.deliveries(db) if db.session.get_one(Step, d.step_id).key == "ask"]
    assert ask.delivered_at is not None
    answers.record(db.session(), ask.id, "help", via="panel", text="I freeze when they argue.")
    answers.record(db.session(), ask.id, "help", via="panel")  # a second answer changes nothing
    db.session.commit()
    [row] = listing.for_learner(db.session(), tenant.course_id, tenant.person_id)
    thread = services.readable(db.session(), row.thread.id, tenant.person_id)
    assert (thread.mentor_id, thread.status) == (mentor, ThreadStatus.WAITING)
    assert thread.posts[0].body == (
        "I need help with “Have you applied Active listening?” (topic “Active listening”).\n"
        "My answer: I need help\nI freeze when they argue."
    )
    assert [row.thread.id for row in listing.for_mentor(db.session(), mentor)] == [thread.id]
