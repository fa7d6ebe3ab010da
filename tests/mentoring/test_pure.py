"""The engine's pure parts, by tables: rule matching, when a delivery may go, and rendering
bodies that are safe whatever a mentor or a learner's name contains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

import pytest

from lti_tool.mentoring.matching import RuleIndex, RuleSpec
from lti_tool.mentoring.render import to_html
from lti_tool.mentoring.scheduling import Policy, Verdict, decide, quiet_until

ON = datetime(2026, 11, 1, tzinfo=UTC)
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
SCORED = "http://adlnet.gov/expapi/verbs/scored"
PAGE = "https://lms.example.org/mod/page/view.php?id=7"


@dataclass(frozen=True)
class Ev:
    registration_id: int = 1
    course_id: int | None = 5
    topic_id: int | None = 3
    verb: str = COMPLETED
    activity_id: str = PAGE
    completion: bool | None = True
    success: bool | None = None
    score_scaled: float | None = None
    occurred_at: datetime = datetime(2026, 11, 2, tzinfo=UTC)


def _rule(**fields: object) -> RuleSpec:
    return RuleSpec(**{"id": 1, "registration_id": 1, "sequence_id": 1, "switched_on_at": ON,
                       **fields})  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(("rule", "event", "matches"), [
    (_rule(verb=COMPLETED, topic_id=3), Ev(), True),
    (_rule(verb=COMPLETED, topic_id=4), Ev(), False),  # another topic
    (_rule(verb=SCORED, topic_id=3), Ev(), False),  # another verb
    (_rule(topic_id=3), Ev(verb=SCORED), True),  # any verb
    (_rule(verb=COMPLETED, activity_id=PAGE), Ev(topic_id=None), True),
    (_rule(verb=COMPLETED), Ev(), True),  # any activity
    (_rule(registration_id=2, verb=COMPLETED), Ev(), False),  # another tenant
    (_rule(course_id=6, verb=COMPLETED), Ev(), False),  # another course
    (_rule(completion=True), Ev(completion=None), False),
    (_rule(success=True), Ev(success=False), False),
    (_rule(success=True), Ev(success=True), True),
    (_rule(score_min=0.8), Ev(score_scaled=0.79), False),
    (_rule(score_min=0.8), Ev(score_scaled=0.8), True),
    (_rule(score_min=0.8), Ev(score_scaled=None), False),
    (_rule(verb=COMPLETED), Ev(occurred_at=datetime(2026, 10, 31, tzinfo=UTC)), False),  # older
])  # fmt: skip
def test_a_rule_matches_events_by_its_pattern(rule: RuleSpec, event: Ev, matches: bool) -> None:
    assert RuleIndex([rule]).match(event) == ([rule] if matches else [])


def test_an_index_of_many_rules_finds_only_the_candidates_in_id_order() -> None:
    rules = [_rule(id=n, verb=COMPLETED, topic_id=n) for n in range(1000)]
    rules += [_rule(id=2000, topic_id=3), _rule(id=1500, activity_id=PAGE)]
    assert [r.id for r in RuleIndex(rules).match(Ev())] == [3, 1500, 2000]
    assert RuleIndex(rules).match(Ev(occurred_at=ON.replace(month=10)), backfill=True)


QUIET = Policy(zone="Europe/Paris", quiet_start=time(21), quiet_end=time(8))


@pytest.mark.parametrize(("now", "until"), [
    (datetime(2026, 11, 20, 19, 59, tzinfo=UTC), None),  # 20:59 in Paris
    (datetime(2026, 11, 20, 20, 0, tzinfo=UTC), datetime(2026, 11, 21, 7, 0, tzinfo=UTC)),
    (datetime(2026, 11, 21, 6, 59, tzinfo=UTC), datetime(2026, 11, 21, 7, 0, tzinfo=UTC)),
    (datetime(2026, 11, 21, 7, 0, tzinfo=UTC), None),
    (datetime(2026, 7, 1, 6, 30, tzinfo=UTC), None),  # summer time: 08:30 in Paris
    (datetime(2026, 7, 1, 5, 30, tzinfo=UTC), datetime(2026, 7, 1, 6, 0, tzinfo=UTC)),
])  # fmt: skip
def test_quiet_hours_are_in_the_learners_zone(now: datetime, until: datetime | None) -> None:
    assert quiet_until(now, QUIET) == until


@pytest.mark.parametrize(("policy", "now", "today", "verdict", "reason"), [
    (Policy(), datetime(2026, 11, 20, 3, tzinfo=UTC), 0, Verdict.DELIVER, ""),
    (Policy(opted_out=frozenset({"tip"})), datetime(2026, 11, 20, 12, tzinfo=UTC), 0,
     Verdict.SKIP, "Not sent: you opted out of tip messages."),
    (QUIET, datetime(2026, 11, 20, 22, tzinfo=UTC), 0, Verdict.HOLD,
     "Held until 2026-11-21 08:00: quiet hours (21:00 to 08:00, Europe/Paris)."),
    (Policy(daily_cap=2), datetime(2026, 11, 20, 12, tzinfo=UTC), 2, Verdict.HOLD,
     "Held until 2026-11-21 00:00: you get at most 2 messages a day."),
    (Policy(daily_cap=2), datetime(2026, 11, 20, 12, tzinfo=UTC), 1, Verdict.DELIVER, ""),
    (Policy(zone="No/Such_Zone", quiet_start=time(21), quiet_end=time(8)),
     datetime(2026, 11, 20, 12, tzinfo=UTC), 0, Verdict.DELIVER, ""),  # unknown zone: UTC
])  # fmt: skip
def test_a_due_delivery_is_delivered_held_or_skipped_with_a_reason(
    policy: Policy, now: datetime, today: int, verdict: Verdict, reason: str
) -> None:
    decision = decide(now, policy, "tip", today)
    assert (decision.verdict, decision.reason) == (verdict, reason)


@pytest.mark.parametrize(("body", "name", "absent", "present"), [
    ("<script>alert(1)</script>", "Ana", "<script", "&lt;script&gt;"),
    ("[x](javascript:alert(1))", "Ana", 'href="javascript', "[x](javascript:alert(1))"),
    ('<img src=x onerror="alert(1)">', "Ana", "<img", "&lt;img"),
    ("![i](https://img.example.org/a.png)", "Ana", "onerror", '<img src="https://img.example.org/a.png"'),
    ("[site](https://example.org)", "Ana", "javascript", 'rel="noopener noreferrer nofollow"'),
    ("Hi {first_name}", "<b onmouseover=x>Ana</b>", "<b ", "&lt;b onmouseover=x&gt;Ana&lt;/b&gt;"),
    ("Hi **{first_name}**", "](javascript:x)", "href", "<strong>](javascript:x)</strong>"),
    ("<a href='data:text/html,x'>x</a>", "Ana", "<a href", "&lt;a href="),
])  # fmt: skip
def test_bodies_are_sanitised_and_variables_escaped(
    body: str, name: str, absent: str, present: str
) -> None:
    html = to_html(body, {"first_name": name})
    assert absent not in html
    assert present in html
