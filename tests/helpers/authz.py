"""The world of the authorization matrix (tests/test_authorization_matrix.py): platform P with
course A (learners Ana and Bo, Ana's mentor Mo, instructor Ines, and Ada, who launched it as
the platform's administrator) and course B (instructor Di, administrator Abe, and Ana again, as
a learner), and platform Q (a learner and an instructor); Ana owns a question, a survey, a
session and a resource delivered in course A, a question thread, an agreement with Mo; course A
has its own plan with a rule, the library a plan, Mo a snippet, Ines a deep-linking request
waiting in its picker. Launch tokens for each actor, and a snapshot of every table to show that
nothing changed.

The tool's own administrator is whoever runs ``flask --app wsgi …`` (registrations, keys,
credentials): no HTTP route is theirs. A platform's administrator (an LTI system or institution
Administrator role) launches as ``Role.ADMIN``, which is staff of the course launched from and of
no other."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from itsdangerous import TimestampSigner
from sqlalchemy import select

from lti_tool import clock
from lti_tool.console.models import MentorSnippet
from lti_tool.courses.models import Course, Person, Role
from lti_tool.lti import deep_linking, tokens
from lti_tool.lti.storage import storage
from lti_tool.mentoring import journeys, meetings, plans
from lti_tool.mentoring.models import Delivery, DeliveryStatus, Message, MessageKind, Step
from lti_tool.mentors import agreements
from lti_tool.mentors.models import Mentorship
from lti_tool.threads import services as threads
from tests.console.seed_roster import CHOICES, SESSION, SURVEY_ITEMS
from tests.factories import (
    CourseFactory,
    DeploymentFactory,
    EnrollmentFactory,
    RegistrationFactory,
)
from tests.mentors.helpers import member

#: Words only Ana and the staff of course A may read; no other actor's page may show them.
SECRETS = ("Private question 7Q of Ana", "Course A follow-up 7S", "Goals 7G of Ana")
#: Who calls, and how the token of each is made (see ``World.token``).
ACTORS = (
    "anonymous", "owner", "peer", "mentor", "instructor", "admin", "other_course_instructor",
    "other_course_admin", "owner_in_course_b", "foreign_learner", "foreign_instructor",
    "expired", "tampered",
)  # fmt: skip
LEARNERS = ("owner", "peer", "owner_in_course_b", "foreign_learner")
STAFF_OF_A = ("mentor", "instructor", "admin")
OUTSIDE_STAFF = ("other_course_instructor", "other_course_admin", "foreign_instructor")
NO_LAUNCH = ("anonymous", "expired", "tampered")


@dataclass
class World:
    """The ids the matrix's paths and forms name, and the actors' launch contexts."""

    app: Flask
    a: Course
    b: Course
    ids: dict[str, int] = field(default_factory=dict)
    #: Words the paths and forms name besides ids: the platform's issuer and client id (for
    #: the OIDC login), the id of Ines's deep-linking request.
    words: dict[str, str] = field(default_factory=dict)
    contexts: dict[str, tokens.LaunchContext] = field(default_factory=dict)

    def token(self, actor: str) -> str | None:
        """The actor's launch token (none for ``anonymous``)."""
        key = self.app.config["SECRET_KEY"]
        if actor == "anonymous":
            return None
        if actor == "expired":  # Ana's, issued two lifetimes ago
            lifetime = int(self.app.config["LTI_LAUNCH_TOKEN_SECONDS"])
            then = int(time.time()) - 2 * lifetime
            with mock.patch.object(TimestampSigner, "get_timestamp", return_value=then):
                return tokens.issue(self.contexts["owner"], key)
        if actor == "tampered":  # Ana's, made an administrator and signed with a guessed key
            forged = dataclasses.replace(self.contexts["owner"], role=Role.ADMIN)
            return tokens.issue(forged, "guessed-" + key)
        return tokens.issue(self.contexts[actor], key)


def _context(course: Course, person_id: int, role: Role) -> tokens.LaunchContext:
    return tokens.LaunchContext(course.deployment.registration_id, course.deployment_id,
                                course.id, person_id, role)  # fmt: skip


def _plan(name: str, rule: bool) -> dict[str, Any]:
    steps = [
        {"key": "ask", "offset_days": 0, "message": {
            "kind": "question", "title": "Have you applied it?", "choices": CHOICES}},
        {"key": "poll", "offset_days": 0, "message": {
            "kind": "survey", "title": "How was it?", "details": {"items": SURVEY_ITEMS}}},
        {"key": "meet", "offset_days": 0, "message": {
            "kind": "session", "title": "Office hours", "details": SESSION}},
        {"key": "watch", "offset_days": 0, "message": {
            "kind": "resource", "title": "Watch this", "body": "8 minutes.",
            "details": {"url": "https://video.example.org/listening", "type": "video"}}},
        {"key": "later", "offset_days": 7, "message": {  # not delivered yet
            "kind": "question", "title": "Still applying it?", "choices": CHOICES}},
    ]  # fmt: skip
    rules = [{"kind": "event", "verb": "http://adlnet.gov/expapi/verbs/completed"}]
    return {"name": name, "steps": steps, "rules": rules if rule else []}


def build(db: SQLAlchemy, app: Flask) -> World:
    """The world described in the module's docstring, committed (the test rolls it back)."""
    registration = RegistrationFactory()
    a = CourseFactory(deployment=DeploymentFactory(registration=registration), title="Course A")
    b = CourseFactory(deployment=a.deployment, title="Course B")
    foreign = CourseFactory(title="Course Q")
    ids = {
        "owner": member(db, a, person__name="Ana Lima", person__given_name="Ana"),
        "peer": member(db, a, person__name="Bo Berg"),
        "mentor": member(db, a, Role.MENTOR, profile="Coach", person__name="Mo Diaz"),
        "instructor": member(db, a, Role.INSTRUCTOR, person__name="Ines Roy"),
        "admin": member(db, a, Role.ADMIN, person__name="Ada Min"),
        "other_course_instructor": member(db, b, Role.INSTRUCTOR, person__name="Di Ode"),
        "other_course_admin": member(db, b, Role.ADMIN, person__name="Abe Min"),
        "foreign_learner": member(db, foreign, person__name="Quinn Far"),
        "foreign_instructor": member(db, foreign, Role.INSTRUCTOR, person__name="Qes Far"),
    }
    EnrollmentFactory(course=b, person=db.session.get_one(Person, ids["owner"]))
    db.session.add(Mentorship(course_id=a.id, mentor_id=ids["mentor"], mentee_id=ids["owner"]))
    db.session.commit()
    world = World(app, a, b, {f"person_{k}": v for k, v in ids.items()})
    roles = {"owner": (a, Role.LEARNER), "peer": (a, Role.LEARNER), "mentor": (a, Role.MENTOR),
             "instructor": (a, Role.INSTRUCTOR), "admin": (a, Role.ADMIN),
             "other_course_instructor": (b, Role.INSTRUCTOR),
             "other_course_admin": (b, Role.ADMIN),
             "owner_in_course_b": (b, Role.LEARNER), "foreign_learner": (foreign, Role.LEARNER),
             "foreign_instructor": (foreign, Role.INSTRUCTOR)}  # fmt: skip
    for actor, (course, role) in roles.items():
        person = ids["owner" if actor == "owner_in_course_b" else actor]
        world.contexts[actor] = _context(course, person, role)
    _mentoring(db, world, registration.id)
    world.words = {
        "issuer": registration.issuer,
        "client_id": registration.client_id,
        "picker": _picker(app, world),
    }
    return world


def _picker(app: Flask, world: World) -> str:
    """Ines's deep-linking request, as her launch left it for the picker."""
    settings = deep_linking.DeepLinkSettings(
        return_url="https://lms.example.edu/deep-link-return",
        deployment_id=world.a.deployment.deployment_id,
        accept_types=["ltiResourceLink"], accept_presentation_document_targets=["iframe"],
        accept_multiple=True, accept_lineitem=None, auto_create=False, title="", text="",
        has_data=False, data=None, grades=False,
    )  # fmt: skip
    lifetime = int(app.config["LTI_LAUNCH_TOKEN_SECONDS"])
    return deep_linking.remember(storage(), world.contexts["instructor"], settings, lifetime)


def _mentoring(db: SQLAlchemy, world: World, registration_id: int) -> None:
    session = db.session()
    ana, mo = world.ids["person_owner"], world.ids["person_mentor"]
    own, rules = plans.store(session, registration_id, _plan(SECRETS[1], True), world.a.id)
    library, _ = plans.store(session, registration_id, _plan("Library plan", False))
    session.flush()
    journeys.start(session, [journeys.Start(own.id, world.a.id, ana, "test")])
    for delivery in session.scalars(select(Delivery).where(Delivery.person_id == ana)):
        if delivery.due_at <= clock.now():
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, delivery.due_at
        else:
            world.ids["scheduled"] = delivery.id
    session.commit()
    kinds = {"question": MessageKind.QUESTION, "survey": MessageKind.SURVEY,
             "session": MessageKind.SESSION, "resource": MessageKind.RESOURCE}  # fmt: skip
    for name, kind in kinds.items():
        world.ids[name] = session.scalars(
            select(Delivery.id).join(Message, Message.id == Delivery.message_id)
            .where(Delivery.person_id == ana, Message.kind == kind,
                   Delivery.status == DeliveryStatus.DELIVERED)
        ).one()  # fmt: skip
        world.ids[f"{name}_message"] = session.scalars(
            select(Message.id).join(Delivery, Delivery.message_id == Message.id)
            .where(Delivery.id == world.ids[name])
        ).one()  # fmt: skip
    world.ids["sequence"], world.ids["library"], world.ids["rule"] = own.id, library.id, rules[0].id
    world.ids["step"] = session.scalars(select(Step.id).where(Step.sequence_id == own.id)).first()
    world.ids["thread"] = threads.ask(session, world.a.id, ana, SECRETS[0]).id
    meetings.rsvp(session, world.ids["session"], "going", via="panel")  # someone to remind
    agreement = agreements.open_agreement(session, world.a.id, ana, mo)
    agreements.edit(session, agreement.id, mo, goals=SECRETS[2])
    world.ids["agreement"], world.ids["version"] = agreement.id, agreement.version
    snippet = MentorSnippet(person_id=mo, registration_id=registration_id, title="Thanks",
                            body="Thank you for asking.")  # fmt: skip
    session.add(snippet)
    session.commit()
    world.ids["snippet"] = snippet.id


def another_app(make_app: Callable[..., Flask], app: Flask, **settings: Any) -> Flask:
    """``make_app(**settings)``, leaving the test app's Celery the current one (each app made
    becomes it, and the world's tasks would go to the other's broker)."""
    other = make_app(**settings)
    app.extensions["celery"].set_default()
    app.extensions["celery"].set_current()
    return other


def snapshot(db: SQLAlchemy) -> dict[str, list[str]]:
    """Every row of every table, as text, in a stable order."""
    session = db.session()
    found = {}
    for table in db.metadata.sorted_tables:
        rows = session.execute(select(table)).all()
        found[table.name] = sorted(repr(tuple(row)) for row in rows)
    session.rollback()
    return found
