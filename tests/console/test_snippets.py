"""A mentor's reply snippets: added, listed and deleted by their owner only; titles and texts
that cannot be saved are refused in words, with nothing stored."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.console import snippets
from lti_tool.console.models import MentorSnippet
from lti_tool.courses.models import Role
from tests.console.conftest import Courses


def _titles(db: SQLAlchemy, person_id: int) -> list[str]:
    return list(db.session.scalars(select(MentorSnippet.title)
                                   .where(MentorSnippet.person_id == person_id)
                                   .order_by(MentorSnippet.title)))  # fmt: skip


def test_a_mentor_adds_lists_and_deletes_their_snippets(
    client: FlaskClient, db: SQLAlchemy, courses: Courses
) -> None:
    added = courses.post(
        client,
        "/console/snippets",
        courses.mo,
        {"title": " Welcome ", "body": "Glad you asked!\nLet's look."},
    )
    assert added.status_code == 303
    courses.post(client, "/console/snippets", courses.mo, {"title": "Deadline", "body": "Friday."})
    assert _titles(db, courses.mo) == ["Deadline", "Welcome"]
    page = client.get(added.location).get_data(as_text=True)
    assert "The snippet is saved." in page
    assert "<h3>Deadline</h3>" in page
    assert "Glad you asked!\nLet&#39;s look." in page

    welcome = db.session.scalars(
        select(MentorSnippet).where(MentorSnippet.title == "Welcome")
    ).one()
    gone = courses.post(client, f"/console/snippets/{welcome.id}/delete", courses.mo, {})
    assert gone.status_code == 303
    assert _titles(db, courses.mo) == ["Deadline"]
    assert "The snippet is deleted." in client.get(gone.location).get_data(as_text=True)


@pytest.mark.parametrize(
    ("title", "body", "sentence"),
    [
        ("  ", "Text", "Give the snippet a title"),
        ("t" * 121, "Text", "Titles are limited to 120 characters; this one has 121."),
        ("Title", " \n ", "Write the snippet&#39;s text: it is empty."),
        ("Title", "b" * 10_001, "Snippets are limited to 10,000 characters; this one has 10,001."),
    ],
)
def test_a_snippet_that_cannot_be_saved_is_refused_in_words(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, title: str, body: str, sentence: str
) -> None:
    refused = courses.post(client, "/console/snippets", courses.mo, {"title": title, "body": body})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert sentence in html
    assert 'role="alert"' in html
    assert 'name="title"' in html
    assert _titles(db, courses.mo) == []


def test_a_mentor_sees_and_deletes_only_their_own_snippets(
    client: FlaskClient, db: SQLAlchemy, courses: Courses
) -> None:
    registration_id = courses.a.deployment.registration_id
    lus = snippets.add(db.session(), registration_id, courses.lu, "Lu's note", "Private")
    mine = courses.get(client, "/console/snippets", courses.mo).get_data(as_text=True)
    assert "Lu&#39;s note" not in mine
    assert "No snippets yet." in mine

    refused = courses.post(client, f"/console/snippets/{lus.id}/delete", courses.mo, {})
    assert refused.status_code == 404
    assert _titles(db, courses.lu) == ["Lu's note"]
    # A mentor's snippets follow them into their other courses of the platform.
    snippets.add(db.session(), registration_id, courses.mo, "Mo's note", "Shared")
    in_b = courses.get(client, "/console/snippets", courses.mo, course=courses.b)
    assert "Mo&#39;s note" in in_b.get_data(as_text=True)


def test_learners_cannot_keep_snippets(
    client: FlaskClient, db: SQLAlchemy, courses: Courses
) -> None:
    assert (
        courses.get(client, "/console/snippets", courses.ana, role=Role.LEARNER).status_code == 403
    )
    posted = courses.post(client, "/console/snippets", courses.ana,
                          {"title": "Mine", "body": "Text"}, role=Role.LEARNER)  # fmt: skip
    assert posted.status_code == 403
    assert _titles(db, courses.ana) == []


def test_inserting_keeps_what_was_written_with_a_blank_line_between() -> None:
    snippet = MentorSnippet(title="t", body="Snippet text.")
    assert snippets.inserted("", snippet) == "Snippet text."
    assert snippets.inserted("  \n", snippet) == "Snippet text."
    assert snippets.inserted("Hello Ana,\n", snippet) == "Hello Ana,\n\nSnippet text."
