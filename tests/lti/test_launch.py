"""Launches through the real /lti/login and /lti/launch: good ones land, bad ones get nowhere."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.lti.keys import new_rsa_key
from lti_tool.models import Course, Enrollment, Person, Role
from tests.helpers.platform import (
    INSTRUCTOR,
    TOOL,
    PlatformDouble,
    PlatformKey,
    launch,
    login,
)
from tests.mentoring.test_joined import joined_events

pytestmark = pytest.mark.usefixtures("registered")


def _people(db: SQLAlchemy) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Person)) or 0)


def _refused(response: Any, status: int, sentence: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert sentence in response.get_data(as_text=True)


def test_a_learner_lands_on_the_panel(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    response = launch(client, registered)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/panel/?lt=")
    panel = client.get(response.headers["Location"])
    assert panel.status_code == 200
    assert "Hello Ada" in panel.get_data(as_text=True)
    person = db.session.scalars(select(Person)).one()
    assert (person.subject, person.email, person.name) == (
        "learner-1",
        "ada@example.edu",
        "Ada Lindqvist",
    )
    course = db.session.scalars(select(Course)).one()
    assert (course.context_id, course.title) == ("course-1", "Customer Service Essentials")


def test_an_instructor_lands_on_the_console(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    response = launch(client, registered, lti_roles=[INSTRUCTOR])
    assert response.headers["Location"].startswith("/console/?lt=")
    assert "Mentor console" in client.get(response.headers["Location"]).get_data(as_text=True)


# The 1EdTech certification "known bad payloads", and then some.
@pytest.mark.parametrize(
    ("changes", "status", "sentence"),
    [
        ({"lti_version": "1.2.0"}, 401, "Incorrect version, expected 1.3.0"),
        ({"lti_version": None}, 401, "Incorrect version, expected 1.3.0"),
        ({"lti_message_type": None}, 401, "Invalid message type"),
        ({"lti_roles": None}, 401, "Missing Roles Claim"),
        ({"lti_deployment_id": None}, 400, "does not say which deployment"),
        ({"lti_resource_link": None}, 401, "Missing Resource Link Id"),
        ({"sub": None}, 401, "Must have a user (sub)"),
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, 401, "has expired"),
        (
            {"iat": int(time.time()) + 600, "exp": int(time.time()) + 900},
            401,
            "issued in the future",
        ),
        ({"aud": "someone-else"}, 401, "Registration not found"),
        ({"iss": "https://evil.example"}, 401, "Registration not found"),
        ({"lti_target_link_uri": "https://evil.example/steal"}, 401, "target_link_uri"),
        ({"lti_context": None}, 400, "launch it from a course page"),
    ],
)
def test_known_bad_payloads_are_refused(
    client: FlaskClient,
    registered: PlatformDouble,
    db: SQLAlchemy,
    changes: dict[str, Any],
    status: int,
    sentence: str,
) -> None:
    _refused(launch(client, registered, **changes), status, sentence)
    assert _people(db) == 0  # nothing stored from a refused launch


def test_no_kid_is_refused(client: FlaskClient, registered: PlatformDouble) -> None:
    started = login(client, registered)
    body = registered.claims(started.nonce)
    token = __import__("jwt").encode(body, registered.keys[-1].pem, algorithm="RS256")
    response = client.post("/lti/launch", data={"id_token": token, "state": started.state})
    _refused(response, 401, "names no signing key (kid)")


def test_unknown_kid_is_refused(client: FlaskClient, registered: PlatformDouble) -> None:
    started = login(client, registered)
    token = registered.sign(registered.claims(started.nonce), headers={"kid": "no-such-kid"})
    response = client.post("/lti/launch", data={"id_token": token, "state": started.state})
    _refused(response, 401, "has no signing key with kid")


def test_bad_signature_is_refused(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    """Signed by an attacker's key that claims the platform's kid."""
    started = login(client, registered)
    forger = PlatformKey(new_rsa_key()[0], registered.keys[-1].jwk)
    token = registered.sign(registered.claims(started.nonce), key=forger)
    response = client.post("/lti/launch", data={"id_token": token, "state": started.state})
    _refused(response, 401, "Signature verification failed")
    assert _people(db) == 0


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "a.b", ""])
def test_malformed_tokens_are_refused(
    client: FlaskClient, registered: PlatformDouble, token: str
) -> None:
    started = login(client, registered)
    response = client.post("/lti/launch", data={"id_token": token, "state": started.state})
    assert response.status_code == 401
    assert "refused" in response.get_data(as_text=True) or "without its id_token" in (
        response.get_data(as_text=True)
    )


def test_wrong_algorithm_is_refused(client: FlaskClient, registered: PlatformDouble) -> None:
    started = login(client, registered)
    import jwt

    token = jwt.encode(
        registered.claims(started.nonce),
        "s" * 64,
        algorithm="HS256",
        headers={"kid": registered.keys[-1].jwk["kid"]},
    )
    response = client.post("/lti/launch", data={"id_token": token, "state": started.state})
    _refused(response, 401, "must be signed with RS256")


@pytest.mark.parametrize(
    ("changes", "expected_role"),
    [
        ({"lti_roles": []}, Role.LEARNER),  # no roles claim value
        ({"lti_roles": ["Instructor"]}, Role.INSTRUCTOR),  # short role name
        ({"lti_roles": ["http://example.com/roles#Wizard"]}, Role.LEARNER),  # unknown role
        ({"name": None, "given_name": None, "family_name": None, "email": None}, Role.LEARNER),
    ],
)
def test_valid_variants_are_accepted(
    client: FlaskClient,
    registered: PlatformDouble,
    db: SQLAlchemy,
    changes: dict[str, Any],
    expected_role: Role,
) -> None:
    response = launch(client, registered, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert db.session.scalars(select(Enrollment.role)).one() is expected_role


def test_no_personal_data_stores_none(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    launch(client, registered, name=None, given_name=None, family_name=None, email=None)
    person = db.session.scalars(select(Person)).one()
    assert (person.name, person.given_name, person.email) == (None, None, None)
    assert person.display_name == "Learner"


def test_a_replayed_id_token_is_refused(client: FlaskClient, registered: PlatformDouble) -> None:
    started = login(client, registered)
    token = registered.sign(registered.claims(started.nonce))
    form = {"id_token": token, "state": started.state}
    assert client.post("/lti/launch", data=form).status_code == 303
    _refused(client.post("/lti/launch", data=form), 401, "expired or was already used")


def test_a_token_replayed_into_a_new_login_is_refused(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    first = login(client, registered)
    token = registered.sign(registered.claims(first.nonce))
    assert (
        client.post("/lti/launch", data={"id_token": token, "state": first.state}).status_code
        == 303
    )
    second = login(client, registered)
    response = client.post("/lti/launch", data={"id_token": token, "state": second.state})
    _refused(response, 401, "nonce is not the one this login issued")


def test_a_state_never_issued_is_refused(client: FlaskClient, registered: PlatformDouble) -> None:
    started = login(client, registered)
    token = registered.sign(registered.claims(started.nonce))
    response = client.post("/lti/launch", data={"id_token": token, "state": "forged-state"})
    _refused(response, 401, "expired or was already used")


def test_a_state_from_another_browser_offers_a_new_window(
    client: FlaskClient, registered: PlatformDouble, app: Any, db: SQLAlchemy
) -> None:
    """Login in one browser, launch in another (no state cookie, no platform storage)."""
    started = login(client, registered)
    token = registered.sign(registered.claims(started.nonce))
    other_browser = app.test_client()
    response = other_browser.post("/lti/launch", data={"id_token": token, "state": started.state})
    assert response.status_code == 200
    assert "Open Virtual Mentor in a new window" in response.get_data(as_text=True)
    assert _people(db) == 0


@pytest.mark.parametrize(
    ("aud", "azp", "status", "sentence"),
    [
        (["CLIENT", "other-client"], None, 401, "several audiences but no azp"),
        (["CLIENT", "other-client"], "third-client", 401, "azp is not one of its audiences"),
        (["other-client", "CLIENT"], "other-client", 401, "Registration not found"),
        (["other-client", "CLIENT"], "CLIENT", 303, ""),
        ("CLIENT", "CLIENT", 303, ""),
    ],
)
def test_azp_is_checked_when_there_are_several_audiences(
    client: FlaskClient,
    registered: PlatformDouble,
    aud: str | list[str],
    azp: str | None,
    status: int,
    sentence: str,
) -> None:
    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(item) for item in value]
        return registered.client_id if value == "CLIENT" else value

    changes: dict[str, Any] = {"aud": fill(aud)}
    if azp is not None:
        changes["azp"] = fill(azp)
    response = launch(client, registered, **changes)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert sentence in response.get_data(as_text=True)


def test_clock_skew_within_the_setting_is_tolerated(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    now = int(time.time())
    assert launch(client, registered, iat=now + 30, exp=now + 330).status_code == 303
    assert launch(client, registered, iat=now - 330, exp=now - 30).status_code == 303


def test_login_refuses_a_target_outside_the_tool(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    started = login(client, registered, target_link_uri="https://evil.example/phish")
    _refused(started.response, 400, "not part of this tool")


def test_login_names_missing_parameters(client: FlaskClient) -> None:
    response = client.post("/lti/login", data={"iss": "https://lms.example.edu"})
    _refused(response, 400, "missing login_hint, target_link_uri")


def test_login_from_an_unknown_platform_is_explained(client: FlaskClient) -> None:
    response = client.get(
        "/lti/login",
        query_string={
            "iss": "https://unknown.example.edu",
            "login_hint": "x",
            "client_id": "c",
            "target_link_uri": f"{TOOL}/lti/launch",
        },
    )
    _refused(response, 400, "not registered with Virtual Mentor")


def test_launch_without_token_or_state(client: FlaskClient) -> None:
    _refused(client.post("/lti/launch", data={}), 401, "without its id_token or state")


def test_claims_reach_the_course_and_roles(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    launch(client, registered)
    launch(
        client,
        registered,
        lti_roles=[INSTRUCTOR],
        name="Ada L.",
        lti_context={"id": "course-1", "title": "CSE (2027)", "label": "CSE"},
    )
    enrollment = db.session.scalars(select(Enrollment)).one()
    assert enrollment.role is Role.INSTRUCTOR
    assert enrollment.lti_roles == [INSTRUCTOR]
    assert enrollment.person.name == "Ada L."
    assert enrollment.course.title == "CSE (2027)"
    assert enrollment.course.deployment.deployment_id == registered.deployment_id


def test_the_course_keeps_its_service_endpoints(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    nrps = {
        "context_memberships_url": "https://lms.example.edu/nrps/course-1",
        "service_versions": ["2.0"],
    }
    ags = {
        "lineitems": "https://lms.example.edu/ags/course-1/lineitems?type_id=7",
        "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
    }
    launch(
        client,
        registered,
        **{
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": nrps,
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": ags,
        },
    )
    launch(client, registered)  # a later launch without them changes nothing
    course = db.session.scalars(select(Course)).one()
    assert course.memberships_url == "https://lms.example.edu/nrps/course-1"
    assert course.lineitems_url == "https://lms.example.edu/ags/course-1/lineitems?type_id=7"
    assert course.ags_scopes == ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]


def test_a_learners_first_launch_in_a_course_is_one_joined_event(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    assert launch(client, registered).status_code == 303
    assert launch(client, registered).status_code == 303  # the second launch joins nothing
    ada = db.session.scalars(select(Person).where(Person.subject == "learner-1")).one()
    [(course_id, person_id, how)] = joined_events(db)
    assert (person_id, how) == (ada.id, "first launch")
    assert course_id is not None
    other = {"id": "course-2", "title": "Safety at Work"}
    assert launch(client, registered, lti_context=other).status_code == 303
    assert len(joined_events(db)) == 2  # another course: joined again, there
    launch(client, registered, sub="teacher-1", lti_roles=[INSTRUCTOR])
    assert len(joined_events(db)) == 2  # instructors are not welcomed as learners


def test_the_enrollment_keeps_the_section_the_lis_claim_names(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    lis = "https://purl.imsglobal.org/spec/lti/claim/lis"
    launch(client, registered, **{lis: {"course_section_sourcedid": " Lyon-2 "}})
    launch(client, registered)  # a later launch without it keeps it
    assert db.session.scalars(select(Enrollment.section)).one() == "Lyon-2"
    launch(client, registered, **{lis: {"course_section_sourcedid": "Paris-1"}})
    assert db.session.scalars(select(Enrollment.section)).one() == "Paris-1"
