"""Moodle and Canvas as they really launch: their claim shapes, Canvas's one issuer for
every customer, Moodle's tool_platform variants and service URLs with ?type_id=."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses.models import Course, Enrollment, Person, Role
from lti_tool.courses.syncs import CourseSync, SyncKind
from lti_tool.grades.client import under
from tests.helpers.platform import PlatformDouble, launch, login, serve_jwks

MOODLE = "https://moodle.example.edu"
CANVAS = "https://canvas.instructure.com"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def _moodle_claims(**changes: Any) -> dict[str, Any]:
    """An instructor's launch from Moodle 4.x, claim for claim (ids are numeric strings)."""
    claims: dict[str, Any] = {
        "sub": "2",
        "lti_roles": [LIS + "institution/person#Administrator", LIS + "membership#Instructor",
                      LIS + "system/person#Administrator"],
        "lti_context": {"id": "2", "label": "CSE101", "title": "Customer Service Essentials",
                        "type": ["CourseSection"]},
        "lti_resource_link": {"title": "Virtual Mentor", "description": "", "id": "3"},
        "lti_lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
        "lti_tool_platform": {"product_family_code": "moodle", "version": "2024042200",
                              "guid": "moodle.example.edu", "name": "Moodle",
                              "description": "Moodle"},
        "lti_launch_presentation": {
            "locale": "en", "document_target": "iframe",
            "return_url": f"{MOODLE}/mod/lti/return.php?course=2&launch_container=3"},
        "lti_custom": {},
        AGS: {"scope": [SCOPE + "lineitem", SCOPE + "lineitem.readonly", SCOPE + "result.readonly",
                        SCOPE + "score"],
              "lineitems": f"{MOODLE}/mod/lti/services.php/2/lineitems?type_id=1",
              "lineitem": f"{MOODLE}/mod/lti/services.php/2/lineitems/7/lineitem?type_id=1"},
        NRPS: {"context_memberships_url":
               f"{MOODLE}/mod/lti/services.php/CourseSection/2/bindings/1/memberships",
               "service_versions": ["1.0", "2.0"]},
        "locale": "en",
        "name": "Admin User", "given_name": "Admin", "family_name": "User",
        "email": "admin@moodle.example.edu",
    }  # fmt: skip
    claims.update(changes)
    return claims


@pytest.fixture
def moodle(db: SQLAlchemy) -> Iterator[PlatformDouble]:
    double = PlatformDouble(issuer=MOODLE, client_id="kJ4vK3fQ2Zb9XyA", deployment_id="1")
    double.rotate()
    for served in serve_jwks(double):
        served.register(db.session())
        yield served


@pytest.mark.parametrize(
    "tool_platform",
    [
        {"product_family_code": "moodle", "version": "2024042200", "guid": "moodle.example.edu",
         "name": "Moodle", "description": "Moodle"},
        {"guid": "moodle.example.edu"},  # older sites send little more than the guid
        {"product_family_code": "moodle", "version": 2022112800, "guid": 4},  # numbers
        None,  # and some send no tool_platform claim at all
    ],
)  # fmt: skip
def test_moodle_launches_whatever_its_tool_platform_claim_looks_like(
    client: FlaskClient, moodle: PlatformDouble, db: SQLAlchemy, tool_platform: Any
) -> None:
    response = launch(client, moodle, **_moodle_claims(lti_tool_platform=tool_platform))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "/console/" in response.headers["Location"]  # a site administrator teaching
    course = db.session.scalars(select(Course)).one()
    assert course.context_id == "2"
    # The service URLs are kept exactly, query and all.
    assert course.lineitems_url == f"{MOODLE}/mod/lti/services.php/2/lineitems?type_id=1"
    assert course.memberships_url.endswith("/CourseSection/2/bindings/1/memberships")
    assert under(f"{MOODLE}/mod/lti/services.php/2/lineitems/7/lineitem?type_id=1", "scores") == (
        f"{MOODLE}/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=1")  # fmt: skip
    kinds = set(db.session.scalars(select(CourseSync.kind)))
    assert kinds == {SyncKind.ROSTER, SyncKind.GRADES}


def _canvas_claims(user: str, **changes: Any) -> dict[str, Any]:
    """A student's launch from Canvas: one issuer for every customer, hashed ids."""
    claims: dict[str, Any] = {
        "sub": user,
        "lti_roles": [LIS + "institution/person#Student", LIS + "membership#Learner",
                      "http://purl.imsglobal.org/vocab/lis/v2/system/person#User"],
        "lti_context": {"id": "4dde05e8ca1973bcca9bffc13e1548820eee93a3",
                        "label": "CSE", "title": "Customer Service", "type": ["CourseOffering"]},
        "lti_resource_link": {"id": "4dde05e8ca1973bcca9bffc13e1548820eee93a3",
                              "title": "Customer Service"},
        "lti_custom": {"canvas_course_id": "101"},
        "lti_lti1p1": {"user_id": "535fa085f22b4655f48cd5a36a9215f64c062838"},
        "lti_launch_presentation": {"document_target": "iframe", "locale": "en",
                                    "return_url": "https://acme.instructure.com/courses/101"},
        "https://www.instructure.com/placement": "course_navigation",
        "lti_tool_platform": {"guid": "Mz0Ag5dpGi6rsIKJmKAGdCPLgKbQXlYOEFrImR4a:canvas-lms",
                              "name": "Acme", "version": "cloud",
                              "product_family_code": "canvas"},
        "locale": "en",
        "errors": {"errors": {}},
        AGS: {"scope": [SCOPE + "lineitem", SCOPE + "result.readonly", SCOPE + "score"],
              "lineitems": "https://acme.instructure.com/api/lti/courses/101/line_items",
              "validation_context": None, "errors": {"errors": {}}},
        NRPS: {"context_memberships_url":
               "https://acme.instructure.com/api/lti/courses/101/names_and_roles",
               "service_versions": ["2.0"], "validation_context": None,
               "errors": {"errors": {}}},
    }  # fmt: skip
    claims.update(changes)
    return claims


@pytest.fixture
def canvas_customers(db: SQLAlchemy) -> Iterator[tuple[PlatformDouble, PlatformDouble]]:
    """Two Canvas customers: the same issuer, a client id each."""
    doubles = []
    for client_id in ("10000000000001", "10000000000002"):
        double = PlatformDouble(
            issuer=CANVAS, client_id=client_id,
            deployment_id=f"12:{secrets.token_hex(20)}",
        )  # fmt: skip
        double.rotate()
        doubles.append(double)
    first, second = serve_jwks(doubles[0]), serve_jwks(doubles[1])
    one, two = next(first), next(second)
    one.register(db.session())
    two.register(db.session())
    yield one, two
    for stop in (first, second):
        stop.close()


def test_canvas_customers_share_an_issuer_but_never_people_or_courses(
    client: FlaskClient, canvas_customers: tuple[PlatformDouble, PlatformDouble],
    db: SQLAlchemy,
) -> None:  # fmt: skip
    acme, globex = canvas_customers
    same_user = "5a6f1e4d-13b1-4c5b-9f7a-4c0a3f1c2b11"  # the same opaque id at both, by chance
    for customer in (acme, globex):
        response = launch(client, customer, aud=customer.client_id, azp=customer.client_id,
                          **_canvas_claims(same_user))  # fmt: skip
        assert response.status_code == 303, response.get_data(as_text=True)
        assert "/panel/" in response.headers["Location"]
    people = db.session.scalars(select(Person).where(Person.subject == same_user)).all()
    assert len(people) == 2
    assert people[0].registration_id != people[1].registration_id
    courses = db.session.scalars(select(Course)).all()
    assert len(courses) == 2  # same context id, two customers: two courses
    assert len({c.deployment_id for c in courses}) == 2
    roles = set(db.session.scalars(select(Enrollment.role)))
    assert roles == {Role.LEARNER}


def test_a_canvas_token_for_one_customer_is_refused_with_the_other_customers_client(
    client: FlaskClient, canvas_customers: tuple[PlatformDouble, PlatformDouble],
    db: SQLAlchemy,
) -> None:  # fmt: skip
    acme, globex = canvas_customers
    # Acme signs a token that claims to be for Globex's client: Globex's keys do not match.
    started = login(client, globex)
    token = acme.sign(globex.claims(started.nonce, **_canvas_claims("u-1")))
    response = client.post("/lti/launch", data={"id_token": token, "state": started.state})
    assert response.status_code in (400, 401, 403)
    assert db.session.scalars(select(Person)).all() == []  # nothing recorded
