"""The admin's commands: a plan from TOML, switched on, dry-run, broadcast."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Course
from lti_tool.mentoring.models import TriggerRule
from tests.factories import EnrollmentFactory
from tests.mentoring.conftest import Tenant

PLAN = """
name = "Welcome"
[[steps]]
key = "hello"
offset_days = 0
message = { kind = "welcome", title = "Welcome, {first_name}", body = "Glad you are here." }
[[rules]]
kind = "event"
verb = "http://adlnet.gov/expapi/verbs/completed"
"""


def test_a_plan_from_toml_is_stored_switched_on_and_broadcast(
    runner: FlaskCliRunner, db: SQLAlchemy, tenant: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(PLAN)
    added = runner.invoke(args=["mentoring", "add-plan", "--registration",
                                str(tenant.registration_id), str(path)])  # fmt: skip
    assert added.exit_code == 0, added.output
    rule = db.session.query(TriggerRule).one()
    assert rule.switched_on_at is None
    assert runner.invoke(args=["mentoring", "switch", str(rule.id), "on"]).exit_code == 0
    assert "0 deliveries." in runner.invoke(args=["mentoring", "dry-run", str(rule.id)]).output
    EnrollmentFactory(course=db.session.get(Course, tenant.course_id))
    db.session.commit()
    sent = runner.invoke(args=["mentoring", "broadcast", "--course", str(tenant.course_id),
                               "--sequence", str(rule.sequence_id)])  # fmt: skip
    assert "2 learners reached." in sent.output
    assert tenant.later(db) == 2
    assert tenant.feed_titles(db) == ["Welcome, Ana"]


def test_a_broken_plan_is_refused_in_words(
    runner: FlaskCliRunner, tenant: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('name = "x"\n[[steps]]\nkey = "a"\nbranches = { yes = [{ do = "fly" }] }\n')
    result = runner.invoke(args=["mentoring", "add-plan", "--registration",
                                 str(tenant.registration_id), str(path)])  # fmt: skip
    assert result.exit_code == 1
    assert "a branch must do one of escalate, repeat, send, stop" in result.output
