"""Who may call every route of the app: one cell per route and actor, each asserted.

The actors (tests/helpers/authz.py): nobody (no token), Ana (learner of course A, who owns
the objects the paths name), Bo (another learner of course A), Mo (Ana's mentor), Ines
(instructor) and Ada (the platform's administrator) of course A, Di (instructor) and Abe
(administrator) of course B, same platform, Ana with her token of course B, a learner and an
instructor of platform Q, and Ana's token expired or forged. Each calls with the credential it
holds: its launch token, in the form or the query (as the tool's pages send it), or as a Bearer
header where a route takes other credentials (/xapi).
Refused cells must leave every table as it was; allowed cells of anyone but Ana and course
A's staff, and every cell of a public route, must not show Ana's words. A route of the app
(embedded platform included) without a row here fails ``test_every_route_has_a_row``, by name;
the embedded platform's routes must answer 404 to everyone in a production app.
The tool's own administrator works through the CLI: no HTTP route is theirs.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Enrollment, Role
from lti_tool.mentoring import links
from lti_tool.threads import services as threads
from tests.helpers.authz import (
    ACTORS,
    LEARNERS,
    NO_LAUNCH,
    OUTSIDE_STAFF,
    SECRETS,
    STAFF_OF_A,
    World,
    another_app,
    build,
    snapshot,
)

OK = "2xx/3xx"
Expect = dict[str, "int | str"]
STATEMENT = {"actor": {"mbox": "mailto:ana@example.org"},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
             "object": {"id": "https://lms.example.edu/activity/1"}}  # fmt: skip
LOGIN = {"iss": "{issuer}", "client_id": "{client_id}", "login_hint": "ana",
         "target_link_uri": "http://localhost/lti/launch"}  # fmt: skip
PLAN_TOML = (
    'name = "New plan"\n[[steps]]\nkey = "tip"\noffset_days = 0\n'
    'message = {{ kind = "tip", title = "A tip", body = "Listen first." }}\n'
)  # str.format


def _cells(default: int | str, **groups: int | str) -> Expect:
    """Every actor ``default``, except those of the named groups (or single actors)."""
    named = {"learners": LEARNERS, "staff_of_a": STAFF_OF_A, "outside_staff": OUTSIDE_STAFF}
    expect: Expect = dict.fromkeys(ACTORS, default)
    expect.update(dict.fromkeys(NO_LAUNCH, 401))
    for group, outcome in groups.items():
        expect.update(dict.fromkeys(named.get(group, (group,)), outcome))
    return expect


def ana_only(**also: int | str) -> Expect:
    """A page or form on one of Ana's own things in course A: anyone else is told it does not
    exist (404), staff included (the panel is the learner's; staff answer in the console)."""
    return _cells(404, owner=OK, **also)


def own_panel(**also: int | str) -> Expect:
    """A panel page about the caller's own things: anyone launched may use it."""
    return _cells(OK, **also)


def console_page(**also: int | str) -> Expect:
    """A console page of the caller's own course: staff only, learners 403."""
    return _cells(OK, learners=403, **also)


def course_a_object(**also: int | str) -> Expect:
    """A console action on a thing of course A: its staff; staff elsewhere 404; learners 403."""
    return _cells(OK, learners=403, outside_staff=404, **also)


def everyone(outcome: int | str = OK) -> Expect:
    """A route that answers every actor alike: no launch token is read, and none is needed."""
    return dict.fromkeys(ACTORS, outcome)


def picker_owner() -> Expect:
    """The deep-linking picker: only the instructor whose launch opened it; other launches 403
    (a mentor, a learner, or anyone the request does not belong to, the administrator of the
    same course included)."""
    return _cells(403, instructor=OK)


def email_link(expired: int | str = OK) -> Expect:
    """A signed link from an email: the link is the credential (whoever holds it, launched or
    not); a changed one is 400, an old answer link 410."""
    expect = dict.fromkeys(ACTORS, OK)
    expect.update(tampered=400, expired=expired)
    return expect


@dataclass(frozen=True)
class Call:
    """How to call a route: its path (``str.format`` on the world's ids and words), its form
    (the query of a GET), and what each actor gets; ``link`` names the signed email link the
    path carries; ``json`` is a JSON body, sent with the actor's token as a Bearer header;
    ``public`` says nobody, not even Ana, may see Ana's words there."""

    path: str
    expect: Expect
    form: dict[str, str] = field(default_factory=dict)
    link: str | None = None
    json: Any = None
    public: bool = False


MATRIX: dict[tuple[str, str], Call] = {
    # The learner panel.
    ("/panel/", "GET"): Call("/panel/", own_panel()),
    ("/panel/updates.json", "GET"): Call("/panel/updates.json", own_panel()),
    ("/panel/preferences", "GET"): Call("/panel/preferences", own_panel()),
    ("/panel/preferences", "POST"): Call("/panel/preferences", own_panel(),
                                         {"email": "on", "time_zone": "UTC"}),
    ("/panel/ask", "POST"): Call("/panel/ask", own_panel(
        staff_of_a=403, outside_staff=403, foreign_instructor=403),
        {"question": "How do I start?"}),
    ("/panel/answer/<int:delivery_id>", "POST"): Call(
        "/panel/answer/{question}", ana_only(), {"answer": "yes"}),
    ("/panel/survey/<int:delivery_id>", "POST"): Call(
        "/panel/survey/{survey}", ana_only(), {"item-useful": "4", "item-more": ""}),
    ("/panel/rsvp/<int:delivery_id>", "POST"): Call(
        "/panel/rsvp/{session}", ana_only(), {"answer": "going"}),
    ("/panel/calendar/<int:delivery_id>.ics", "GET"): Call(
        "/panel/calendar/{session}.ics", ana_only()),
    ("/panel/open/<int:delivery_id>", "GET"): Call("/panel/open/{resource}", ana_only()),
    ("/panel/why/<int:delivery_id>", "GET"): Call("/panel/why/{question}", ana_only()),
    ("/panel/threads/<int:thread_id>", "GET"): Call("/panel/threads/{thread}", ana_only()),
    ("/panel/threads/<int:thread_id>/reply", "POST"): Call(
        "/panel/threads/{thread}/reply", ana_only(), {"text": "And one more thing."}),
    ("/panel/agreement", "GET"): Call("/panel/agreement", ana_only()),
    ("/panel/agreement", "POST"): Call("/panel/agreement", ana_only(), {
        "agreement": "{agreement}", "version": "{version}", "mentee_expectations": "Patience"}),
    ("/panel/agreement/accept", "POST"): Call("/panel/agreement/accept", ana_only(), {
        "agreement": "{agreement}", "version": "{version}"}),
    # The console: pages of the caller's course.
    ("/console/", "GET"): Call("/console/", console_page()),
    ("/console/syncs.json", "GET"): Call("/console/syncs.json", console_page()),
    ("/console/sync/<kind>", "POST"): Call("/console/sync/roster", console_page()),
    ("/console/inbox", "GET"): Call("/console/inbox", console_page()),
    ("/console/plans", "GET"): Call("/console/plans", console_page()),
    ("/console/plans/new", "GET"): Call("/console/plans/new", console_page()),
    ("/console/plans/new", "POST"): Call("/console/plans/new", console_page(),
                                         {"mode": "toml", "toml": PLAN_TOML}),
    ("/console/results", "GET"): Call("/console/results", console_page()),
    ("/console/results.csv", "GET"): Call("/console/results.csv", console_page()),
    ("/console/roster", "GET"): Call("/console/roster", console_page()),
    ("/console/sessions", "GET"): Call("/console/sessions", console_page()),
    ("/console/sessions/new", "GET"): Call("/console/sessions/new", console_page()),
    ("/console/sessions/new", "POST"): Call("/console/sessions/new", console_page(), {
        "title": "Week 2 check-in", "format": "office_hours", "date": "2030-12-02",
        "time": "14:00", "time_zone": "Europe/Paris", "duration": "45", "place": "Room 4",
        "audience": "all"}),
    ("/console/snippets", "GET"): Call("/console/snippets", console_page()),
    ("/console/snippets", "POST"): Call("/console/snippets", console_page(),
                                        {"title": "Hello", "body": "Hello there."}),
    # The console: things of course A.
    ("/console/inbox/<int:thread_id>", "GET"): Call("/console/inbox/{thread}", course_a_object()),
    ("/console/inbox/<int:thread_id>/reply", "POST"): Call(
        "/console/inbox/{thread}/reply", course_a_object(), {"body": "Start small."}),
    ("/console/inbox/<int:thread_id>/answered", "POST"): Call(
        "/console/inbox/{thread}/answered", course_a_object()),
    ("/console/plans/<int:sequence_id>/preview", "GET"): Call(
        "/console/plans/{sequence}/preview", course_a_object()),
    ("/console/plans/<int:sequence_id>/steps/<int:step_id>", "GET"): Call(
        "/console/plans/{sequence}/steps/{step}", course_a_object()),
    ("/console/plans/<int:sequence_id>/steps/<int:step_id>", "POST"): Call(
        "/console/plans/{sequence}/steps/{step}", course_a_object(),
        {"title": "Applied yet?", "body": "", "answers": "yes: Yes\nnot_yet: Not yet\nhelp: "
         "I need help"}),
    # A library plan is the platform's: any of its courses may copy it; platform Q may not.
    ("/console/plans/<int:sequence_id>/copy", "POST"): Call(
        "/console/plans/{library}/copy",
        course_a_object(other_course_instructor=OK, other_course_admin=OK)),
    ("/console/plans/rules/<int:rule_id>/switch", "POST"): Call(
        "/console/plans/rules/{rule}/switch", course_a_object(), {"on": "1"}),
    ("/console/plans/rules/<int:rule_id>/dry-run", "GET"): Call(
        "/console/plans/rules/{rule}/dry-run", course_a_object()),
    ("/console/roster/<int:person_id>", "GET"): Call(
        "/console/roster/{person_peer}", course_a_object()),
    ("/console/roster/<int:person_id>/mentor", "POST"): Call(
        "/console/roster/{person_peer}/mentor", course_a_object(),
        {"mentor_id": "{person_mentor}"}),
    ("/console/sessions/<int:message_id>/remind", "POST"): Call(
        "/console/sessions/{session_message}/remind", course_a_object()),
    ("/console/sessions/<int:message_id>/attendance", "POST"): Call(
        "/console/sessions/{session_message}/attendance", course_a_object(),
        {"person_id": "{person_owner}"}),
    # A snippet is its mentor's own: another mentor of the course is told it does not exist.
    ("/console/snippets/<int:snippet_id>/delete", "POST"): Call(
        "/console/snippets/{snippet}/delete", course_a_object(instructor=404, admin=404)),
    # Email links: signed, so neither a launch nor a cookie is needed.
    ("/mentoring/a/<token>", "GET"): Call("/mentoring/a/{link}", email_link(410), link="answer"),
    ("/mentoring/a/<token>", "POST"): Call("/mentoring/a/{link}", email_link(410), link="answer"),
    ("/mentoring/c/<token>.ics", "GET"): Call("/mentoring/c/{link}.ics", email_link(),
                                              link="calendar"),
    ("/mentoring/u/<token>", "GET"): Call("/mentoring/u/{link}", email_link(),
                                          link="unsubscribe"),
    ("/mentoring/u/<token>", "POST"): Call("/mentoring/u/{link}", email_link(),
                                           link="unsubscribe"),
    # Operations and installing: nothing personal, the same for everyone.
    ("/", "GET"): Call("/", everyone(), public=True),
    ("/healthz", "GET"): Call("/healthz", everyone(), public=True),
    ("/readyz", "GET"): Call("/readyz", everyone(), public=True),
    ("/static/<path:filename>", "GET"): Call("/static/app.css", everyone(), public=True),
    ("/lti/jwks", "GET"): Call("/lti/jwks", everyone(), public=True),
    ("/lti/config/canvas.json", "GET"): Call("/lti/config/canvas.json", everyone(), public=True),
    ("/lti/setup", "GET"): Call("/lti/setup", everyone(), public=True),
    ("/xapi/about", "GET"): Call("/xapi/about", everyone(), public=True),
    # Dynamic registration is opened by an LMS with its openid_configuration, nothing else.
    ("/lti/register", "GET"): Call("/lti/register", everyone(400), public=True),
    # The OIDC login starts a launch for whoever the platform sends (tests/lti/test_launch.py);
    # the launch itself needs the platform's signed id_token: a launch token is not one.
    ("/lti/login", "GET"): Call("/lti/login", everyone(), LOGIN, public=True),
    ("/lti/login", "POST"): Call("/lti/login", everyone(), LOGIN, public=True),
    ("/lti/launch", "POST"): Call("/lti/launch", everyone(401), {"state": "{picker}"}),
    ("/lti/launch/complete", "POST"): Call(
        "/lti/launch/complete", everyone(401), {"launch_id": "{picker}", "state": "{picker}"}),
    # Deep linking: Ines's request, answered by Ines alone.
    ("/lti/deep-link/", "GET"): Call("/lti/deep-link/", picker_owner(), {"dl": "{picker}"}),
    ("/lti/deep-link/", "POST"): Call("/lti/deep-link/", picker_owner(),
                                      {"dl": "{picker}", "kind": "panel"}),
    # Statements: HTTP Basic credentials of a statement source only (tests/xapi).
    ("/xapi/statements", "POST"): Call("/xapi/statements", everyone(401), json=STATEMENT),
    ("/xapi/statements", "PUT"): Call(
        "/xapi/statements?statementId=9f1d0c52-3f6e-4a43-a6a5-1d2f3e4a5b6c", everyone(401),
        json=STATEMENT),
}  # fmt: skip

#: The embedded platform (the demo's stand-in LMS): each route and a path to it. It is not
#: registered in production, where every one of these answers 404 to everyone.
DEMO_ONLY: dict[tuple[str, str], str] = {
    ("/dev-platform/.well-known/openid-configuration", "GET"):
        "/dev-platform/.well-known/openid-configuration",
    ("/dev-platform/ags/<context_id>/lineitems", "GET"):
        "/dev-platform/ags/demo-course-1/lineitems",
    ("/dev-platform/ags/<context_id>/lineitems", "POST"):
        "/dev-platform/ags/demo-course-1/lineitems",
    ("/dev-platform/ags/<context_id>/lineitems/<int:item_id>", "GET"):
        "/dev-platform/ags/demo-course-1/lineitems/1",
    ("/dev-platform/ags/<context_id>/lineitems/<int:item_id>/results", "GET"):
        "/dev-platform/ags/demo-course-1/lineitems/1/results",
    ("/dev-platform/ags/<context_id>/lineitems/<int:item_id>/scores", "POST"):
        "/dev-platform/ags/demo-course-1/lineitems/1/scores",
    ("/dev-platform/auth", "GET"): "/dev-platform/auth",
    ("/dev-platform/course", "GET"): "/dev-platform/course?course=demo-course-1&user=demo-mentor",
    ("/dev-platform/deep-link-return", "POST"): "/dev-platform/deep-link-return",
    ("/dev-platform/install", "GET"): "/dev-platform/install",
    ("/dev-platform/jwks", "GET"): "/dev-platform/jwks",
    ("/dev-platform/nrps/<context_id>", "GET"): "/dev-platform/nrps/demo-course-1",
    ("/dev-platform/register", "POST"): "/dev-platform/register",
    ("/dev-platform/token", "POST"): "/dev-platform/token",
}  # fmt: skip
PRODUCTION = {
    "ENV": "production", "SECRETS_KEY": "1KJD8NJcx9T3Qm0fUpLHRWD8d0I6kVc5Xc2c4tq9y4U=",
    "DATABASE_URL": "postgresql://vm@127.0.0.1:1/vm", "BROKER_URL": "redis://127.0.0.1:1/0",
    "LTI_EMBEDDED_PLATFORM": False, "DEMO_CLOCK": False,
    "XAPI_TOOL_URL": "https://mentor.example.org",
}  # fmt: skip


def routes(app: Flask) -> set[tuple[str, str]]:
    """Every (rule, method) the app answers, but the HEAD and OPTIONS Flask adds."""
    return {(rule.rule, method) for rule in app.url_map.iter_rules()
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}  # fmt: skip


def test_every_route_has_a_row(make_app: Callable[..., Flask], app: Flask) -> None:
    """With the embedded platform on, as in the demo: the most routes the app ever has."""
    demo = another_app(make_app, app, LTI_EMBEDDED_PLATFORM=True)
    every = routes(demo)
    missing = sorted(every - MATRIX.keys() - DEMO_ONLY.keys())
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    gone = sorted((MATRIX.keys() | DEMO_ONLY.keys()) - every)
    assert not gone, f"rows for routes that no longer exist: {gone}"
    assert not DEMO_ONLY.keys() & MATRIX.keys()
    assert all(rule.startswith("/dev-platform/") for rule, _ in DEMO_ONLY)
    adapter = demo.url_map.bind("localhost")
    for (rule, method), path in DEMO_ONLY.items():  # so that a 404 in production means something
        matched, _ = adapter.match(path.split("?")[0], method=method, return_rule=True)
        assert matched.rule == rule, (rule, path)


def test_every_row_has_every_actor() -> None:
    for key, call in MATRIX.items():
        assert set(call.expect) == set(ACTORS), key


@pytest.fixture
def world(app: Flask, db: SQLAlchemy, frozen_clock: FixedClock,
          monkeypatch: pytest.MonkeyPatch) -> World:  # fmt: skip
    """The matrix's world (tests/helpers/authz.py)."""
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    return build(db, app)


def _tampered(token: str) -> str:
    """The token with its first character changed (its signature no longer matches)."""
    return ("B" if token[0] != "B" else "C") + token[1:]


def _link(world: World, kind: str, actor: str, clock: FixedClock) -> str:
    """The email link's token the actor holds: Ana's, changed or aged as the actor says."""
    if kind == "answer":
        if actor == "expired":
            days = world.app.config["MENTORING_ANSWER_LINK_DAYS"] + 1
            clock.advance(timedelta(days=-days))
            token = links.sign(world.ids["question"], "yes")
            clock.advance(timedelta(days=days))
        else:
            token = links.sign(world.ids["question"], "yes")
    elif kind == "calendar":
        token = links.calendar_path(world.ids["session"]).removeprefix(links.CALENDAR_PREFIX)
        token = token.removesuffix(".ics")
    else:
        token = links.unsubscribe_path(world.ids["person_owner"]).split("/")[-1]
    return _tampered(token) if actor == "tampered" else token


def call(client: FlaskClient, world: World, key: tuple[str, str], actor: str,
         clock: FixedClock) -> TestResponse:  # fmt: skip
    """The actor calls the route as its row says."""
    row = MATRIX[key]
    values = {**{name: str(value) for name, value in world.ids.items()}, **world.words}
    if row.link:
        values["link"] = _link(world, row.link, actor, clock)
    path = row.path.format(**values)
    token = world.token(actor)
    form = {name: value.format(**values) for name, value in row.form.items()}
    if row.json is not None:
        headers = {"X-Experience-API-Version": "1.0.3"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return client.open(path, method=key[1], json=row.json, headers=headers)
    given = {"lt": token} if token else {}
    if key[1] == "GET":
        return client.get(path, query_string={**form, **given}, buffered=True)  # files closed
    return client.open(path, method=key[1], data={**form, **given})


CELLS = [(key, actor) for key in MATRIX for actor in ACTORS]


@pytest.mark.parametrize(("key", "actor"), CELLS,
                         ids=[f"{m} {r} as {a}" for (r, m), a in CELLS])  # fmt: skip
def test_cell(client: FlaskClient, db: SQLAlchemy, world: World, frozen_clock: FixedClock,
              key: tuple[str, str], actor: str) -> None:  # fmt: skip
    expected = MATRIX[key].expect[actor]
    before = snapshot(db)
    response = call(client, world, key, actor, frozen_clock)
    if expected == OK:
        assert 200 <= response.status_code < 400, response.get_data(as_text=True)[:2000]
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:2000]
        assert snapshot(db) == before, "a refused request changed stored rows"
    if MATRIX[key].public or (expected == OK and actor not in ("owner", *STAFF_OF_A)):
        shown = html.unescape(response.get_data(as_text=True))
        assert not [words for words in SECRETS if words in shown]


@pytest.fixture
def production_app(make_app: Callable[..., Flask], app: Flask) -> Flask:
    """The app as production builds it (its database and broker are never reached here)."""
    return another_app(make_app, app, **PRODUCTION)


def test_a_production_app_has_no_embedded_platform(production_app: Flask) -> None:
    assert not {"devplatform", "devplatform_api", "devplatform_registration"} & set(
        production_app.blueprints
    )
    assert not [rule for rule, _ in routes(production_app) if rule.startswith("/dev-platform")]
    assert routes(production_app) == MATRIX.keys(), "production routes differ from the matrix"


@pytest.mark.parametrize("key", sorted(DEMO_ONLY), ids=[f"{m} {r}" for r, m in sorted(DEMO_ONLY)])
def test_the_embedded_platform_answers_no_one_in_production(
    production_app: Flask, world: World, key: tuple[str, str]
) -> None:  # fmt: skip
    """Every actor, with its launch token as a Bearer header too, finds nothing there."""
    client = production_app.test_client()
    for actor in ACTORS:
        token = world.token(actor)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        path, _, query = DEMO_ONLY[key].partition("?")
        given = {"lt": token} if token else {}
        if key[1] == "GET":
            response = client.get(path, query_string=f"{query}&lt={token or ''}", headers=headers)
        else:
            response = client.post(path, data=given, headers=headers)
        assert response.status_code == 404, (actor, response.get_data(as_text=True)[:500])


def test_the_owners_words_are_shown_where_they_belong(
    client: FlaskClient, world: World, frozen_clock: FixedClock
) -> None:
    """So that their absence elsewhere means something: Ana's panel shows her question, her
    agreement page its goals, and course A's console the question and its plan."""
    pages = (("/panel/", "owner"), ("/panel/agreement", "owner"), ("/console/inbox", "mentor"),
             ("/console/plans", "instructor"))  # fmt: skip
    seen = {page: call(client, world, (page[0], "GET"), page[1], frozen_clock).text
            for page in pages}  # fmt: skip
    assert SECRETS[0] in seen["/panel/", "owner"]
    assert SECRETS[2] in seen["/panel/agreement", "owner"]
    assert SECRETS[0] in seen["/console/inbox", "mentor"]
    assert SECRETS[1] in seen["/console/plans", "instructor"]


# Beyond the matrix: ids of another course (CSRF: tests/test_csrf.py).


def test_a_message_not_delivered_yet_cannot_be_reached_by_its_id(
    client: FlaskClient, db: SQLAlchemy, world: World, frozen_clock: FixedClock
) -> None:
    """Ana's question due next week is not in her panel: answering it or opening it by its
    id is not found, and nothing is stored ("why" may explain any of her messages, even one
    skipped or held: tests/panel/test_why.py)."""
    world.ids["question"] = world.ids["scheduled"]  # the rows' paths now name it
    token = world.token("owner")
    before = snapshot(db)
    for key in (("/panel/answer/<int:delivery_id>", "POST"),
                ("/panel/open/<int:delivery_id>", "GET")):  # fmt: skip
        row = MATRIX[key]
        path = row.path.format(question=world.ids["scheduled"],
                               resource=world.ids["scheduled"])  # fmt: skip
        if key[1] == "GET":
            response = client.get(path, query_string={"lt": token})
        else:
            response = client.post(path, data={"lt": token, "answer": "yes"})
        assert response.status_code == 404, key
    assert snapshot(db) == before


def test_with_her_course_a_token_ana_cannot_reach_her_course_b_question(
    client: FlaskClient, db: SQLAlchemy, world: World
) -> None:
    """Ana asked in course B too. Her course A token, with that thread's id in the address,
    finds nothing (404) and can add nothing; nor can Mo's, a mentor of course A only."""
    asked = threads.ask(db.session(), world.b.id, world.ids["person_owner"], "In course B")
    before = snapshot(db)
    ana, mo = world.token("owner"), world.token("mentor")
    assert client.get(f"/panel/threads/{asked.id}", query_string={"lt": ana}).status_code == 404
    reply = client.post(f"/panel/threads/{asked.id}/reply", data={"lt": ana, "text": "More"})
    assert reply.status_code == 404
    assert client.get(f"/console/inbox/{asked.id}", query_string={"lt": mo}).status_code == 404
    answer = client.post(f"/console/inbox/{asked.id}/reply", data={"lt": mo, "body": "Hi"})
    assert answer.status_code == 404
    assert snapshot(db) == before


def test_a_token_of_staff_demoted_since_reaches_the_console_no_more(
    client: FlaskClient, db: SQLAlchemy, world: World
) -> None:
    """Ines's enrollment becomes a learner's (a roster read); the console token she holds, and
    every fresh one it hands out, must stop opening the console."""
    token = world.token("instructor")
    enrollment = db.session.scalars(select(Enrollment).where(
        Enrollment.course_id == world.a.id,
        Enrollment.person_id == world.ids["person_instructor"])).one()  # fmt: skip
    enrollment.role = Role.LEARNER
    db.session.commit()
    refused = client.get("/console/", query_string={"lt": token})
    assert refused.status_code == 401  # as every launch the tool cannot trust any more
    assert "Your role in this course has changed" in refused.text
