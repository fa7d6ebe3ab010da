"""The console's results: answers per choice overall and per week, survey distributions and
response times, on the page (charts with tables) and as CSV, with the same numbers."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Role
from tests.console import seed_roster
from tests.console.seed_roster import Seeded
from tests.mentors.helpers import member

seeded = seed_roster.seeded  # the fixture, for the tests here


def _tables(page: str) -> dict[str, list[list[str]]]:
    """Each chart's table by caption: its body rows as cell texts."""
    found = {}
    for caption, body in re.findall(r"<caption>(.*?)</caption>.*?<tbody>(.*?)</tbody>", page, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in rows]
        found[caption.strip()] = [[re.sub(r"<[^>]+>", "", c).strip() for c in row] for row in cells]
    return found


def _csv(client: FlaskClient, token: str) -> list[dict[str, str]]:
    answer = client.get("/console/results.csv", query_string={"lt": token})
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_answers_per_choice_overall_per_week_survey_and_times(
    client: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    page = client.get("/console/results", query_string={"lt": seeded.token(app, seeded.mentor)})
    assert page.status_code == 200
    assert '<h2 id="topic-1">Active listening</h2>' in page.text
    assert page.text.count("<svg") == 4
    tables = _tables(page.text)
    # Ben needed help, Dan said yes; Ana has not answered; the other course's yes is not ours.
    assert tables["Answers, Have you applied it?"] == [
        ["Yes", "1"], ["Not yet", "0"], ["I need help", "1"]]  # fmt: skip
    assert tables["Answers per week, Have you applied it?"] == [
        ["Week of 16 Nov 2026", "1", "0", "0"], ["Week of 23 Nov 2026", "0", "0", "1"]]  # fmt: skip
    assert tables["Survey: The course was useful, How was it?"] == [
        ["Strongly disagree", "0"], ["Disagree", "0"], ["Neither agree nor disagree", "0"],
        ["Agree", "1"], ["Strongly agree", "0"]]  # fmt: skip
    # Answered after 24 h and 192 h: the median is 108 h; the survey took 2 h.
    assert tables["Median hours to answer"] == [
        ["Have you applied it?", "108"],
        ["How was it?", "2"],
    ]
    assert "108 hours (2 answers)" in page.text
    assert "1 answer: Yes 1, Not yet 0, I need help 0" in page.text


def test_the_csv_has_a_header_and_the_pages_numbers(
    client: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    token = seeded.token(app, seeded.mentor)
    rows = _csv(client, token)
    assert list(rows[0]) == ["topic", "message", "measure", "row", "answer", "value"]
    by_key = {(r["message"], r["measure"], r["row"], r["answer"]): r["value"] for r in rows}
    assert by_key[("Have you applied it?", "answers", "Yes", "Answers")] == "1"
    assert by_key[("Have you applied it?", "answers", "I need help", "Answers")] == "1"
    assert by_key[("Have you applied it?", "answers per week", "Week of 23 Nov 2026",
                   "I need help")] == "1"  # fmt: skip
    assert by_key[("Have you applied it?", "median hours to answer", "Have you applied it?",
                   "Hours")] == "108"  # fmt: skip
    # Every number of the page's tables is in the CSV, and nothing else.
    page = client.get("/console/results", query_string={"lt": token}).text
    on_page: Counter[str] = Counter()
    for table in _tables(page).values():
        for cells in table:
            on_page.update(cells[1:])
    assert sum(on_page.values()) == len(rows)
    assert on_page == Counter(r["value"] for r in rows)


def test_another_course_sees_only_its_own_answers(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    teacher = member(db, seeded.other, Role.INSTRUCTOR)
    db.session.commit()
    token = seeded.token(app, teacher, Role.INSTRUCTOR, course=seeded.other)
    tables = _tables(client.get("/console/results", query_string={"lt": token}).text)
    assert tables["Answers, Have you applied it?"] == [
        ["Yes", "1"], ["Not yet", "0"], ["I need help", "0"]]  # fmt: skip
    assert not any(caption.startswith("Survey") for caption in tables)
    # Its one answer (yes, week of 16 Nov, after 24 hours), and nothing of the first course's.
    assert [row["value"] for row in _csv(client, token)] == ["1", "0", "0", "1", "0", "0", "24"]
    assert "Week of 23 Nov 2026" not in str(tables)


def test_learners_cannot_read_results(client: FlaskClient, app: Flask, seeded: Seeded) -> None:
    token = seeded.token(app, seeded.ana, Role.LEARNER)
    assert client.get("/console/results", query_string={"lt": token}).status_code == 403
    assert client.get("/console/results.csv", query_string={"lt": token}).status_code == 403
