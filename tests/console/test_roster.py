"""The console's roster: statuses, filters, sections, a learner's timeline, pairing."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.courses.models import Role
from lti_tool.mentors.models import Mentorship, PairedBy
from tests.console import seed_roster
from tests.console.seed_roster import Seeded

seeded = seed_roster.seeded  # the fixture, for the tests here


def _row(page: str, person_id: int) -> str:
    found = re.search(rf'<tr id="p{person_id}">(.*?)</tr>', page, re.S)
    assert found, f"no roster row for {person_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def _names(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', page)


def test_the_roster_shows_each_learner_with_state_mentor_and_status(
    client: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    page = client.get("/console/roster", query_string={"lt": seeded.token(app, seeded.mentor)})
    assert page.status_code == 200
    text = page.text
    assert "4 of 4 learners shown" in text
    assert "Under way: Listening plan" in _row(text, seeded.ana)
    assert "Waiting on an answer" in _row(text, seeded.ana)
    assert "Stopped: Listening plan" in _row(text, seeded.ben)
    assert "Needs help" in _row(text, seeded.ben)
    assert "Not started" in _row(text, seeded.cleo)
    assert "Opted out" in _row(text, seeded.cleo)
    assert "Finished: Listening plan" in _row(text, seeded.dan)
    assert "On track" in _row(text, seeded.dan)
    assert "Not paired (messages come from Maya Okafor)" in _row(text, seeded.dan)
    assert "Stella Other" not in text  # the other course's learner


def test_learners_are_grouped_by_section_those_without_one_last(
    client: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    text = client.get("/console/roster", query_string={"lt": seeded.token(app, seeded.mentor)}).text
    headings = re.findall(r'<h2 id="section-\d+">([^<]+)<', text)
    assert [h.strip() for h in headings] == ["Lyon", "Paris", "No section"]
    assert _names(text) == ["Ana Lima", "Dan Eze", "Ben Cole", "Cleo Diaz"]


def test_filters_show_only_learners_with_that_status(
    client: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    token = seeded.token(app, seeded.mentor)
    expected = {"not_started": ["Cleo Diaz"], "waiting": ["Ana Lima"],
                "needs_help": ["Ben Cole"], "opted_out": ["Cleo Diaz"]}  # fmt: skip
    for key, names in expected.items():
        page = client.get("/console/roster", query_string={"lt": token, "filter": key})
        assert page.status_code == 200
        assert _names(page.text) == names, key
        assert "1 of 4 learners shown" in page.text
        assert re.search(rf'filter={key}" aria-current="page"', page.text)
    assert "Needs help (1)" in page.text


def test_an_unknown_filter_is_a_clear_400(client: FlaskClient, app: Flask, seeded: Seeded) -> None:
    token = seeded.token(app, seeded.mentor)
    page = client.get("/console/roster", query_string={"lt": token, "filter": "lazy"})
    assert page.status_code == 400
    assert "“lazy” is not a roster filter" in page.text


def test_the_learner_page_shows_their_timeline(
    client: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    page = client.get(f"/console/roster/{seeded.dan}",
                      query_string={"lt": seeded.token(app, seeded.mentor)})  # fmt: skip
    assert page.status_code == 200
    assert "<h1>Dan Eze</h1>" in page.text
    assert "Follow-up “Listening plan” began" in page.text
    assert "“Have you applied it?” (ask)" in page.text
    assert "Office hours" in page.text


def test_pairing_makes_the_chosen_mentor_the_learners(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    token = seeded.token(app, seeded.mentor)
    answer = client.post(f"/console/roster/{seeded.dan}/mentor",
                         data={"lt": token, "mentor_id": str(seeded.second_mentor)})  # fmt: skip
    assert answer.status_code == 303
    assert answer.location.endswith(f"#p{seeded.dan}")
    pairing = db.session.scalars(select(Mentorship).where(Mentorship.mentee_id == seeded.dan)).one()
    assert (pairing.mentor_id, pairing.paired_by) == (seeded.second_mentor, PairedBy.HAND)
    page = client.get("/console/roster", query_string={"lt": token}).text
    assert "Sam Reyes" in _row(page, seeded.dan).split("Maya")[0]
    assert re.search(rf'<option value="{seeded.second_mentor}" selected>', page)


def _pairings(db: SQLAlchemy) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Mentorship)) or 0)


def test_pairing_with_someone_who_is_not_a_mentor_is_a_400_and_changes_nothing(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    token = seeded.token(app, seeded.mentor)
    for given in (str(seeded.ana), "", "abc", "-1", "99999999"):
        answer = client.post(f"/console/roster/{seeded.dan}/mentor",
                             data={"lt": token, "mentor_id": given})  # fmt: skip
        assert answer.status_code == 400, given
        assert "Choose one of the course" in answer.text
    assert _pairings(db) == 0


def test_another_courses_learner_is_not_found(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    token = seeded.token(app, seeded.mentor)
    assert client.get(f"/console/roster/{seeded.stranger}",
                      query_string={"lt": token}).status_code == 404  # fmt: skip
    assert client.get(f"/console/roster/{seeded.mentor}",
                      query_string={"lt": token}).status_code == 404  # fmt: skip
    answer = client.post(f"/console/roster/{seeded.stranger}/mentor",
                         data={"lt": token, "mentor_id": str(seeded.mentor)})  # fmt: skip
    assert answer.status_code == 404
    assert _pairings(db) == 0


def test_learners_cannot_open_the_roster(client: FlaskClient, app: Flask, seeded: Seeded) -> None:
    token = seeded.token(app, seeded.ana, Role.LEARNER)
    assert client.get("/console/roster", query_string={"lt": token}).status_code == 403
    assert client.get(f"/console/roster/{seeded.ana}",
                      query_string={"lt": token}).status_code == 403  # fmt: skip
    answer = client.post(f"/console/roster/{seeded.ana}/mentor",
                         data={"lt": token, "mentor_id": str(seeded.mentor)})  # fmt: skip
    assert answer.status_code == 403
