"""Topics and their activities: which topic a learning event is about, and clear refusals
for patterns that could never match."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from lti_tool.errors import NotFound
from lti_tool.topics.mapping import TopicMap, canonical, load
from lti_tool.topics.services import BadTopic, add_activities, add_topic
from tests.factories import CourseFactory, DeploymentFactory, RegistrationFactory

LMS = "https://lms.example.org"
PAGE = f"{LMS}/mod/page/view.php?id=7"
QUIZ = f"{LMS}/mod/quiz/view.php?id=12"


@pytest.mark.parametrize(
    ("written", "compared"),
    [
        ("HTTPS://LMS.example.org/mod/page/view.php?id=7#top", PAGE),
        (f"  {PAGE}  ", PAGE),
        (f"{LMS}/courses/4/modules/items/9/", f"{LMS}/courses/4/modules/items/9"),
        (f"{LMS}/", LMS),
        ("urn:uuid:5F1C", "urn:uuid:5F1C"),  # not a URL: as written, case and all
        (f"{LMS}/mod/page/view.php?id=7&Lang=EN", f"{LMS}/mod/page/view.php?id=7&Lang=EN"),
    ],
)
def test_activity_iris_are_compared_in_one_form(written: str, compared: str) -> None:
    assert canonical(written) == compared


def _map(*claims: tuple[int | None, int, str]) -> TopicMap:
    topics = TopicMap()
    for course_id, topic_id, pattern in claims:
        topics.add(course_id, topic_id, pattern)
    return topics


def test_an_exact_iri_beats_a_pattern_and_a_longer_pattern_a_shorter_one() -> None:
    topics = _map(
        (None, 1, f"{LMS}/mod/*"),
        (None, 2, f"{LMS}/mod/quiz/*"),
        (None, 3, QUIZ),
    )
    assert topics.topic_for(QUIZ, None) == 3
    assert topics.topic_for(f"{LMS}/mod/quiz/view.php?id=13", None) == 2
    assert topics.topic_for(PAGE, None) == 1
    assert topics.topic_for(f"{LMS}/course/view.php?id=2", None) is None
    assert topics.topic_for("https://elsewhere.example.org/mod/quiz/view.php?id=12", None) is None


def test_the_courses_own_topic_beats_the_library_and_other_courses_never_match() -> None:
    topics = _map((None, 1, PAGE), (10, 2, PAGE), (20, 3, f"{LMS}/mod/quiz/*"))
    assert topics.topic_for(PAGE, 10) == 2  # course 10's own topic
    assert topics.topic_for(PAGE, 11) == 1  # another course uses the library's
    assert topics.topic_for(PAGE, None) == 1
    assert topics.topic_for(QUIZ, 10) is None  # course 20's pattern is course 20's
    assert topics.topic_for(QUIZ, 20) == 3


def test_a_pattern_matches_the_rest_not_a_longer_word_and_stars_anywhere() -> None:
    topics = _map((None, 1, f"{LMS}/mod/quiz/*"), (None, 2, f"{LMS}/courses/*/modules/items/9"))
    assert topics.topic_for(f"{LMS}/mod/quizzes/view.php?id=1", None) is None
    assert topics.topic_for(f"{LMS.upper()}/mod/quiz/view.php?id=1", None) == 1
    assert topics.topic_for(f"{LMS}/courses/4/modules/items/9", None) == 2
    assert topics.topic_for(f"{LMS}/courses/4/modules/items/99", None) is None
    assert topics.topic_for(f"{LMS}/mod/quiz/view.php?id=(1)+", None) == 1  # no regex leaks


def test_equal_claims_go_to_the_older_topic() -> None:
    assert _map((None, 8, PAGE), (None, 5, PAGE)).topic_for(PAGE, None) == 5


def test_topics_are_created_with_their_activities_and_loaded_per_platform(
    db: SQLAlchemy,
) -> None:
    registration = RegistrationFactory()
    course = CourseFactory(deployment=DeploymentFactory(registration=registration))
    other = RegistrationFactory()
    db.session.commit()
    library = add_topic(db.session(), registration.id, " Active listening ", activities=[PAGE])
    own = add_topic(
        db.session(), registration.id, "Quizzes", course_id=course.id,
        activities=[f"{LMS}/mod/quiz/*", f"{LMS}/mod/quiz/*", QUIZ],
    )  # fmt: skip
    add_topic(db.session(), other.id, "Someone else's", activities=[PAGE])
    assert library.name == "Active listening"
    assert [a.pattern for a in own.activities] == [f"{LMS}/mod/quiz/*", QUIZ]  # once each
    maps = load(db.session(), [registration.id])
    assert set(maps) == {registration.id}
    assert maps[registration.id].topic_for(PAGE, course.id) == library.id
    assert maps[registration.id].topic_for(QUIZ, course.id) == own.id


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("", "cannot be empty"),
        ("quiz 12", "is not an activity IRI"),
        ("*/mod/quiz/*", "is not an activity IRI"),  # the start must be fixed
        (f"{LMS}/mod/quiz/view.php?id=<12>", "is not an activity IRI"),
        (f"{LMS}/" + "x" * 2048, "at most 2048 characters"),
    ],
)
def test_patterns_that_could_never_match_are_refused_in_words(
    db: SQLAlchemy, pattern: str, says: str
) -> None:
    registration = RegistrationFactory()
    db.session.commit()
    with pytest.raises(BadTopic, match=says):
        add_topic(db.session(), registration.id, "Quizzes", activities=[pattern])
    db.session.rollback()
    topic = add_topic(db.session(), registration.id, "Quizzes")
    with pytest.raises(BadTopic, match=says):
        add_activities(topic, [pattern])


def test_a_topic_needs_a_name_a_platform_and_a_course_of_that_platform(db: SQLAlchemy) -> None:
    registration = RegistrationFactory()
    elsewhere = CourseFactory()  # a course of another platform
    db.session.commit()
    with pytest.raises(BadTopic, match="needs a name"):
        add_topic(db.session(), registration.id, "  ")
    with pytest.raises(NotFound, match="no platform registration #999999"):
        add_topic(db.session(), 999999, "Quizzes")
    with pytest.raises(NotFound, match=f"Course #{elsewhere.id} is not a course of"):
        add_topic(db.session(), registration.id, "Quizzes", course_id=elsewhere.id)


def _cli(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["topics", *args])


def test_the_cli_adds_and_lists_topics(app: Flask, db: SQLAlchemy) -> None:
    registration = RegistrationFactory()
    db.session.commit()
    added = _cli(app, "add", "--registration", str(registration.id), "--name", "Quizzes",
                 "--activity", f"{LMS}/mod/quiz/*", "--activity", PAGE)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Topic #" in added.output
    listed = _cli(app, "list", "--registration", str(registration.id))
    assert "Quizzes" in listed.output
    assert f"{LMS}/mod/quiz/*" in listed.output
    assert PAGE in listed.output
    refused = _cli(app, "add", "--registration", str(registration.id), "--name", "Bad",
                   "--activity", "quiz 12")  # fmt: skip
    assert refused.exit_code == 1
    assert "is not an activity IRI" in refused.output
