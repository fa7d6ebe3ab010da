"""The soak's tenant: a Moodle platform, its course 2 with a mentor and the learners (each
with an email address and a launch token), the topic of the fixture's quiz, and a plan
switched on that welcomes a learner who completes it and asks her at once whether she
applied it ("not yet" sends a resource at once; "yes" ends it)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select, update

from bench.engine_latency import mentored_course
from bench.services import statement_headers
from bench.soak_load import Learners
from lti_tool.courses.models import Person, Role
from lti_tool.extensions import db
from lti_tool.lti import tokens
from lti_tool.lti.models import Deployment
from lti_tool.mentoring import plans, rules
from lti_tool.mentoring.models import Step
from lti_tool.topics.services import add_topic
from xapi import credentials

MOODLE = "https://moodle.example.org"
QUIZ = f"{MOODLE}/mod/quiz/view.php?id=17"
PLAN = {
    "name": "Applied it?",
    "steps": [
        {"key": "welcome", "offset_days": 0, "message": {
            "kind": "welcome", "title": "Welcome, {first_name}",
            "body": "I am {mentor}, your mentor for **{topic}**."}},
        {"key": "ask", "offset_days": 0, "message": {
            "kind": "question", "title": "Have you applied {topic}?",
            "choices": [{"key": "yes", "label": "Yes"}, {"key": "not_yet", "label": "Not yet"}]},
         "branches": {"yes": [{"do": "stop"}], "not_yet": [{"do": "send", "step": "resource"}]}},
        {"key": "resource", "message": {
            "kind": "resource", "title": "Watch: listening in practice", "body": "8 minutes.",
            "details": {"url": "https://video.example.org/listening", "type": "video"}}},
    ],
    "rules": [{"kind": "event", "verb": "http://adlnet.gov/expapi/verbs/completed",
               "completion": True}],
}  # fmt: skip


@dataclass
class Seeded:
    """What the load needs of the seed."""

    learners: Learners
    headers: dict[str, str]
    question_step: int


def seed(app: Flask, count: int) -> Seeded:
    """The tenant with ``count`` learners (app context)."""
    session = db.session()
    subjects = [f"soak-{n}" for n in range(count)]
    registration, course, _mentor, person_ids = mentored_course(MOODLE, subjects)
    session.execute(update(Person).where(Person.subject.in_(subjects))
                    .values(email=Person.subject + "@example.org"))  # fmt: skip
    topic = add_topic(session, registration.id, "Active listening", activities=[QUIZ])
    session.flush()
    sequence, found = plans.store(session, registration.id, {**PLAN, "topic": topic.id})
    for rule in found:
        rules.switch(session, rule.id, True)
    session.commit()
    question = session.scalars(select(Step.id).where(Step.sequence_id == sequence.id,
                                                     Step.key == "ask")).one()  # fmt: skip
    made = credentials.create(session, registration.id, "soak")
    deployment = session.scalars(select(Deployment)).one()
    secret = app.config["SECRET_KEY"]
    launch_tokens = [tokens.issue(tokens.LaunchContext(
        registration.id, deployment.id, course.id, person_id, Role.LEARNER), secret)
        for person_id in person_ids]  # fmt: skip
    headers = statement_headers(made.key, made.secret)
    return Seeded(Learners(subjects, person_ids, launch_tokens), headers, question)
