"""Who mentors a learner: their current mentor, else the course's mentor, else nobody."""

from __future__ import annotations

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import IntegrityError

from lti_tool import clock
from lti_tool.courses.models import Role
from lti_tool.mentors.models import Mentorship
from lti_tool.mentors.services import mentor_for
from tests.factories import CourseFactory, EnrollmentFactory, PersonFactory
from tests.mentors.helpers import member


def test_the_paired_mentor_else_the_courses_mentor_else_nobody(db: SQLAlchemy) -> None:
    course = CourseFactory()
    learner = EnrollmentFactory(course=course).person
    db.session.flush()
    assert mentor_for(db.session(), course.id, learner.id) is None  # nobody has a profile
    teacher = member(db, course, Role.INSTRUCTOR, profile="Trainer")
    assert mentor_for(db.session(), course.id, learner.id).person_id == teacher  # type: ignore[union-attr]
    head = member(db, course, Role.MENTOR, profile="Head of training")
    found = mentor_for(db.session(), course.id, learner.id)
    assert found is not None
    assert (found.person_id, found.title) == (head, "Head of training")  # mentors first
    db.session.add(Mentorship(course_id=course.id, mentor_id=teacher, mentee_id=learner.id))
    db.session.flush()
    assert mentor_for(db.session(), course.id, learner.id).person_id == teacher  # type: ignore[union-attr]
    other = CourseFactory()
    assert mentor_for(db.session(), other.id, learner.id) is None  # another course's pairing


def test_a_learner_has_one_current_mentor_per_course(db: SQLAlchemy) -> None:
    course = CourseFactory()
    mentee, first, second = (PersonFactory() for _ in range(3))
    db.session.flush()
    db.session.add(Mentorship(course_id=course.id, mentor_id=first.id, mentee_id=mentee.id,
                              ended_at=clock.now()))  # fmt: skip
    db.session.add(Mentorship(course_id=course.id, mentor_id=first.id, mentee_id=mentee.id))
    db.session.flush()
    db.session.add(Mentorship(course_id=course.id, mentor_id=second.id, mentee_id=mentee.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
