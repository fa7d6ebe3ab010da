"""Mentor profiles: checked in words, only for the platform's own people; a course's mentors."""

from __future__ import annotations

import pytest
from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Role
from lti_tool.errors import AppError, NotFound
from lti_tool.mentors import pairing, profiles
from tests.factories import CourseFactory, PersonFactory
from tests.mentors.helpers import member


def test_a_profile_is_created_then_updated(db: SQLAlchemy) -> None:
    person = PersonFactory(name="Chloé Martin")
    saved = profiles.save_profile(
        db.session(), person.registration_id, person.id, title=" Head of training ",
        bio="Twenty years in retail.",
    )  # fmt: skip
    again = profiles.save_profile(
        db.session(), person.registration_id, person.id, title="Coach",
        photo_url="https://cdn.example.org/chloe.jpg", display_name="Chloé",
    )  # fmt: skip
    assert saved.id == again.id
    assert (again.title, again.bio, again.display_name) == ("Coach", "", "Chloé")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "x" * 121}, "title is limited to 120 characters"),
        ({"title": "Coach", "bio": "x" * 1001}, "bio is limited to 1000 characters"),
        ({"title": "Coach", "photo_url": "http://cdn.example.org/a.jpg"}, "https://"),
        ({"title": "Coach", "photo_url": "javascript:alert(1)"}, "https://"),
        ({"title": "Coach", "photo_url": "https:///nohost"}, "https://"),
    ],
)
def test_a_bad_profile_is_refused_in_words(
    db: SQLAlchemy, fields: dict[str, str], message: str
) -> None:
    person = PersonFactory()
    with pytest.raises(AppError, match=message):
        profiles.save_profile(db.session(), person.registration_id, person.id, **fields)


def test_another_platforms_person_gets_no_profile(db: SQLAlchemy) -> None:
    person, other = PersonFactory(), PersonFactory()
    with pytest.raises(NotFound, match="is not someone this platform"):
        profiles.save_profile(db.session(), other.registration_id, person.id, title="Coach")


def test_a_courses_mentors_include_the_organisations_mentor_of_its_learners(
    db: SQLAlchemy,
) -> None:
    course = CourseFactory()
    learner = member(db, course)
    coach = member(db, course, Role.MENTOR, profile="Coach")
    member(db, course, Role.MENTOR)  # without a profile: not shown
    member(db, course, Role.MENTOR, profile="Former", inactive=True)
    head = PersonFactory(registration=course.deployment.registration)  # not in the course
    profiles.save_profile(db.session(), head.registration_id, head.id, title="Head of training")
    assert [m.title for m in profiles.course_mentors(db.session(), course.id)] == ["Coach"]
    pairing.pair(db.session(), course.id, head.id, learner)
    found = profiles.course_mentors(db.session(), course.id)
    assert [(m.person_id, m.title) for m in found] == [
        (coach, "Coach"),
        (head.id, "Head of training"),
    ]
