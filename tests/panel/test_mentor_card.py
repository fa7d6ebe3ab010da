"""The mentor card at the top of the panel: who the learner's mentor is and how to reach them."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses.models import Role
from lti_tool.mentors.models import MentorProfile
from tests.factories import CourseFactory, EnrollmentFactory
from tests.panel.conftest import PHOTO, People, launch_token


def test_the_learner_sees_their_mentor_with_photo_title_bio_and_how_to_reach_them(
    people: People,
) -> None:
    page = people.get("ana", "/panel/").text
    # Who the mentor is and what is new first, then the messages, then asking and questions.
    assert page.index("Your mentor") < page.index('class="waiting"') < page.index(
        "Messages from your mentor") < page.index('id="ask"') < page.index(
        "Your questions")  # fmt: skip
    assert f'src="{PHOTO}" alt="Photo of Maya Okafor"' in page
    assert "Head of training, Lyon" in page
    assert "Fifteen years on the front desk." in page
    assert '<a href="#ask">ask a question below</a>' in page
    assert 'href="mailto:maya@example.org"' in page
    assert '<label for="question">Your question</label>' in page


def test_without_a_photo_the_initials_show_and_the_bio_is_escaped(
    people: People, db: SQLAlchemy
) -> None:
    profile = db.session.scalars(select(MentorProfile)).one()
    profile.photo_url, profile.bio = "", "I <b>love</b> calls"
    db.session.commit()
    page = people.get("ana", "/panel/").text
    assert '<span class="mentor-photo initials" aria-hidden="true">MO</span>' in page
    assert "I &lt;b&gt;love&lt;/b&gt; calls" in page
    assert "<img" not in page.split("Messages from your mentor")[0]


def test_a_learner_without_a_mentor_is_told_kindly(people: People) -> None:
    lonely = CourseFactory()
    enrollment = EnrollmentFactory(course=lonely, role=Role.LEARNER)
    people.token["zoe"] = launch_token(people.client.application, lonely, enrollment.person_id,
                                 Role.LEARNER)  # fmt: skip
    page = people.get("zoe", "/panel/").text
    assert "You don't have a mentor in this course yet." in page
    assert "the course's mentors will answer it here" in page
    assert "Maya" not in page
