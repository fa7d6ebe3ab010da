"""xAPI statement validation: what a sender is told (path and sentence) for each Data rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from xapi.validation import StatementError, validate_batch, validate_statement

V1, V2 = "1.0.3", "2.0.0"
BOTH = (V1, V2)
DROP = object()  # a property to remove from the base statement

STATEMENT_ID = "6f0b1d2e-4a53-4c5f-9d7e-2b1c0a9e8f01"
OTHER_ID = "8f87ccde-bb56-4c2e-ab83-44982ef22df0"
VERB = "http://adlnet.gov/expapi/verbs/completed"
ACTIVITY = "https://moodle.example.org/course/view.php?id=2"
ANA = {"mbox": "mailto:ana@example.org"}
BEN = {"account": {"homePage": "https://moodle.example.org", "name": "4"}}
TEAM = {"objectType": "Group", "name": "Team", "mbox": "mailto:team@example.org"}
SHA256 = "a" * 64
BASE: dict[str, Any] = {
    "id": STATEMENT_ID,
    "actor": ANA,
    "verb": {"id": VERB, "display": {"en-US": "completed"}},
    "object": {"objectType": "Activity", "id": ACTIVITY},
    "timestamp": "2026-11-21T14:05:00Z",
}

FIXTURE_DIRS = [
    Path(__file__).parent / "fixtures",  # copies, so a checkout alone runs them
    Path(__file__).parents[2].parent / "shared" / "fixtures" / "xapi",  # the originals, if beside
]
FIXTURES = sorted(
    {path for folder in FIXTURE_DIRS if folder.is_dir() for path in folder.glob("*.json")}
)


def statement(**changes: Any) -> dict[str, Any]:
    """The base statement with top-level properties replaced (or removed with DROP)."""
    result = copy.deepcopy(BASE)
    for name, value in changes.items():
        if value is DROP:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def activity(**definition: Any) -> dict[str, Any]:
    return {"id": ACTIVITY, "definition": definition}


def interaction(interaction_type: str, **lists: Any) -> dict[str, Any]:
    return activity(interactionType=interaction_type, **lists)


def components(*ids: str) -> list[dict[str, Any]]:
    return [{"id": each, "description": {"en": each.title()}} for each in ids]


def substatement(**changes: Any) -> dict[str, Any]:
    sub = statement(**changes)
    del sub["id"]
    return {"objectType": "SubStatement", **sub}


def context_agent(**changes: Any) -> dict[str, Any]:
    return {"objectType": "contextAgent", "agent": ANA, "relevantTypes": [VERB], **changes}


def attachment(**changes: Any) -> dict[str, Any]:
    base = {
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en": "Certificate"},
        "description": {"en": "The signed certificate"},
        "contentType": "application/pdf",
        "length": 1024,
        "sha2": SHA256,
        "fileUrl": "https://files.example.org/cert.pdf",
    }
    return {name: value for name, value in {**base, **changes}.items() if value is not DROP}


def rejection(body: dict[str, Any], version: str) -> StatementError:
    with pytest.raises(StatementError) as caught:
        validate_statement(body, version)
    return caught.value


# -- statements that must be accepted -------------------------------------------------------------

VALID: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("minimal, no id or timestamp", statement(id=DROP, timestamp=DROP), BOTH),
    ("uppercase id", statement(id=STATEMENT_ID.upper()), BOTH),
    ("id of version 1, variant b", statement(id="c232ab00-9414-11ec-b3c8-9f6bdeced846"), BOTH),
    (
        "actor by mbox_sha1sum",
        statement(actor={"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}),
        BOTH,
    ),
    ("actor by openid", statement(actor={"openid": "http://toby.openid.example.org/"}), BOTH),
    ("actor by account", statement(actor={"objectType": "Agent", "name": "Ben", **BEN}), BOTH),
    ("mbox with a plus", statement(actor={"mbox": "mailto:ana+xapi@example.org"}), BOTH),
    ("identified group with members", statement(actor={**TEAM, "member": [ANA, BEN]}), BOTH),
    ("identified group, no members", statement(actor=TEAM), BOTH),
    ("anonymous group", statement(actor={"objectType": "Group", "member": [ANA]}), BOTH),
    ("verb without display", statement(verb={"id": VERB}), BOTH),
    (
        "display in many well-formed tags",
        statement(
            verb={
                "id": VERB,
                "display": dict.fromkeys(
                    (
                        "zh-Hant-TW",
                        "es-419",
                        "tlh",
                        "i-klingon",
                        "x-private",
                        "de-CH-1901",
                        "en-US-x-twain",
                    ),
                    "x",
                ),
            }
        ),
        BOTH,
    ),
    ("unicode IRI", statement(verb={"id": "http://example.com/فعل/خواندن"}), BOTH),
    ("urn IRI", statement(object={"id": "urn:uuid:" + OTHER_ID}), BOTH),
    ("activity without objectType", statement(object={"id": ACTIVITY}), BOTH),
    (
        "full activity definition",
        statement(
            object=activity(
                name={"en": "Course"},
                description={"en": "A course"},
                type="http://adlnet.gov/expapi/activities/course",
                moreInfo="https://example.org/info",
                extensions={"https://example.org/ext/room": {"id": 1, "nested": [None, True]}},
            )
        ),
        BOTH,
    ),
    (
        "choice",
        statement(
            object=interaction(
                "choice", choices=components("a", "b"), correctResponsesPattern=["a[,]b"]
            )
        ),
        BOTH,
    ),
    ("sequencing", statement(object=interaction("sequencing", choices=components("a", "b"))), BOTH),
    (
        "likert",
        statement(object=interaction("likert", scale=components("agree", "disagree"))),
        BOTH,
    ),
    (
        "matching",
        statement(object=interaction("matching", source=components("a"), target=components("1"))),
        BOTH,
    ),
    (
        "performance",
        statement(object=interaction("performance", steps=components("s1", "s2"))),
        BOTH,
    ),
    (
        "true-false",
        statement(object=interaction("true-false", correctResponsesPattern=["true"])),
        BOTH,
    ),
    (
        "numeric with no correct answer",
        statement(object=interaction("numeric", correctResponsesPattern=[])),
        BOTH,
    ),
    *[
        (kind, statement(object=interaction(kind, correctResponsesPattern=["x"])), BOTH)
        for kind in ("fill-in", "long-fill-in", "other")
    ],
    ("agent as object", statement(object={"objectType": "Agent", **BEN}), BOTH),
    ("group as object", statement(object=TEAM), BOTH),
    ("statement reference", statement(object={"objectType": "StatementRef", "id": OTHER_ID}), BOTH),
    (
        "substatement with result and context",
        statement(
            object=substatement(
                object={"objectType": "StatementRef", "id": OTHER_ID},
                result={"response": "planned"},
                context={"language": "en"},
                timestamp="2099-01-01T00:00:00Z",
            )
        ),
        BOTH,
    ),
    (
        "full result",
        statement(
            result={
                "score": {"scaled": -1, "raw": 0, "min": 0, "max": 10},
                "success": False,
                "completion": True,
                "response": "",
                "duration": "P3Y1M29DT4H35M59.14S",
                "extensions": {"urn:example:ext": None},
            }
        ),
        BOTH,
    ),
    (
        "raw equal to max",
        statement(result={"score": {"scaled": 1, "raw": 10.0, "min": 0, "max": 10}}),
        BOTH,
    ),
    *[
        (f"duration {value}", statement(result={"duration": value}), BOTH)
        for value in (
            "PT1H30M",
            "P1DT2H",
            "PT0.5S",
            "P4W",
            "PT1,5S",
            "PT0S",
            "P1D",
            "PT1.5H",
            "P1Y",
        )
    ],
    (
        "full context",
        statement(
            context={
                "registration": OTHER_ID,
                "instructor": {"objectType": "Group", "member": [BEN]},
                "team": TEAM,
                "contextActivities": {
                    "parent": {"id": "https://example.org/quiz"},
                    "grouping": [{"id": "https://example.org/course", "objectType": "Activity"}],
                    "category": [],
                    "other": [{"id": "https://example.org/book"}],
                },
                "revision": "2",
                "platform": "Moodle",
                "language": "en-GB",
                "statement": {"objectType": "StatementRef", "id": OTHER_ID},
                "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "s-1"},
            }
        ),
        BOTH,
    ),
    *[
        (f"timestamp {value}", statement(timestamp=value), BOTH)
        for value in (
            "2026-11-21T14:05:00+00:00",
            "2026-11-21T14:05:00.123456+05:30",
            "2026-11-21T09:05:00-05:00",
            "20261121T140500Z",
            "2026-11-21T14:05Z",
            "2026-11-21T14:05:00+0530",
            "2024-02-29T00:00:00Z",
        )
    ],
    ("naive timestamp under 1.0.3", statement(timestamp="2026-11-21T14:05:00"), (V1,)),
    ("version 1.0.0", statement(version="1.0.0"), BOTH),
    ("version 1.0.3", statement(version="1.0.3"), BOTH),
    ("version 2.0.0 under 2.0.0", statement(version="2.0.0"), (V2,)),
    (
        "stored and authority are taken as they come",
        statement(stored="whenever", authority={"anything": ["goes"]}),
        BOTH,
    ),
    (
        "attachments",
        statement(attachments=[attachment(), attachment(fileUrl=DROP, description=DROP)]),
        BOTH,
    ),
    (
        "sha-512 attachment",
        statement(
            attachments=[attachment(sha2="0" * 128, contentType="text/plain; charset=utf-8")]
        ),
        BOTH,
    ),
    (
        "contextAgents and contextGroups",
        statement(
            context={
                "contextAgents": [context_agent(), {"objectType": "contextAgent", "agent": BEN}],
                "contextGroups": [
                    {"objectType": "contextGroup", "group": TEAM, "relevantTypes": [VERB]}
                ],
            }
        ),
        (V2,),
    ),
]


@pytest.mark.parametrize(
    ("body", "versions"), [case[1:] for case in VALID], ids=[case[0] for case in VALID]
)
def test_valid_statement_is_accepted(body: dict[str, Any], versions: tuple[str, ...]) -> None:
    for version in versions:
        validate_statement(body, version)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: f"{path.parent.name}/{path.name}")
@pytest.mark.parametrize("version", BOTH)
def test_shared_fixtures_are_valid(path: Path, version: str) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    assert validate_batch(body, version) == [body]


def test_moodle4_fixture_has_no_id_and_a_plus_zero_offset() -> None:
    body = json.loads(
        (FIXTURE_DIRS[0] / "moodle4_course_completed.json").read_text(encoding="utf-8")
    )
    assert "id" not in body
    assert body["timestamp"].endswith("+00:00")
    validate_statement(body, V2)


# -- statements that must be rejected: (case, statement, versions, path, words of the sentence)

INVALID: list[tuple[str, dict[str, Any], tuple[str, ...], str, str]] = [
    # Statement
    ("unknown property", statement(foo=1), BOTH, "foo", 'A statement has no property "foo".'),
    (
        "objectType on a statement",
        statement(objectType="Statement"),
        BOTH,
        "objectType",
        "no property",
    ),
    ("no actor", statement(actor=DROP), BOTH, "actor", "actor is required in a statement."),
    ("no verb", statement(verb=DROP), BOTH, "verb", "verb is required in a statement."),
    ("no object", statement(object=DROP), BOTH, "object", "object is required in a statement."),
    ("id not a UUID", statement(id="not-a-uuid"), BOTH, "id", "must be a UUID"),
    (
        "id of the wrong variant",
        statement(id="6f0b1d2e-4a53-4c5f-cd7e-2b1c0a9e8f01"),
        BOTH,
        "id",
        "UUID",
    ),
    ("id without hyphens", statement(id=STATEMENT_ID.replace("-", "")), BOTH, "id", "UUID"),
    ("id in braces", statement(id="{" + STATEMENT_ID + "}"), BOTH, "id", "UUID"),
    ("id null", statement(id=None), BOTH, "id", "id must be a string, not null."),
    ("id a number", statement(id=42), BOTH, "id", "not a number"),
    (
        "version 2.0.0 under 1.0.3",
        statement(version="2.0.0"),
        (V1,),
        "version",
        'start with "1.0."',
    ),
    ("version 1.1.0", statement(version="1.1.0"), BOTH, "version", "1.0."),
    ("version 1.0", statement(version="1.0"), BOTH, "version", "1.0."),
    ("version 2.0.1 under 2.0.0", statement(version="2.0.1"), (V2,), "version", '"2.0.0"'),
    ("version a number", statement(version=1), BOTH, "version", "must be a string"),
    # Actor, Agent, Group
    ("actor null", statement(actor=None), BOTH, "actor", "actor must be an object, not null."),
    (
        "actor without identifier",
        statement(actor={"name": "Ana"}),
        BOTH,
        "actor",
        "An Agent needs one identifier",
    ),
    (
        "actor with two identifiers",
        statement(actor={**ANA, **BEN}),
        BOTH,
        "actor.account",
        "has mbox and account",
    ),
    (
        "mbox without mailto",
        statement(actor={"mbox": "ana@example.org"}),
        BOTH,
        "actor.mbox",
        "mbox must be a mailto: IRI.",
    ),
    (
        "mbox without address",
        statement(actor={"mbox": "mailto:ana"}),
        BOTH,
        "actor.mbox",
        "mailto:",
    ),
    (
        "mbox_sha1sum too short",
        statement(actor={"mbox_sha1sum": "a" * 39}),
        BOTH,
        "actor.mbox_sha1sum",
        "40 hexadecimal",
    ),
    (
        "mbox_sha1sum not hex",
        statement(actor={"mbox_sha1sum": "g" * 40}),
        BOTH,
        "actor.mbox_sha1sum",
        "40 hexadecimal",
    ),
    (
        "openid not an IRI",
        statement(actor={"openid": "not a uri"}),
        BOTH,
        "actor.openid",
        "absolute IRI",
    ),
    (
        "account without homePage",
        statement(actor={"account": {"name": "4"}}),
        BOTH,
        "actor.account.homePage",
        "homePage is required in an account.",
    ),
    (
        "homePage without scheme",
        statement(actor={"account": {"homePage": "moodle.example.org", "name": "4"}}),
        BOTH,
        "actor.account.homePage",
        "http or https URL",
    ),
    (
        "homePage not http",
        statement(actor={"account": {"homePage": "ftp://example.org", "name": "4"}}),
        BOTH,
        "actor.account.homePage",
        "http or https URL",
    ),
    (
        "account name a number",
        statement(actor={"account": {"homePage": "https://example.org", "name": 4}}),
        BOTH,
        "actor.account.name",
        "name must be a string, not a number.",
    ),
    (
        "account unknown property",
        statement(actor={"account": {**BEN["account"], "id": 4}}),
        BOTH,
        "actor.account.id",
        'An account has no property "id".',
    ),
    (
        "agent name a number",
        statement(actor={**ANA, "name": 7}),
        BOTH,
        "actor.name",
        "must be a string",
    ),
    (
        "actor objectType Person",
        statement(actor={**ANA, "objectType": "Person"}),
        BOTH,
        "actor.objectType",
        '"Agent" or "Group"',
    ),
    (
        "agent with members",
        statement(actor={**ANA, "member": [BEN]}),
        BOTH,
        "actor.member",
        "Only a Group has members",
    ),
    (
        "agent unknown property",
        statement(actor={**ANA, "email": "x"}),
        BOTH,
        "actor.email",
        'An Agent has no property "email".',
    ),
    (
        "anonymous group without members",
        statement(actor={"objectType": "Group"}),
        BOTH,
        "actor.member",
        "must list its members",
    ),
    (
        "anonymous group, empty members",
        statement(actor={"objectType": "Group", "member": []}),
        BOTH,
        "actor.member",
        "must list its members",
    ),
    (
        "group with two identifiers",
        statement(actor={**TEAM, **BEN}),
        BOTH,
        "actor.account",
        "A Group has one identifier",
    ),
    (
        "group member is a group",
        statement(actor={**TEAM, "member": [ANA, TEAM]}),
        BOTH,
        "actor.member[1].objectType",
        "Group members must be Agents, not Groups.",
    ),
    (
        "group member without identifier",
        statement(actor={**TEAM, "member": [{"name": "x"}]}),
        BOTH,
        "actor.member[0]",
        "An Agent needs one identifier",
    ),
    (
        "members not an array",
        statement(actor={**TEAM, "member": ANA}),
        BOTH,
        "actor.member",
        "member must be an array, not an object.",
    ),
    (
        "homePage with an unclosed IPv6 bracket",
        statement(actor={"account": {"homePage": "http://[::1", "name": "4"}}),
        BOTH,
        "actor.account.homePage",
        "http or https URL",
    ),
    # Verb
    (
        "verb without id",
        statement(verb={"display": {"en": "did"}}),
        BOTH,
        "verb.id",
        "id is required in a verb.",
    ),
    ("verb id a word", statement(verb={"id": "completed"}), BOTH, "verb.id", "absolute IRI"),
    (
        "verb id a relative path",
        statement(verb={"id": "/verbs/completed"}),
        BOTH,
        "verb.id",
        "absolute IRI",
    ),
    (
        "verb id with a space",
        statement(verb={"id": "http://example.org/a b"}),
        BOTH,
        "verb.id",
        "absolute IRI",
    ),
    (
        "verb id with a bad escape",
        statement(verb={"id": "http://example.org/%zz"}),
        BOTH,
        "verb.id",
        "absolute IRI",
    ),
    ("verb id only a scheme", statement(verb={"id": "http:"}), BOTH, "verb.id", "absolute IRI"),
    (
        "display a string",
        statement(verb={"id": VERB, "display": "completed"}),
        BOTH,
        "verb.display",
        "display must be an object, not a string.",
    ),
    (
        "display key with underscore",
        statement(verb={"id": VERB, "display": {"en_US": "x"}}),
        BOTH,
        "verb.display.en_US",
        "not a language tag",
    ),
    (
        "display key with a space",
        statement(verb={"id": VERB, "display": {"en US": "x"}}),
        BOTH,
        'verb.display["en US"]',
        "not a language tag",
    ),
    (
        "display value a number",
        statement(verb={"id": VERB, "display": {"en-US": 1}}),
        BOTH,
        'verb.display["en-US"]',
        "Each display value must be a string.",
    ),
    (
        "verb unknown property",
        statement(verb={"id": VERB, "name": "x"}),
        BOTH,
        "verb.name",
        'A verb has no property "name".',
    ),
    # Object
    (
        "object of unknown type",
        statement(object={"objectType": "Thing", "id": ACTIVITY}),
        BOTH,
        "object.objectType",
        "objectType must be one of: Activity, Agent, Group, StatementRef, SubStatement.",
    ),
    (
        "activity without id",
        statement(object={"objectType": "Activity"}),
        BOTH,
        "object.id",
        "id is required in an Activity.",
    ),
    (
        "activity id not an IRI",
        statement(object={"id": "not a uri"}),
        BOTH,
        "object.id",
        "absolute IRI",
    ),
    (
        "agent object without objectType",
        statement(object=ANA),
        BOTH,
        "object.objectType",
        "objectType is required when the object is an Agent or a Group.",
    ),
    (
        "agent object without identifier",
        statement(object={"objectType": "Agent", "name": "x"}),
        BOTH,
        "object",
        "An Agent needs one identifier",
    ),
    (
        "activity unknown property",
        statement(object={"id": ACTIVITY, "name": {"en": "x"}}),
        BOTH,
        "object.name",
        'An Activity has no property "name".',
    ),
    (
        "definition name a string",
        statement(object=activity(name="Course")),
        BOTH,
        "object.definition.name",
        "name must be an object",
    ),
    (
        "definition type not an IRI",
        statement(object=activity(type="course")),
        BOTH,
        "object.definition.type",
        "absolute IRI",
    ),
    (
        "moreInfo not a URL",
        statement(object=activity(moreInfo="urn:example:info")),
        BOTH,
        "object.definition.moreInfo",
        "http or https URL",
    ),
    (
        "extension key not an IRI",
        statement(object=activity(extensions={"not an iri": 1})),
        BOTH,
        'object.definition.extensions["not an iri"]',
        "Extension keys must be absolute IRIs",
    ),
    (
        "definition unknown property",
        statement(object=activity(title={"en": "x"})),
        BOTH,
        "object.definition.title",
        "An Activity definition has no property",
    ),
    (
        "unknown interactionType",
        statement(object=interaction("essay")),
        BOTH,
        "object.definition.interactionType",
        "interactionType must be one of: true-false, choice,",
    ),
    (
        "pattern without interactionType",
        statement(object=activity(correctResponsesPattern=["a"])),
        BOTH,
        "object.definition.interactionType",
        "interactionType is required when an Activity definition has correctResponsesPattern.",
    ),
    (
        "choices without interactionType",
        statement(object=activity(choices=components("a"))),
        BOTH,
        "object.definition.interactionType",
        "has choices",
    ),
    (
        "pattern not an array",
        statement(object=interaction("choice", correctResponsesPattern="a")),
        BOTH,
        "object.definition.correctResponsesPattern",
        "must be an array",
    ),
    (
        "pattern of numbers",
        statement(object=interaction("numeric", correctResponsesPattern=[4])),
        BOTH,
        "object.definition.correctResponsesPattern[0]",
        "must be a string",
    ),
    (
        "choices on numeric",
        statement(object=interaction("numeric", choices=components("a"))),
        BOTH,
        "object.definition.choices",
        'choices does not go with interactionType "numeric" (it takes no component lists).',
    ),
    (
        "scale on choice",
        statement(object=interaction("choice", scale=components("a"))),
        BOTH,
        "object.definition.scale",
        "(it takes choices)",
    ),
    (
        "source on likert",
        statement(object=interaction("likert", source=components("a"))),
        BOTH,
        "object.definition.source",
        "(it takes scale)",
    ),
    (
        "steps on matching",
        statement(object=interaction("matching", steps=components("a"))),
        BOTH,
        "object.definition.steps",
        "(it takes source and target)",
    ),
    (
        "choices on true-false",
        statement(object=interaction("true-false", choices=components("a"))),
        BOTH,
        "object.definition.choices",
        "no component lists",
    ),
    (
        "duplicate component ids",
        statement(object=interaction("choice", choices=components("a", "a"))),
        BOTH,
        "object.definition.choices[1].id",
        'The id "a" appears twice in choices',
    ),
    (
        "component without id",
        statement(object=interaction("likert", scale=[{"description": {"en": "x"}}])),
        BOTH,
        "object.definition.scale[0].id",
        "id is required in an interaction component.",
    ),
    (
        "component description a string",
        statement(object=interaction("likert", scale=[{"id": "a", "description": "x"}])),
        BOTH,
        "object.definition.scale[0].description",
        "must be an object",
    ),
    (
        "component unknown property",
        statement(object=interaction("performance", steps=[{"id": "a", "score": 1}])),
        BOTH,
        "object.definition.steps[0].score",
        "An interaction component has no property",
    ),
    (
        "statement reference without id",
        statement(object={"objectType": "StatementRef"}),
        BOTH,
        "object.id",
        "id is required in a StatementRef.",
    ),
    (
        "statement reference to a non-UUID",
        statement(object={"objectType": "StatementRef", "id": ACTIVITY}),
        BOTH,
        "object.id",
        "UUID",
    ),
    (
        "statement reference with definition",
        statement(object={"objectType": "StatementRef", "id": OTHER_ID, "definition": {}}),
        BOTH,
        "object.definition",
        "A StatementRef has no property",
    ),
    (
        "substatement with id",
        statement(object={**substatement(), "id": OTHER_ID}),
        BOTH,
        "object.id",
        "A SubStatement cannot have id.",
    ),
    (
        "substatement with stored",
        statement(object={**substatement(), "stored": "2026-11-21T14:05:00Z"}),
        BOTH,
        "object.stored",
        "A SubStatement cannot have stored.",
    ),
    (
        "substatement with version",
        statement(object={**substatement(), "version": "1.0.0"}),
        BOTH,
        "object.version",
        "cannot have version",
    ),
    (
        "substatement with authority",
        statement(object={**substatement(), "authority": ANA}),
        BOTH,
        "object.authority",
        "cannot have authority",
    ),
    (
        "nested substatement",
        statement(object=substatement(object=substatement())),
        BOTH,
        "object.object.objectType",
        "A SubStatement cannot contain another SubStatement.",
    ),
    (
        "substatement without actor",
        statement(object=substatement(actor=DROP)),
        BOTH,
        "object.actor",
        "actor is required in a SubStatement.",
    ),
    (
        "substatement with a bad verb",
        statement(object=substatement(verb={"id": "did"})),
        BOTH,
        "object.verb.id",
        "absolute IRI",
    ),
    # Result
    ("result null", statement(result=None), BOTH, "result", "result must be an object, not null."),
    (
        "scaled above 1",
        statement(result={"score": {"scaled": 1.5}}),
        BOTH,
        "result.score.scaled",
        "scaled must be between -1 and 1.",
    ),
    (
        "scaled below -1",
        statement(result={"score": {"scaled": -1.01}}),
        BOTH,
        "result.score.scaled",
        "between -1 and 1",
    ),
    (
        "scaled a string",
        statement(result={"score": {"scaled": "0.5"}}),
        BOTH,
        "result.score.scaled",
        "scaled must be a number, not a string.",
    ),
    (
        "scaled a boolean",
        statement(result={"score": {"scaled": True}}),
        BOTH,
        "result.score.scaled",
        "not true/false",
    ),
    (
        "scaled not a number",
        statement(result={"score": {"scaled": float("nan")}}),
        BOTH,
        "result.score.scaled",
        "scaled must be a number, not NaN or an infinity.",
    ),
    (
        "raw above max",
        statement(result={"score": {"raw": 11, "min": 0, "max": 10}}),
        BOTH,
        "result.score.raw",
        "raw must not be more than max.",
    ),
    (
        "raw below min",
        statement(result={"score": {"raw": -1, "min": 0}}),
        BOTH,
        "result.score.raw",
        "raw must not be less than min.",
    ),
    (
        "min equal to max",
        statement(result={"score": {"min": 5, "max": 5}}),
        BOTH,
        "result.score.max",
        "max must be greater than min.",
    ),
    (
        "min above max",
        statement(result={"score": {"raw": 5, "min": 10, "max": 0}}),
        BOTH,
        "result.score.max",
        "greater than min",
    ),
    (
        "score unknown property",
        statement(result={"score": {"percent": 50}}),
        BOTH,
        "result.score.percent",
        'A score has no property "percent".',
    ),
    (
        "success a string",
        statement(result={"success": "yes"}),
        BOTH,
        "result.success",
        "success must be true or false, not a string.",
    ),
    (
        "completion a number",
        statement(result={"completion": 1}),
        BOTH,
        "result.completion",
        "true or false",
    ),
    (
        "response a number",
        statement(result={"response": 42}),
        BOTH,
        "result.response",
        "must be a string",
    ),
    *[
        (
            f"duration {value!r}",
            statement(result={"duration": value}),
            BOTH,
            "result.duration",
            "ISO 8601 duration",
        )
        for value in (
            "1 hour",
            "P",
            "PT",
            "P1DT",
            "P4W1D",
            "PT1.5H30M",
            "P0003-06-04T12:30:05",
            "-PT1S",
            "PT1H ",
            "pt1h",
            "P16559.14S",
        )
    ],
    (
        "duration a number",
        statement(result={"duration": 90}),
        BOTH,
        "result.duration",
        "must be a string",
    ),
    (
        "result extension key relative",
        statement(result={"extensions": {"/score": 1}}),
        BOTH,
        'result.extensions["/score"]',
        "absolute IRIs",
    ),
    (
        "result unknown property",
        statement(result={"passed": True}),
        BOTH,
        "result.passed",
        'A result has no property "passed".',
    ),
    # Context
    (
        "registration not a UUID",
        statement(context={"registration": "r-1"}),
        BOTH,
        "context.registration",
        "UUID",
    ),
    (
        "instructor without identifier",
        statement(context={"instructor": {"name": "x"}}),
        BOTH,
        "context.instructor",
        "needs one identifier",
    ),
    (
        "team an agent",
        statement(context={"team": ANA}),
        BOTH,
        "context.team.objectType",
        'A team must be a Group (objectType "Group").',
    ),
    (
        "contextActivities unknown key",
        statement(context={"contextActivities": {"parents": []}}),
        BOTH,
        "context.contextActivities.parents",
        'The contextActivities object has no property "parents".',
    ),
    (
        "contextActivities a string",
        statement(context={"contextActivities": {"parent": ACTIVITY}}),
        BOTH,
        "context.contextActivities.parent",
        "parent must be an Activity or an array of Activities.",
    ),
    (
        "context activity with bad id",
        statement(context={"contextActivities": {"grouping": [{"id": ACTIVITY}, {"id": "x"}]}}),
        BOTH,
        "context.contextActivities.grouping[1].id",
        "absolute IRI",
    ),
    (
        "revision with an agent object",
        statement(object={"objectType": "Agent", **BEN}, context={"revision": "2"}),
        BOTH,
        "context.revision",
        "revision is only allowed when the statement's object is an Activity.",
    ),
    (
        "platform with a group object",
        statement(object=TEAM, context={"platform": "Moodle"}),
        BOTH,
        "context.platform",
        "only allowed when the statement's object is an Activity",
    ),
    (
        "platform with a statement reference",
        statement(
            object={"objectType": "StatementRef", "id": OTHER_ID}, context={"platform": "Moodle"}
        ),
        BOTH,
        "context.platform",
        "only allowed",
    ),
    (
        "platform in a substatement about an agent",
        statement(
            object=substatement(
                object={"objectType": "Agent", **ANA}, context={"platform": "Moodle"}
            )
        ),
        BOTH,
        "object.context.platform",
        "only allowed",
    ),
    (
        "revision a number",
        statement(context={"revision": 2}),
        BOTH,
        "context.revision",
        "must be a string",
    ),
    (
        "language with underscore",
        statement(context={"language": "en_US"}),
        BOTH,
        "context.language",
        'language must be an RFC 5646 language tag, such as "en" or "en-US".',
    ),
    (
        "language too long",
        statement(context={"language": "abcdefghi"}),
        BOTH,
        "context.language",
        "RFC 5646",
    ),
    (
        "context statement an activity",
        statement(context={"statement": {"objectType": "Activity", "id": OTHER_ID}}),
        BOTH,
        "context.statement.objectType",
        'objectType must be "StatementRef" here.',
    ),
    (
        "context statement without objectType",
        statement(context={"statement": {"id": OTHER_ID}}),
        BOTH,
        "context.statement.objectType",
        "objectType is required in a StatementRef.",
    ),
    (
        "context extensions an array",
        statement(context={"extensions": []}),
        BOTH,
        "context.extensions",
        "extensions must be an object, not an array.",
    ),
    (
        "context unknown property",
        statement(context={"mentor": ANA}),
        BOTH,
        "context.mentor",
        'A context has no property "mentor".',
    ),
    (
        "contextAgents under 1.0.3",
        statement(context={"contextAgents": [context_agent()]}),
        (V1,),
        "context.contextAgents",
        "contextAgents is an xAPI 2.0.0 property; it is not allowed in an xAPI 1.0.3 statement.",
    ),
    (
        "contextGroups under 1.0.3",
        statement(context={"contextGroups": []}),
        (V1,),
        "context.contextGroups",
        "xAPI 2.0.0 property",
    ),
    (
        "contextAgents not an array",
        statement(context={"contextAgents": context_agent()}),
        (V2,),
        "context.contextAgents",
        "must be an array",
    ),
    (
        "contextAgent with Agent objectType",
        statement(context={"contextAgents": [context_agent(objectType="Agent")]}),
        (V2,),
        "context.contextAgents[0].objectType",
        'objectType must be "contextAgent" here.',
    ),
    (
        "contextAgent without objectType",
        statement(context={"contextAgents": [{"agent": ANA}]}),
        (V2,),
        "context.contextAgents[0].objectType",
        "objectType is required in a contextAgent.",
    ),
    (
        "contextAgent without agent",
        statement(context={"contextAgents": [{"objectType": "contextAgent"}]}),
        (V2,),
        "context.contextAgents[0].agent",
        "agent is required",
    ),
    (
        "contextAgent's agent a group",
        statement(context={"contextAgents": [context_agent(agent=TEAM)]}),
        (V2,),
        "context.contextAgents[0].agent.objectType",
        'agent must be an Agent (objectType "Agent").',
    ),
    (
        "relevantTypes empty",
        statement(context={"contextAgents": [context_agent(relevantTypes=[])]}),
        (V2,),
        "context.contextAgents[0].relevantTypes",
        "relevantTypes must list at least one item.",
    ),
    (
        "relevantTypes not IRIs",
        statement(context={"contextAgents": [context_agent(relevantTypes=["mentor"])]}),
        (V2,),
        "context.contextAgents[0].relevantTypes[0]",
        "absolute IRI",
    ),
    (
        "contextGroup's group an agent",
        statement(context={"contextGroups": [{"objectType": "contextGroup", "group": ANA}]}),
        (V2,),
        "context.contextGroups[0].group.objectType",
        'group must be a Group (objectType "Group").',
    ),
    (
        "contextGroup unknown property",
        statement(
            context={"contextGroups": [{"objectType": "contextGroup", "group": TEAM, "role": "x"}]}
        ),
        (V2,),
        "context.contextGroups[0].role",
        "A contextGroup has no property",
    ),
    # Timestamps
    (
        "date without time",
        statement(timestamp="2026-11-21"),
        BOTH,
        "timestamp",
        'timestamp must be an ISO 8601 date and time, such as "2026-11-21T14:05:00Z".',
    ),
    (
        "space instead of T",
        statement(timestamp="2026-11-21 14:05:00Z"),
        BOTH,
        "timestamp",
        "ISO 8601",
    ),
    ("month 13", statement(timestamp="2026-13-01T00:00:00Z"), BOTH, "timestamp", "ISO 8601"),
    ("30 February", statement(timestamp="2026-02-30T00:00:00Z"), BOTH, "timestamp", "ISO 8601"),
    ("hour 25", statement(timestamp="2026-11-21T25:00:00Z"), BOTH, "timestamp", "ISO 8601"),
    (
        "offset of 25 hours",
        statement(timestamp="2026-11-21T14:05:00+25:00"),
        BOTH,
        "timestamp",
        "ISO 8601",
    ),
    ("a word", statement(timestamp="yesterday"), BOTH, "timestamp", "ISO 8601"),
    ("a number", statement(timestamp=1_700_000_000), BOTH, "timestamp", "must be a string"),
    (
        "negative zero offset",
        statement(timestamp="2026-11-21T14:05:00-00:00"),
        BOTH,
        "timestamp",
        'timestamp must not use the offset "-00:00"; write "Z" or "+00:00" for UTC.',
    ),
    (
        "negative zero basic offset",
        statement(timestamp="20261121T140500-0000"),
        BOTH,
        "timestamp",
        '"-00:00"',
    ),
    (
        "naive timestamp under 2.0.0",
        statement(timestamp="2026-11-21T14:05:00"),
        (V2,),
        "timestamp",
        'timestamp must include a time zone offset ("Z" or "+hh:mm") in xAPI 2.0.0.',
    ),
    (
        "naive substatement timestamp under 2.0.0",
        statement(object=substatement(timestamp="2026-11-21T14:05:00.000")),
        (V2,),
        "object.timestamp",
        "time zone offset",
    ),
    # Attachments
    (
        "attachments an object",
        statement(attachments=attachment()),
        BOTH,
        "attachments",
        "attachments must be an array, not an object.",
    ),
    (
        "attachment without usageType",
        statement(attachments=[attachment(usageType=DROP)]),
        BOTH,
        "attachments[0].usageType",
        "usageType is required in an attachment.",
    ),
    (
        "usageType not an IRI",
        statement(attachments=[attachment(usageType="signature")]),
        BOTH,
        "attachments[0].usageType",
        "absolute IRI",
    ),
    (
        "attachment without display",
        statement(attachments=[attachment(display=DROP)]),
        BOTH,
        "attachments[0].display",
        "display is required",
    ),
    (
        "contentType not a media type",
        statement(attachments=[attachment(contentType="pdf")]),
        BOTH,
        "attachments[0].contentType",
        "Internet media type",
    ),
    (
        "negative length",
        statement(attachments=[attachment(length=-1)]),
        BOTH,
        "attachments[0].length",
        "length must be a whole number of octets, 0 or more.",
    ),
    (
        "fractional length",
        statement(attachments=[attachment(length=1.5)]),
        BOTH,
        "attachments[0].length",
        "whole number",
    ),
    (
        "length a string",
        statement(attachments=[attachment(length="10")]),
        BOTH,
        "attachments[0].length",
        "whole number",
    ),
    (
        "sha2 not a hash",
        statement(attachments=[attachment(sha2="abc")]),
        BOTH,
        "attachments[0].sha2",
        "SHA-2",
    ),
    (
        "fileUrl relative",
        statement(attachments=[attachment(fileUrl="cert.pdf")]),
        BOTH,
        "attachments[0].fileUrl",
        "http or https URL",
    ),
    (
        "second attachment unknown property",
        statement(attachments=[attachment(), attachment(data="...")]),
        BOTH,
        "attachments[1].data",
        'An attachment has no property "data".',
    ),
]


@pytest.mark.parametrize(
    ("body", "versions", "path", "words"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_statement_is_rejected_with_path_and_sentence(
    body: dict[str, Any], versions: tuple[str, ...], path: str, words: str
) -> None:
    for version in versions:
        error = rejection(body, version)
        assert (error.path, words in error.message) == (path, True), error.message
        assert error.message.endswith("."), "a sentence ends with a full stop"


@pytest.mark.parametrize(
    ("body", "version"),
    [
        (statement(timestamp="2026-11-21T14:05:00"), V1),
        (statement(version="2.0.0"), V2),
        (statement(context={"contextAgents": [context_agent()]}), V2),
    ],
    ids=["naive timestamp", "version 2.0.0", "contextAgents"],
)
def test_what_only_one_version_allows_is_rejected_under_the_other(
    body: dict[str, Any], version: str
) -> None:
    validate_statement(body, version)
    other = V2 if version == V1 else V1
    with pytest.raises(StatementError):
        validate_statement(body, other)


# -- the first offending property, deep inside and in a batch ----------------------------------


def test_path_names_the_batch_index_and_the_property() -> None:
    body = [
        statement(),
        statement(id=OTHER_ID),
        statement(id=DROP),
        statement(id=DROP, actor={"mbox": "ana@example.org"}),
    ]
    with pytest.raises(StatementError) as caught:
        validate_batch(body, V1)
    assert (caught.value.path, caught.value.message) == (
        "statements[3].actor.mbox",
        "mbox must be a mailto: IRI.",
    )
    assert str(caught.value) == "statements[3].actor.mbox: mbox must be a mailto: IRI."


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (
            statement(object=substatement(actor={"account": {"homePage": "moodle", "name": "4"}})),
            "object.actor.account.homePage",
            'homePage must be an http or https URL, such as "https://example.org/".',
        ),
        (
            statement(
                context={
                    "contextActivities": {
                        "grouping": [{"id": ACTIVITY}, activity(extensions={"room 12": 1})]
                    }
                }
            ),
            'context.contextActivities.grouping[1].definition.extensions["room 12"]',
            'Extension keys must be absolute IRIs; "room 12" is not one.',
        ),
        (
            statement(
                object=substatement(
                    object=interaction("sequencing", choices=components("a", "b", "b"))
                )
            ),
            "object.object.definition.choices[2].id",
            'The id "b" appears twice in choices; ids must be distinct.',
        ),
        (
            statement(
                actor={
                    **TEAM,
                    "member": [ANA, {"mbox": "mailto:x@example.org", "account": BEN["account"]}],
                }
            ),
            "actor.member[1].account",
            "An Agent has one identifier, but this one has mbox and account.",
        ),
    ],
    ids=["substatement account", "grouping extension", "nested choices", "group member"],
)
def test_path_of_a_nested_offence(body: dict[str, Any], path: str, message: str) -> None:
    error = rejection(body, V2)
    assert (error.path, error.message) == (path, message)


def test_properties_it_may_not_have_come_first_alphabetically() -> None:
    body = statement(zeta=1, alpha=2, actor={"name": "no identifier"})
    assert rejection(body, V1).path == "alpha"


def test_then_properties_in_the_spec_order_whatever_the_json_order() -> None:
    bad = {
        "result": {"success": "yes"},
        "context": {"language": "?"},
        "verb": {"id": "x"},
        "actor": {},
    }
    forward = {**statement(), **bad}
    backward = dict(reversed(list(forward.items())))
    assert rejection(forward, V1).path == rejection(backward, V1).path == "actor"


def test_a_bad_statement_anywhere_rejects_the_whole_batch_at_the_first() -> None:
    body = [statement(), statement(id=OTHER_ID, verb={"id": "x"}), statement(id=DROP, actor=None)]
    with pytest.raises(StatementError) as caught:
        validate_batch(body, V2)
    assert caught.value.path == "statements[1].verb.id"


def test_batch_returns_the_statements_it_accepted() -> None:
    single = statement()
    assert validate_batch(single, V1) == [single]
    many = [statement(), statement(id=OTHER_ID), statement(id=DROP)]
    assert validate_batch(many, V2) == many


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ([], "statements", "The array of statements is empty; send at least one."),
        (None, "", "Send a statement object or an array of them, not null."),
        ("{}", "", "Send a statement object or an array of them, not a string."),
        ([statement(), "x"], "statements[1]", "A statement must be an object, not a string."),
        (
            [statement(), statement(id=STATEMENT_ID.upper())],
            "statements[1].id",
            "statements[0] already has this id; ids in one batch must differ.",
        ),
    ],
    ids=["empty array", "null", "a string", "an item not an object", "the same id twice"],
)
def test_batch_shape_errors(body: object, path: str, message: str) -> None:
    with pytest.raises(StatementError) as caught:
        validate_batch(body, V1)
    assert (caught.value.path, caught.value.message) == (path, message)


def test_a_statement_must_be_an_object() -> None:
    with pytest.raises(StatementError) as caught:
        validate_statement([statement()], V1)
    assert (caught.value.path, caught.value.message) == (
        "",
        "A statement must be an object, not an array.",
    )


def test_an_unknown_version_is_the_callers_mistake_not_the_statements() -> None:
    with pytest.raises(ValueError, match="Unsupported xAPI version") as caught:
        validate_statement(statement(), "1.0.0")
    assert not isinstance(caught.value, StatementError)


# -- pathological input does not crash it -------------------------------------------------------


def test_deeply_nested_substatements_are_rejected_without_recursing() -> None:
    body: dict[str, Any] = {"objectType": "Activity", "id": ACTIVITY}
    for _ in range(20_000):
        body = {"objectType": "SubStatement", "actor": ANA, "verb": {"id": VERB}, "object": body}
    outer = statement(object=body)
    error = rejection(outer, V1)
    assert (error.path, error.message) == (
        "object.object.objectType",
        "A SubStatement cannot contain another SubStatement.",
    )


def test_deeply_nested_extension_values_are_not_walked() -> None:
    value: list[Any] = []
    for _ in range(100_000):
        value = [value]
    body = {**BASE, "result": {"extensions": {"https://example.org/ext/deep": value}}}
    validate_statement(body, V2)


def test_deeply_nested_groups_stop_at_the_first_group_member() -> None:
    group: dict[str, Any] = dict(TEAM)
    for _ in range(20_000):
        group = {"objectType": "Group", "member": [group]}
    error = rejection({**BASE, "actor": group}, V1)
    assert error.path == "actor.member[0].objectType"
