"""Follow-up plans written as data (the CLI's TOML or JSON, the demo, tests): a sequence with
its messages, steps and branches, and the rules that trigger it, stored in one go.

```toml
name = "Active listening"
topic = "Active listening"    # a topic of the platform, by name or id; or omitted
[[steps]]
key = "tip"
offset_days = 1                # or offset_seconds; neither: sent only by a branch
message = { kind = "tip", title = "A tip", body = "Hi {first_name}…" }
[steps.branches]
not_yet = [{ do = "send", step = "resource" }, { do = "repeat", after_days = 7 }]
[[rules]]
kind = "event"
verb = "http://adlnet.gov/expapi/verbs/completed"
completion = true              # topic defaults to the plan's
```
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import AppError
from lti_tool.i18n import _
from lti_tool.mentoring import meetings, surveys
from lti_tool.mentoring.models import (
    Message,
    MessageKind,
    RuleAction,
    Sequence,
    Step,
    TriggerKind,
    TriggerRule,
)
from lti_tool.topics.models import Topic

DAY = 86400
_ACTIONS = {"send", "repeat", "escalate", "stop"}
_RULE_FIELDS = ("verb", "activity_id", "completion", "success", "score_min", "inactive_days")


class PlanError(AppError):
    """The plan cannot be stored as written; the message says where."""


def store(
    session: Session, registration_id: int, plan: dict[str, Any], course_id: int | None = None,
    *, purpose: str = "plan",
) -> tuple[Sequence, list[TriggerRule]]:  # fmt: skip
    """Store the plan's sequence, messages, steps and (switched off) rules; ``purpose`` says
    what it is for (``Sequence.purpose``)."""
    topic_id = _topic(session, registration_id, plan.get("topic"))
    _uses_topic_only_with_one(plan, topic_id)
    sequence = Sequence(registration_id=registration_id, course_id=course_id,
                        topic_id=topic_id, name=str(plan.get("name") or "Follow-up"),
                        purpose=purpose)  # fmt: skip
    session.add(sequence)
    session.flush()
    steps = plan.get("steps") or []
    if not steps:
        raise PlanError(_("A plan needs at least one step."))
    keys = {str(step.get("key")) for step in steps}
    for number, step in enumerate(steps, 1):
        session.add(_step(session, registration_id, sequence, step, keys=keys, number=number))
    rules = [_rule(registration_id, course_id, sequence, topic_id, rule)
             for rule in plan.get("rules") or []]  # fmt: skip
    session.add_all(rules)
    session.flush()
    return sequence, rules


def _topic(session: Session, registration_id: int, given: Any) -> int | None:
    """The plan's topic: an id or a name, of this platform's topics."""
    if given is None or given == "":
        return None
    if isinstance(given, int) and not isinstance(given, bool):
        topic = session.get(Topic, given)
        if topic is None or topic.registration_id != registration_id:
            raise PlanError(_("There is no topic #%(id)s on this platform.", id=given))
        return topic.id
    found = session.scalar(
        select(Topic.id).where(Topic.registration_id == registration_id, Topic.name == str(given))
    )
    if found is None:
        raise PlanError(_(
            "There is no topic “%(name)s” on this platform: add it first "
            "(flask --app wsgi topics add), or leave the plan's topic out.", name=given,
        ))  # fmt: skip
    return int(found)


def _uses_topic_only_with_one(plan: dict[str, Any], topic_id: int | None) -> None:
    """A message that says {topic} needs the plan to name one (else it would read "Have you
    applied ?")."""
    if topic_id is not None:
        return
    for number, step in enumerate(plan.get("steps") or [], 1):
        message = step.get("message") or {}
        if any("{topic}" in str(message.get(part) or "") for part in ("title", "body")):
            raise PlanError(_(
                'Step %(number)s says {topic}, but the plan names no topic: add topic = "…" '
                "(a topic of this platform) or reword the step.", number=number,
            ))  # fmt: skip


def _step(
    session: Session, registration_id: int, sequence: Sequence, step: dict[str, Any], *,
    keys: set[str], number: int,
) -> Step:  # fmt: skip
    where = _("Step %(number)s", number=number)
    spec = step.get("message") or {}
    try:
        kind = MessageKind(spec.get("kind", "tip"))
    except ValueError:
        raise PlanError(_("%(where)s: kind must be one of %(kinds)s.", where=where,
                          kinds=", ".join(MessageKind))) from None  # fmt: skip
    details = dict(spec.get("details") or {})
    if kind == MessageKind.RESOURCE and not _web_address(url := details.get("url")):
        if url in (None, ""):
            raise PlanError(_("%(where)s: a resource needs details.url, the web address "
                              "(https:// or http://) it links to.", where=where))  # fmt: skip
        raise PlanError(_("%(where)s: a resource's details.url must be a web address starting "
                          "with https:// or http://, not %(url)r.", where=where,
                          url=url))  # fmt: skip
    choices, details = _kind_parts(where, kind, {**spec, "details": details})
    message = Message(
        registration_id=registration_id, kind=kind, topic_id=sequence.topic_id,
        title=str(spec.get("title") or kind.value.capitalize()), body=str(spec.get("body", "")),
        choices=choices, details=details,
    )  # fmt: skip
    session.add(message)
    session.flush()
    offset = step.get("offset_seconds")
    if offset is None and step.get("offset_days") is not None:
        offset = int(float(step["offset_days"]) * DAY)
    return Step(sequence_id=sequence.id, key=str(step.get("key") or f"step-{number}"),
                message_id=message.id, offset_seconds=offset,
                branches=_branches(where, step.get("branches") or {}, keys))  # fmt: skip


def _kind_parts(
    where: str, kind: MessageKind, spec: dict[str, Any]
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """A message's answers and details as its kind needs them, checked: a survey's items,
    a session's time and place (its answers are the RSVP's)."""
    choices, details = list(spec.get("choices") or []), dict(spec.get("details") or {})
    try:
        if kind == MessageKind.SURVEY:
            details["items"] = surveys.check(where, details)
            return [], details
        if kind == MessageKind.SESSION:
            return list(meetings.RSVP_CHOICES), meetings.check(where, details)
    except (surveys.SurveyWritten, meetings.SessionWritten) as error:
        raise PlanError(error.message) from None
    if kind == MessageKind.QUESTION and not choices:
        raise PlanError(_("%(where)s: a question offers its answers as choices "
                          '([{ key = "yes", label = "Yes" }, …]).', where=where))  # fmt: skip
    return choices, details


def _branches(where: str, branches: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    cleaned: dict[str, list[dict[str, Any]]] = {}
    for answer, actions in branches.items():
        cleaned[answer] = []
        for action in actions:
            what = action.get("do")
            if what not in _ACTIONS:
                raise PlanError(_("%(where)s: a branch must do one of %(actions)s.", where=where,
                                  actions=", ".join(sorted(_ACTIONS))))  # fmt: skip
            if what == "send" and action.get("step") not in keys:
                raise PlanError(_("%(where)s: a branch sends step “%(step)s”, which the plan "
                                  "does not have.", where=where,
                                  step=action.get("step")))  # fmt: skip
            seconds = action.get("after_seconds")
            if seconds is None:
                seconds = int(float(action.get("after_days", 0)) * DAY)
            cleaned[answer].append({
                **{k: v for k, v in action.items() if k != "after_days"},
                "after_seconds": int(seconds),
            })  # fmt: skip
    return cleaned


def _rule(
    registration_id: int, course_id: int | None, sequence: Sequence, topic_id: int | None,
    rule: dict[str, Any],
) -> TriggerRule:  # fmt: skip
    try:
        kind = TriggerKind(rule.get("kind", "event"))
        action = RuleAction(rule.get("action", "start"))
    except ValueError as error:
        raise PlanError(_("A rule is not understood: %(error)s.", error=error)) from None
    fields = {name: rule.get(name) for name in _RULE_FIELDS}
    topic = rule.get("topic", topic_id if not fields["activity_id"] else None)
    if kind == TriggerKind.INACTIVE and (topic is None or not _positive(fields["inactive_days"])):
        raise PlanError(_("An inactivity rule needs a topic and inactive_days (a whole number "
                          "of days, at least 1)."))  # fmt: skip
    return TriggerRule(
        registration_id=registration_id, course_id=course_id, sequence_id=sequence.id,
        name=str(rule.get("name") or sequence.name), kind=kind, action=action,
        topic_id=topic, **fields,
    )  # fmt: skip


def _web_address(url: Any) -> bool:
    """Whether ``url`` is an http(s) address with a host (what the panel links to)."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return False
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:  # a malformed IPv6 address
        return False


def _positive(days: Any) -> bool:
    return isinstance(days, int) and not isinstance(days, bool) and days >= 1
