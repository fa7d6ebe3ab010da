"""The mentoring agreement in the panel: the learner reads it, writes their side and accepts
the version they read; bad terms are refused in words, and nobody else reaches it."""

from __future__ import annotations

from typing import Any

import pytest
from flask_sqlalchemy import SQLAlchemy

from lti_tool.mentors import agreements
from lti_tool.mentors.models import Channel, MentoringAgreement
from tests.panel.conftest import People

NOTICE = "Read, complete and accept the agreement"


@pytest.fixture
def agreement(people: People, db: SQLAlchemy) -> MentoringAgreement:
    """Maya opened the agreement with Ana and wrote her side."""
    opened = agreements.open_agreement(db.session(), people.course.id, people.ids["ana"],
                                       people.ids["maya"])  # fmt: skip
    agreements.edit(db.session(), opened.id, people.ids["maya"], goals="Handle hard calls",
                    mentor_expectations="Come with one example")  # fmt: skip
    return opened


def _side(agreement: MentoringAgreement, /, **changes: Any) -> dict[str, Any]:
    form = {"agreement": agreement.id, "version": agreement.version, "goals": agreement.goals,
            "meeting_frequency": "Every other Monday", "preferred_channel": "video",
            "mentee_expectations": "Honest feedback"}  # fmt: skip
    return {**form, **changes}


def _fresh(db: SQLAlchemy, agreement: MentoringAgreement) -> MentoringAgreement:
    db.session.refresh(agreement)
    return agreement


def test_without_an_agreement_there_is_no_notice_and_no_page(people: People) -> None:
    assert NOTICE not in people.get("ana", "/panel/").text
    missing = people.get("ana", "/panel/agreement")
    assert missing.status_code == 404
    assert "You have no mentoring agreement in this course yet." in missing.text


def test_the_learner_reads_completes_and_accepts_the_agreement(
    people: People, db: SQLAlchemy, agreement: MentoringAgreement
) -> None:
    assert NOTICE in people.get("ana", "/panel/").text
    page = people.get("ana", "/panel/agreement").text
    assert "Handle hard calls" in page
    assert "Come with one example" in page
    assert "<legend>How you prefer to talk</legend>" in page
    assert "Accept version 1" in page

    saved = people.post("ana", "/panel/agreement", **_side(agreement))
    assert saved.status_code == 303
    stored = _fresh(db, agreement)
    assert (stored.meeting_frequency, stored.preferred_channel) == ("Every other Monday",
                                                                    Channel.VIDEO)  # fmt: skip
    assert stored.mentee_expectations == "Honest feedback"

    accepted = people.post("ana", "/panel/agreement/accept", agreement=agreement.id, version=1)
    assert accepted.status_code == 303
    assert _fresh(db, agreement).accepted_by_mentee_at is not None
    assert "You have accepted version 1." in people.get("ana", "/panel/agreement").text
    assert NOTICE not in people.get("ana", "/panel/").text


def test_accepting_a_text_that_changed_since_it_was_read_is_refused(
    people: People, db: SQLAlchemy, agreement: MentoringAgreement
) -> None:
    agreements.accept(db.session(), agreement.id, people.ids["maya"], version=1)
    agreements.edit(db.session(), agreement.id, people.ids["maya"], goals="Handle any call")
    refused = people.post("ana", "/panel/agreement/accept", agreement=agreement.id, version=1)
    assert refused.status_code == 409
    assert "The agreement changed since you read it (it is now version 2)" in refused.text
    assert _fresh(db, agreement).accepted_by_mentee_at is None
    stale = people.post("ana", "/panel/agreement", **_side(agreement, version=1, goals="Old"))
    assert stale.status_code == 409
    assert _fresh(db, agreement).goals == "Handle any call"


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [({"goals": "x" * 4001}, "Keep the goals within 4,000 characters (this has 4,001)."),
     ({"meeting_frequency": "y" * 121}, "Keep the meeting frequency within 120 characters"),
     ({"preferred_channel": "pigeon"}, "The preferred channel must be one of: panel, email"),
     ({"version": "two"}, "This form is incomplete"),
     ({"agreement": "9" * 40}, "This form is incomplete")],
)  # fmt: skip
def test_bad_terms_are_refused_in_words_and_nothing_changes(
    people: People, db: SQLAlchemy, agreement: MentoringAgreement, changes: dict[str, str],
    sentence: str,
) -> None:  # fmt: skip
    refused = people.post("ana", "/panel/agreement", **_side(agreement, **changes))
    assert refused.status_code == 400
    assert sentence in refused.text
    stored = _fresh(db, agreement)
    assert (stored.goals, stored.meeting_frequency, stored.mentee_expectations) == (
        "Handle hard calls", "", "")  # fmt: skip


def test_the_learner_cannot_write_the_mentors_side_or_accept_without_goals(
    people: People, db: SQLAlchemy, agreement: MentoringAgreement
) -> None:
    people.post("ana", "/panel/agreement", **_side(agreement, mentor_expectations="Nothing"))
    assert _fresh(db, agreement).mentor_expectations == "Come with one example"
    people.post("ana", "/panel/agreement", **_side(agreement, goals=""))
    refused = people.post("ana", "/panel/agreement/accept", agreement=agreement.id, version=1)
    assert refused.status_code == 400
    assert "Write down the goals first" in refused.text
    assert _fresh(db, agreement).accepted_by_mentee_at is None


def test_nobody_else_reaches_the_learners_agreement(
    people: People, db: SQLAlchemy, agreement: MentoringAgreement
) -> None:
    assert people.get("ben", "/panel/agreement").status_code == 404
    assert NOTICE not in people.get("ben", "/panel/").text
    for who in ("ben", "ivan", "maya"):  # the mentor writes her side in the console, not here
        assert people.post(who, "/panel/agreement", **_side(agreement)).status_code == 404
        taken = people.post(who, "/panel/agreement/accept", agreement=agreement.id, version=1)
        assert taken.status_code == 404
    stored = _fresh(db, agreement)
    assert (stored.mentee_expectations, stored.accepted_by_mentee_at) == ("", None)
    assert stored.accepted_by_mentor_at is None
