"""Rule matching, over rules and events nobody wrote by hand (hypothesis): the index finds
exactly the rules a plain reading of each rule finds, each once, in id order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from lti_tool.events.handoff import HandedEvent
from lti_tool.mentoring.matching import RuleIndex, RuleSpec

START = datetime(2026, 11, 1, tzinfo=UTC)
VERBS = ["http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed",
         "https://w3id.org/xapi/tla/verbs/scored"]  # fmt: skip
ACTIVITIES = ["https://moodle.example.org/mod/quiz/view.php?id=17",
              "https://moodle.example.org/mod/page/view.php?id=3"]  # fmt: skip
MOMENTS = st.builds(lambda days: START + timedelta(days=days), st.integers(0, 30))
MAYBE_BOOL = st.none() | st.booleans()
SCORE = st.floats(-1, 1, allow_nan=False)


EVENTS = st.builds(
    HandedEvent, id=st.just(1), registration_id=st.integers(1, 2),
    course_id=st.none() | st.integers(1, 3), person_id=st.just(1),
    topic_id=st.none() | st.integers(1, 3), verb=st.sampled_from(VERBS),
    activity_id=st.sampled_from(ACTIVITIES), completion=MAYBE_BOOL, success=MAYBE_BOOL,
    score_scaled=st.none() | SCORE, occurred_at=MOMENTS, source=st.just("test"),
)  # fmt: skip


@st.composite
def rules(draw: st.DrawFn) -> list[RuleSpec]:
    """Up to 12 switched-on rules with distinct ids, each naming any mix of conditions."""
    ids = draw(st.lists(st.integers(1, 1000), unique=True, max_size=12))
    return [
        RuleSpec(
            id=rule_id,
            registration_id=draw(st.integers(1, 2)),
            sequence_id=1,
            switched_on_at=draw(MOMENTS),
            course_id=draw(st.none() | st.integers(1, 3)),
            verb=draw(st.none() | st.sampled_from(VERBS)),
            topic_id=draw(st.none() | st.integers(1, 3)),
            activity_id=draw(st.none() | st.sampled_from(ACTIVITIES)),
            completion=draw(MAYBE_BOOL),
            success=draw(MAYBE_BOOL),
            score_min=draw(st.none() | SCORE),
        )
        for rule_id in ids
    ]


def fits(rule: RuleSpec, event: HandedEvent, backfill: bool) -> bool:
    """A rule, read plainly: every condition it names holds (a topic, when named, stands for
    the activities filed under it, so the rule's own activity then plays no part)."""
    if rule.topic_id is not None:
        what = event.topic_id == rule.topic_id
    else:
        what = rule.activity_id is None or event.activity_id == rule.activity_id
    return (
        rule.registration_id == event.registration_id
        and (rule.verb is None or rule.verb == event.verb)
        and what
        and (rule.course_id is None or rule.course_id == event.course_id)
        and (backfill or event.occurred_at >= rule.switched_on_at)
        and (rule.completion is None or rule.completion is event.completion)
        and (rule.success is None or rule.success is event.success)
        and (rule.score_min is None
             or (event.score_scaled is not None and event.score_scaled >= rule.score_min))
    )  # fmt: skip


@given(rules(), st.lists(EVENTS, min_size=1, max_size=8), st.booleans())
def test_the_index_finds_exactly_the_rules_each_event_fits_once_in_id_order(
    specs: list[RuleSpec], events: list[HandedEvent], backfill: bool
) -> None:
    index = RuleIndex(specs)
    assert len(index) == len(specs)
    for event in events:
        found = index.match(event, backfill=backfill)
        expected = sorted((r for r in specs if fits(r, event, backfill)), key=lambda r: r.id)
        assert [r.id for r in found] == [r.id for r in expected]
