"""``flask mentors …``: profile, pair, round-robin and list, with refusals in words."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Role
from tests.factories import CourseFactory
from tests.mentors.helpers import member


def test_an_administrator_sets_up_mentors_and_pairs_learners(
    runner: FlaskCliRunner, db: SQLAlchemy
) -> None:
    course = CourseFactory()
    mentor = member(db, course, Role.MENTOR)
    other = member(db, course, Role.MENTOR, profile="Coach")
    learners = [member(db, course) for _ in range(3)]
    made = runner.invoke(args=["mentors", "profile", "--person", str(mentor), "--title",
                               "Head of training", "--bio", "Retail, 20 years."])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "Head of training" in made.output
    course_id = str(course.id)
    paired = runner.invoke(args=["mentors", "pair", "--course", course_id, "--mentor",
                                 str(mentor), "--mentee", str(learners[0])])  # fmt: skip
    assert paired.exit_code == 0, paired.output
    spread = runner.invoke(args=["mentors", "round-robin", "--course", course_id])
    assert "Paired 2 learners" in spread.output
    listed = runner.invoke(args=["mentors", "list", "--course", course_id])
    assert f"person {mentor} " in listed.output
    assert "(2 mentees)" in listed.output  # the pairing by hand + one by round-robin
    assert f"person {other} " in listed.output
    assert "(1 mentee)" in listed.output


def test_refusals_are_sentences(runner: FlaskCliRunner, db: SQLAlchemy) -> None:
    course = CourseFactory()
    learner = member(db, course)
    bad = runner.invoke(args=["mentors", "profile", "--person", str(learner), "--title", "Coach",
                              "--photo", "http://example.org/me.jpg"])  # fmt: skip
    assert bad.exit_code == 1
    assert "The photo must be an https:// address" in bad.output
    nobody = runner.invoke(args=["mentors", "round-robin", "--course", str(course.id)])
    assert "has no active mentor with a profile" in nobody.output
