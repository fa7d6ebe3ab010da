"""Mentoring agreements: both write, both accept, an edit after acceptance starts a new
version that both must accept again, and nobody else reads or changes it."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import pytest
from flask_sqlalchemy import SQLAlchemy

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Course, Role
from lti_tool.errors import AppError, Conflict, Forbidden
from lti_tool.mentors import agreements, pairing
from lti_tool.mentors.models import Channel, MentoringAgreement
from tests.factories import CourseFactory
from tests.mentors.helpers import member


class Pair(NamedTuple):
    course: Course
    mentee: int
    mentor: int


@pytest.fixture
def pair(db: SQLAlchemy) -> Pair:
    """A course, a mentee and their mentor."""
    course = CourseFactory()
    mentee = member(db, course)
    mentor = member(db, course, Role.MENTOR, profile="Mentor")
    pairing.pair(db.session(), course.id, mentor, mentee)
    return Pair(course, mentee, mentor)


def opened(db: SQLAlchemy, pair: Pair) -> MentoringAgreement:
    return agreements.open_agreement(db.session(), pair.course.id, pair.mentee, pair.mentee)


def test_both_write_and_both_must_accept(
    db: SQLAlchemy, pair: Pair, frozen_clock: FixedClock
) -> None:
    course_id, mentee, mentor = pair.course.id, pair.mentee, pair.mentor
    agreement = opened(db, pair)
    assert agreements.open_agreement(db.session(), course_id, mentee, mentor).id == agreement.id
    agreements.edit(db.session(), agreement.id, mentee, goals="Run a team meeting",
                    mentee_expectations="Honest feedback", preferred_channel="video")  # fmt: skip
    agreements.edit(db.session(), agreement.id, mentor, meeting_frequency="Every other Monday",
                    mentor_expectations="Come prepared")  # fmt: skip
    assert (agreement.version, agreement.preferred_channel) == (1, Channel.VIDEO)
    agreements.accept(db.session(), agreement.id, mentee, version=1)
    assert not agreements.is_accepted(agreement)
    agreements.accept(db.session(), agreement.id, mentor, version=1)
    assert agreements.is_accepted(agreement)
    assert agreement.accepted_by_mentor_at == frozen_clock.now()


def test_an_edit_after_acceptance_resets_both_and_keeps_the_old_version(
    db: SQLAlchemy, pair: Pair, frozen_clock: FixedClock
) -> None:
    mentee, mentor = pair.mentee, pair.mentor
    agreement = opened(db, pair)
    agreements.edit(db.session(), agreement.id, mentee, goals="Lead a meeting")
    agreements.accept(db.session(), agreement.id, mentee, version=1)
    agreements.accept(db.session(), agreement.id, mentor, version=1)
    agreements.edit(db.session(), agreement.id, mentor, goals="Lead a meeting")  # no change
    assert (agreement.version, agreements.is_accepted(agreement)) == (1, True)
    frozen_clock.advance(timedelta(days=1))
    agreements.edit(db.session(), agreement.id, mentor, meeting_frequency="Weekly")
    assert agreement.version == 2
    assert (agreement.accepted_by_mentee_at, agreement.accepted_by_mentor_at) == (None, None)
    [old] = agreement.history
    assert (old["version"], old["goals"], old["meeting_frequency"]) == (1, "Lead a meeting", "")
    assert old["accepted_by_mentee_at"] is not None
    assert (old["replaced_by"], old["replaced_at"]) == (mentor, frozen_clock.now().isoformat())
    with pytest.raises(Conflict, match="now version 2"):
        agreements.accept(db.session(), agreement.id, mentee, version=1)
    agreements.accept(db.session(), agreement.id, mentee, version=2)
    assert not agreements.is_accepted(agreement)


def test_only_the_two_parties_read_edit_or_accept(db: SQLAlchemy, pair: Pair) -> None:
    course_id, mentee = pair.course.id, pair.mentee
    other_learner = member(db, pair.course)
    teacher = member(db, pair.course, Role.INSTRUCTOR)
    agreement = opened(db, pair)
    for outsider in (other_learner, teacher):
        with pytest.raises(Forbidden, match="Only the mentor and the mentee"):
            agreements.edit(db.session(), agreement.id, outsider, goals="Mine now")
        with pytest.raises(Forbidden):
            agreements.accept(db.session(), agreement.id, outsider, version=1)
        with pytest.raises(Forbidden):
            agreements.readable(db.session(), agreement.id, outsider)
        with pytest.raises(Forbidden):
            agreements.open_agreement(db.session(), course_id, mentee, outsider)
    assert agreement.goals == ""


def test_each_side_writes_only_its_own_expectations(db: SQLAlchemy, pair: Pair) -> None:
    mentee, mentor = pair.mentee, pair.mentor
    agreement = opened(db, pair)
    with pytest.raises(Forbidden, match="Only the mentor writes the mentor's expectations"):
        agreements.edit(db.session(), agreement.id, mentee, mentor_expectations="Nothing")
    with pytest.raises(Forbidden, match="Only the mentee writes"):
        agreements.edit(db.session(), agreement.id, mentor, mentee_expectations="Everything")


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"preferred_channel": "pigeon"}, "must be one of: panel, email"),
        ({"meeting_frequency": "x" * 121}, "meeting frequency within 120 characters"),
        ({"salary": "more"}, "no term 'salary'"),
    ],
)
def test_bad_terms_are_refused_in_words(
    db: SQLAlchemy, pair: Pair, terms: dict[str, str], message: str
) -> None:
    agreement = opened(db, pair)
    with pytest.raises(AppError, match=message):
        agreements.edit(db.session(), agreement.id, pair.mentee, **terms)


def test_nothing_to_accept_without_goals_or_without_a_mentor(db: SQLAlchemy, pair: Pair) -> None:
    agreement = opened(db, pair)
    with pytest.raises(AppError, match="Write down the goals first"):
        agreements.accept(db.session(), agreement.id, pair.mentee, version=1)
    unpaired = member(db, pair.course)
    with pytest.raises(Conflict, match="has no mentor in this course yet"):
        agreements.open_agreement(db.session(), pair.course.id, unpaired, unpaired)
