"""Pairing by hand, round-robin and by section: each says how it was made, and a learner
never has two current mentors in a course."""

from __future__ import annotations

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses.models import Enrollment, Role
from lti_tool.errors import AppError, Conflict, Forbidden, NotFound
from lti_tool.mentors import pairing
from lti_tool.mentors.models import Mentorship, PairedBy
from tests.factories import CourseFactory, PersonFactory
from tests.mentors.helpers import member


def current(db: SQLAlchemy, course_id: int) -> dict[int, tuple[int, PairedBy]]:
    rows = db.session.execute(
        select(Mentorship.mentee_id, Mentorship.mentor_id, Mentorship.paired_by).where(
            Mentorship.course_id == course_id, Mentorship.ended_at.is_(None)
        )
    ).all()
    return {mentee: (mentor, how) for mentee, mentor, how in rows}


def test_pairing_by_hand_ends_the_current_pairing(db: SQLAlchemy) -> None:
    course = CourseFactory()
    learner = member(db, course)
    first = member(db, course, Role.MENTOR, profile="Mentor")
    second = member(db, course, Role.MENTOR, profile="Mentor")
    pairing.pair(db.session(), course.id, first, learner)
    again = pairing.pair(db.session(), course.id, first, learner)  # the same: nothing changes
    pairing.pair(db.session(), course.id, second, learner)
    assert current(db, course.id) == {learner: (second, PairedBy.HAND)}
    history = db.session.scalars(select(Mentorship).order_by(Mentorship.id)).all()
    assert [(m.mentor_id, m.ended_at is None) for m in history] == [(first, False), (second, True)]
    assert again.id == history[0].id


def test_pairing_checks_the_people_in_words(db: SQLAlchemy) -> None:
    course = CourseFactory()
    learner = member(db, course)
    unprofiled = member(db, course, Role.MENTOR)
    teacher = member(db, course, Role.INSTRUCTOR, profile="Trainer")
    stranger = PersonFactory()  # another platform's person
    with pytest.raises(AppError, match="has no mentor profile yet"):
        pairing.pair(db.session(), course.id, unprofiled, learner)
    with pytest.raises(NotFound, match="is not someone this course's platform"):
        pairing.pair(db.session(), course.id, stranger.id, learner)
    with pytest.raises(AppError, match="is not an active learner"):
        pairing.pair(db.session(), course.id, teacher, teacher)
    with pytest.raises(Forbidden, match="Only the course's mentors"):
        pairing.pair(db.session(), course.id, teacher, learner, actor_id=learner)
    pairing.pair(db.session(), course.id, teacher, learner, actor_id=teacher)
    assert current(db, course.id) == {learner: (teacher, PairedBy.HAND)}


def test_round_robin_spreads_unpaired_learners_and_leaves_the_paired(db: SQLAlchemy) -> None:
    course = CourseFactory()
    a = member(db, course, Role.MENTOR, profile="A")
    b = member(db, course, Role.MENTOR, profile="B")
    member(db, course, Role.MENTOR)  # no profile: not paired with anyone
    learners = [member(db, course) for _ in range(5)]
    member(db, course, inactive=True)  # not active: left out
    pairing.pair(db.session(), course.id, a, learners[0])
    made = pairing.round_robin(db.session(), course.id)
    assert made == {learners[1]: b, learners[2]: a, learners[3]: b, learners[4]: a}
    assert current(db, course.id)[learners[0]] == (a, PairedBy.HAND)
    assert {how for _m, how in list(current(db, course.id).values())[1:]} == {PairedBy.ROUND_ROBIN}
    assert pairing.round_robin(db.session(), course.id) == {}  # nobody left


def test_round_robin_without_mentors_says_so(db: SQLAlchemy) -> None:
    course = CourseFactory()
    member(db, course)
    with pytest.raises(Conflict, match="has no active mentor with a profile"):
        pairing.round_robin(db.session(), course.id)


def test_pairing_by_section_follows_the_mentors_mapping(db: SQLAlchemy) -> None:
    course = CourseFactory()
    lyon = member(db, course, Role.MENTOR, profile="Lyon")
    paris = member(db, course, Role.MENTOR, profile="Paris")
    in_lyon, in_paris, nowhere = member(db, course), member(db, course), member(db, course)
    by_hand = member(db, course)
    for person, section in ((in_lyon, "L"), (in_paris, "P"), (by_hand, "L")):
        db.session.execute(
            Enrollment.__table__.update()
            .where(Enrollment.person_id == person)
            .values(section=section)
        )
    pairing.pair(db.session(), course.id, paris, by_hand)
    pairing.assign_section(db.session(), course.id, "L", lyon, actor_id=lyon)
    assert pairing.pair_by_section(db.session(), course.id) == {in_lyon: lyon}
    pairing.assign_section(db.session(), course.id, "P", paris)
    pairing.assign_section(db.session(), course.id, "L", paris)  # Lyon's learners move
    assert pairing.pair_by_section(db.session(), course.id) == {in_lyon: paris, in_paris: paris}
    assert current(db, course.id) == {
        in_lyon: (paris, PairedBy.SECTION), in_paris: (paris, PairedBy.SECTION),
        by_hand: (paris, PairedBy.HAND),
    }  # fmt: skip
    assert nowhere not in current(db, course.id)
    with pytest.raises(AppError, match="Name the section"):
        pairing.assign_section(db.session(), course.id, "  ", paris)
