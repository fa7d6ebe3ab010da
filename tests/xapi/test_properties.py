"""Properties of statement validation and of the statement endpoint, over inputs nobody
wrote by hand (hypothesis): whatever arrives, validation answers with a StatementError that
says where and why, or accepts; well-formed statements are accepted in both versions and
one broken property is refused at its own path; and the endpoint, fuzzed with any JSON or
any bytes, answers in words (never 500) and stores nothing it refused."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import RegistrationFactory
from xapi import credentials
from xapi.models import Statement
from xapi.validation import SUPPORTED_VERSIONS, StatementError, validate_batch, validate_statement

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
#: Keys a statement has, so random objects often look like one (and go deeper).
KEYS = st.sampled_from(["actor", "verb", "object", "result", "context", "timestamp", "id",
                        "mbox", "objectType", "score", "scaled", "display", "definition",
                        "account", "homePage", "name", "version", "attachments"])  # fmt: skip
STATEMENTISH = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(KEYS | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=30,
)
WORD = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=10)
IRI = st.builds(lambda host, path: f"https://{host}.example.org/{path}", WORD, WORD)


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed statement: an agent by mbox or account, a verb, an activity, sometimes
    a result with a score in range and a duration, sometimes a context and a timestamp."""
    if draw(st.booleans()):
        actor: dict[str, Any] = {"mbox": f"mailto:{draw(WORD)}@example.org"}
    else:
        actor = {"account": {"homePage": draw(IRI), "name": draw(WORD)}}
    if draw(st.booleans()):
        actor["name"] = draw(st.text(max_size=30))
    statement: dict[str, Any] = {
        "actor": actor,
        "verb": {"id": draw(IRI), "display": {"en-US": draw(WORD)}},
        "object": {"objectType": "Activity", "id": draw(IRI)},
    }
    if draw(st.booleans()):
        statement["id"] = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))
    if draw(st.booleans()):
        low = draw(st.floats(-100, 100))
        high = low + draw(st.floats(0.5, 100))  # max is greater than min
        raw = draw(st.floats(low, high))
        statement["result"] = {
            "completion": draw(st.booleans()), "success": draw(st.booleans()),
            "score": {"scaled": draw(st.floats(-1, 1)), "min": low, "max": high, "raw": raw},
            "duration": f"PT{draw(st.integers(0, 10_000))}S",
        }  # fmt: skip
    if draw(st.booleans()):
        statement["context"] = {"registration": str(uuid.uuid4()), "platform": draw(WORD)}
    if draw(st.booleans()):
        statement["timestamp"] = "2026-11-20T09:41:12.000Z"
    return statement


#: One property broken at a time: where, and how.
BREAKS = [
    ("actor.mbox", lambda s: s.update(actor={"mbox": "ana@example.org"})),
    ("verb.id", lambda s: s["verb"].update(id="not an iri")),
    ("object.id", lambda s: s["object"].update(id="")),
    ("result.score.scaled", lambda s: s.setdefault("result", {}).update(score={"scaled": 1.5})),
    ("timestamp", lambda s: s.update(timestamp="yesterday")),
    ("id", lambda s: s.update(id="not-a-uuid")),
]


@given(JSON, st.sampled_from(SUPPORTED_VERSIONS))
def test_any_json_is_accepted_or_refused_with_a_path_and_a_sentence(
    value: object, version: str
) -> None:
    _refused_in_words(lambda: validate_statement(value, version))
    _refused_in_words(lambda: validate_batch(value, version))


@given(STATEMENTISH, st.sampled_from(SUPPORTED_VERSIONS))
def test_anything_shaped_like_a_statement_is_accepted_or_refused_in_words(
    value: object, version: str
) -> None:
    _refused_in_words(lambda: validate_statement(value, version))


def _refused_in_words(check: Any) -> None:
    try:
        check()
    except StatementError as refused:
        error = refused
    else:
        return
    assert isinstance(error.path, str)
    assert error.message.rstrip().endswith((".", ")", "”", '"')), error.message


@given(statements(), st.sampled_from(SUPPORTED_VERSIONS))
def test_well_formed_statements_are_accepted_in_both_versions(
    statement: dict[str, Any], version: str
) -> None:
    validate_statement(statement, version)
    again = {k: v for k, v in statement.items() if k != "id"}  # one id appears once a batch
    assert validate_batch([statement, again], version) == [statement, again]


@given(statements(), st.sampled_from(BREAKS), st.sampled_from(SUPPORTED_VERSIONS))
def test_one_broken_property_is_refused_at_its_own_path(
    statement: dict[str, Any], broken: tuple[str, Any], version: str
) -> None:
    path, breaks = broken
    breaks(statement)
    with pytest.raises(StatementError) as refused:
        validate_statement(statement, version)
    assert refused.value.path == path, refused.value


# The endpoint, fuzzed. The source's tenant is made once per test (hypothesis runs every
# example inside it); each example's effect is checked by the count of stored statements.
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@pytest.fixture
def source(db: SQLAlchemy) -> dict[str, str]:
    """Request headers of a statement source."""
    registration = RegistrationFactory()
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "Fuzz")
    basic = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    return {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"}


def _stored(db: SQLAlchemy) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Statement)) or 0)


def _answered_in_words(response: Any) -> None:
    assert response.status_code in (200, 204, 400, 409, 413, 415), response.status_code
    if response.status_code >= 400:
        assert response.is_json, response.data[:200]
        assert response.json["error"] or response.json["message"], response.json


@FUZZ
@given(body=JSON | st.lists(STATEMENTISH, max_size=3) | STATEMENTISH | statements())
def test_the_endpoint_answers_any_json_in_words_and_stores_only_what_it_accepts(
    client: FlaskClient, db: SQLAlchemy, source: dict[str, str], body: Any
) -> None:
    before = _stored(db)
    response = client.post("/xapi/statements", data=json.dumps(body), headers={
        **source, "Content-Type": "application/json"})  # fmt: skip
    _answered_in_words(response)
    if response.status_code == 200:
        assert _stored(db) - before <= len(response.json)
    else:
        assert _stored(db) == before


@FUZZ
@given(
    raw=st.binary(max_size=300),
    kind=st.sampled_from(
        ["application/json", "text/plain", "multipart/mixed", "application/json; charset=latin-1"]
    ),
)
def test_the_endpoint_answers_any_bytes_in_words_and_stores_nothing(
    client: FlaskClient, db: SQLAlchemy, source: dict[str, str], raw: bytes, kind: str
) -> None:
    before = _stored(db)
    response = client.post("/xapi/statements", data=raw, headers={**source, "Content-Type": kind})
    _answered_in_words(response)
    if response.status_code != 200:
        assert _stored(db) == before
