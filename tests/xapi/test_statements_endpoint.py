"""POST and PUT /xapi/statements as a statement source meets them: stored once per tenant,
a batch all or nothing, and every bad request answered in words with nothing stored."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from tests.factories import RegistrationFactory
from xapi import credentials
from xapi.credentials import Caller
from xapi.models import Statement
from xapi.statements import DuplicateInBatch, store

FIXTURES = Path(__file__).parent / "fixtures"  # copies of ../shared/fixtures/xapi
MODULE_PASSED = "moodle5_module_completed_passed.json"


def _fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def _basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@pytest.fixture
def source(db: SQLAlchemy) -> dict[str, str]:
    """Request headers of a statement source of one platform registration."""
    registration = RegistrationFactory()
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "Moodle logstore")
    return {"Authorization": _basic(made.key, made.secret), "X-Experience-API-Version": "1.0.3"}


def _stored(db: SQLAlchemy) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Statement)) or 0)


def _post(client: FlaskClient, headers: dict[str, str], body: Any, **changes: str) -> Any:
    return client.post("/xapi/statements", json=body, headers={**headers, **changes})


def test_a_batch_is_stored_with_ids_stored_and_authority(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy
) -> None:
    batch = [_fixture(name) for name in sorted(p.name for p in FIXTURES.glob("*.json"))]
    response = _post(client, source, batch)
    assert response.status_code == 200, response.json
    ids = response.json
    assert len(ids) == len(batch) == _stored(db)
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert "X-Experience-API-Consistent-Through" in response.headers
    moodle4 = next(i for i, s in enumerate(batch) if "id" not in s)  # the LRS assigns it
    assert len(ids[moodle4]) == 36
    row = db.session.scalars(select(Statement).where(Statement.statement_id == ids[0])).one()
    assert row.body["stored"].endswith("Z")
    assert row.body["authority"]["name"] == "Moodle logstore"
    assert row.body["version"] == "1.0.0"


def test_the_same_statement_again_is_accepted_and_kept_once(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy
) -> None:
    statement = _fixture(MODULE_PASSED)
    assert _post(client, source, statement).status_code == 200
    again = copy.deepcopy(statement)
    again["timestamp"] = "2026-11-20T10:41:12.000+01:00"  # the same instant, written otherwise
    again["id"] = statement["id"].upper()
    again["object"]["definition"]["name"] = {"en": "Renamed"}  # definitions do not count
    response = _post(client, source, again)
    assert response.status_code == 200
    assert response.json == [statement["id"]]
    assert _stored(db) == 1


def test_a_different_statement_under_a_stored_id_is_a_conflict_and_stores_nothing(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy
) -> None:
    statement = _fixture(MODULE_PASSED)
    assert _post(client, source, statement).status_code == 200
    changed = copy.deepcopy(statement)
    changed["result"]["success"] = False
    fresh = _fixture("cmi5_passed.json")
    response = _post(client, source, [fresh, changed])
    assert response.status_code == 409
    assert statement["id"] in response.json["message"]
    assert _stored(db) == 1  # the fresh one of the refused batch was not kept


def test_two_statements_with_one_id_in_a_batch_are_refused(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy
) -> None:
    statement = _fixture(MODULE_PASSED)
    response = _post(client, source, [statement, statement])
    assert response.status_code == 400
    assert response.json["message"].startswith("statements[1].id: ")
    assert "already has this id" in response.json["message"]
    assert _stored(db) == 0


def test_tenants_never_meet(client: FlaskClient, source: dict[str, str], db: SQLAlchemy) -> None:
    other = RegistrationFactory()
    db.session.commit()
    made = credentials.create(db.session(), other.id, "Other LMS")
    statement = _fixture(MODULE_PASSED)
    assert _post(client, source, statement).status_code == 200
    changed = copy.deepcopy(statement)
    changed["result"]["success"] = False  # same id, another tenant: no conflict, no leak
    other_headers = {**source, "Authorization": _basic(made.key, made.secret)}
    assert _post(client, other_headers, changed).status_code == 200
    assert _stored(db) == 2


def test_put_stores_under_the_statement_id(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy
) -> None:
    statement = _fixture(MODULE_PASSED)
    statement_id = statement.pop("id")
    response = client.put(
        "/xapi/statements", json=statement, headers=source,
        query_string={"statementId": statement_id},
    )  # fmt: skip
    assert response.status_code == 204
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert db.session.scalar(select(Statement.statement_id)) == statement_id


@pytest.mark.parametrize(
    ("query", "body_id", "words"),
    [
        ({}, None, "needs the statementId"),
        ({"statementId": "a3c2e1f0-1b2c-4d3e-8f4a-5b6c7d8e9f02"},
         "0f8e5a2b-1111-4d3e-8f4a-5b6c7d8e9f02", "differs from the statementId"),
    ],
)  # fmt: skip
def test_put_refuses_a_missing_or_different_id(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy, query: dict[str, str],
    body_id: str | None, words: str,
) -> None:  # fmt: skip
    statement = _fixture(MODULE_PASSED)
    statement.pop("id")
    if body_id:
        statement["id"] = body_id
    response = client.put("/xapi/statements", json=statement, headers=source, query_string=query)
    assert response.status_code == 400
    assert words in response.json["message"]
    assert _stored(db) == 0


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"X-Experience-API-Version": ""}, 400, "header is required"),
        ({"X-Experience-API-Version": "0.95"}, 400, "is not supported"),
        ({"Authorization": ""}, 401, "HTTP Basic"),
        ({"Authorization": _basic("vm_nobody", "wrong")}, 401, "not valid"),
        ({"Authorization": "Basic !!!"}, 401, "not valid HTTP Basic"),
    ],
)
def test_bad_headers_are_refused_in_words(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy, changes: dict[str, str],
    status: int, words: str,
) -> None:  # fmt: skip
    response = _post(client, source, _fixture(MODULE_PASSED), **changes)
    assert response.status_code == status
    assert words in response.json["message"]
    assert "X-Experience-API-Version" in response.headers
    assert _stored(db) == 0


def test_a_revoked_credential_is_refused(client: FlaskClient, db: SQLAlchemy) -> None:
    registration = RegistrationFactory()
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "Old source")
    credentials.revoke(db.session(), made.key)
    headers = {"Authorization": _basic(made.key, made.secret), "X-Experience-API-Version": "2.0.0"}
    response = _post(client, headers, _fixture(MODULE_PASSED))
    assert response.status_code == 401
    assert "revoked" in response.json["message"]
    assert response.headers["X-Experience-API-Version"] == "2.0.0"


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        (b'{"actor": ', "application/json", 400, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "not valid JSON"),
        (b"<statement/>", "application/xml", 415, "application/json"),
        (b"--b\r\n\r\n{}\r\n--b--", "multipart/mixed; boundary=b", 415, "attachments"),
    ],
)
def test_unreadable_bodies_are_refused(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy, data: bytes,
    content_type: str, status: int, words: str,
) -> None:  # fmt: skip
    response = client.post(
        "/xapi/statements", data=data, headers={**source, "Content-Type": content_type}
    )
    assert response.status_code == status
    assert words in response.json["message"]
    assert _stored(db) == 0


def test_an_oversized_body_is_refused(
    make_app: Callable[..., Flask], source: dict[str, str], db: SQLAlchemy
) -> None:
    client = make_app(HTTP_MAX_CONTENT_LENGTH=2048).test_client()
    batch = [_fixture(MODULE_PASSED)] * 10
    response = _post(client, source, batch)
    assert response.status_code == 413
    assert _stored(db) == 0


def test_the_cli_makes_lists_and_revokes_credentials(
    app: Flask, db: SQLAlchemy, tmp_path: Path
) -> None:
    registration = RegistrationFactory()
    db.session.commit()
    runner = app.test_cli_runner()
    made = runner.invoke(args=["xapi", "add-credential", "--registration", str(registration.id),
                               "--name", "Moodle logstore"])  # fmt: skip
    assert made.exit_code == 0, made.output
    key = made.output.split("key:")[1].split()[0]
    secret = made.output.split("secret:")[1].split()[0]
    listed = runner.invoke(args=["xapi", "list-credentials"]).output
    assert key in listed
    assert secret not in listed  # never shown again
    assert "active" in listed
    assert runner.invoke(args=["xapi", "revoke-credential", key]).exit_code == 0
    assert "revoked" in runner.invoke(args=["xapi", "list-credentials"]).output
    missing = runner.invoke(args=["xapi", "add-credential", "--registration", "999999",
                                  "--name", "x"])  # fmt: skip
    assert missing.exit_code != 0
    assert "no platform registration #999999" in missing.output


def test_an_invalid_statement_is_named_by_its_path_and_nothing_is_stored(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy
) -> None:
    good, bad = _fixture("cmi5_passed.json"), _fixture(MODULE_PASSED)
    bad["actor"] = {"objectType": "Agent", "mbox": "ana@example.org"}  # not a mailto: IRI
    response = _post(client, source, [good, bad])
    assert response.status_code == 400
    assert response.json["message"].startswith("statements[1].actor.mbox: ")
    assert _stored(db) == 0


@pytest.mark.parametrize(("version", "status"), [("1.0.3", 200), ("2.0.0", 400)])
def test_a_timestamp_without_an_offset_is_refused_only_under_2_0(
    client: FlaskClient, source: dict[str, str], db: SQLAlchemy, version: str, status: int
) -> None:
    statement = _fixture(MODULE_PASSED)
    statement["timestamp"] = "2026-11-20T09:41:12"
    response = _post(client, source, statement, **{"X-Experience-API-Version": version})
    assert response.status_code == status
    assert response.headers["X-Experience-API-Version"] == version
    if status == 400:
        assert response.json["message"].startswith("timestamp: ")


def test_store_itself_refuses_one_id_twice_in_a_batch(db: SQLAlchemy) -> None:
    """The endpoint's validation catches this first; store() keeps its all-or-nothing promise
    for every other caller (the LRS poller) too."""
    registration = RegistrationFactory()
    db.session.commit()
    statement = _fixture(MODULE_PASSED)
    with pytest.raises(DuplicateInBatch, match="share the id"):
        store(
            db.session(), Caller(None, registration.id, "LRS"), [statement, dict(statement)],
            version="1.0.3", authority={}, now=datetime(2026, 11, 24, tzinfo=UTC),
        )  # fmt: skip
    assert _stored(db) == 0
