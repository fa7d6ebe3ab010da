"""The plans a course can use (its own and the organisation's library), found within the
tenant, checked before they are stored, copied from the library into a course, and edited
message by message."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.courses import freshness
from lti_tool.errors import NotFound
from lti_tool.i18n import _
from lti_tool.mentoring import plans
from lti_tool.mentoring.models import Delivery, Message, MessageKind, Sequence, Step, TriggerRule
from lti_tool.mentoring.plans import PlanError
from lti_tool.topics.models import Topic

#: An answer's key, as branches and answer links name it.
ANSWER_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COPIED_RULE = ("name", "kind", "action", "verb", "topic_id", "activity_id", "completion",
                "success", "score_min", "inactive_days")  # fmt: skip


def usable_sequences(session: Session, registration_id: int, course_id: int) -> list[Sequence]:
    """The course's own follow-up plans, then the library's (no course), oldest first (not
    the session invitations and reminders the Sessions page makes)."""
    return list(session.scalars(
        select(Sequence)
        .where(Sequence.registration_id == registration_id, Sequence.purpose == "plan",
               or_(Sequence.course_id == course_id, Sequence.course_id.is_(None)))
        .order_by(Sequence.course_id.is_(None), Sequence.id)
    ))  # fmt: skip


def usable_topics(session: Session, registration_id: int, course_id: int) -> list[Topic]:
    """The topics a plan of the course may follow up: the course's and the library's."""
    return list(session.scalars(
        select(Topic)
        .where(Topic.registration_id == registration_id,
               or_(Topic.course_id == course_id, Topic.course_id.is_(None)))
        .order_by(Topic.name, Topic.id)
    ))  # fmt: skip


def find_sequence(
    session: Session, registration_id: int, course_id: int, sequence_id: int
) -> Sequence:
    """The sequence, if the course may use it; else not found (whoever else's it is)."""
    sequence = session.get(Sequence, sequence_id)
    if (sequence is None or sequence.registration_id != registration_id
            or sequence.course_id not in (None, course_id)):  # fmt: skip
        raise NotFound(_("There is no such plan in this course or its organisation's library."))
    return sequence


def find_rule(session: Session, registration_id: int, course_id: int, rule_id: int) -> TriggerRule:
    """The rule, if its sequence is usable in the course and it acts in the course (or in
    every course); else not found."""
    rule = session.get(TriggerRule, rule_id)
    if rule is None or rule.course_id not in (None, course_id):
        raise NotFound(_("There is no such rule in this course."))
    find_sequence(session, registration_id, course_id, rule.sequence_id)
    return rule


def steps_of(session: Session, sequence_ids: list[int]) -> dict[int, list[tuple[Step, Message]]]:
    """Each sequence's steps with their messages: by offset, then those sent only by a branch."""
    rows = session.execute(
        select(Step, Message).join(Message, Message.id == Step.message_id)
        .where(Step.sequence_id.in_(sequence_ids))
        .order_by(Step.offset_seconds.is_(None), Step.offset_seconds, Step.id)
    ).all()  # fmt: skip
    found: dict[int, list[tuple[Step, Message]]] = {id_: [] for id_ in sequence_ids}
    for step, message in rows:
        found[step.sequence_id].append((step, message))
    return found


def rules_of(
    session: Session, sequence_ids: list[int], course_id: int
) -> dict[int, list[TriggerRule]]:
    """Each sequence's rules that act in the course (its own or every course's)."""
    found: dict[int, list[TriggerRule]] = {id_: [] for id_ in sequence_ids}
    for rule in session.scalars(
        select(TriggerRule)
        .where(TriggerRule.sequence_id.in_(sequence_ids),
               or_(TriggerRule.course_id == course_id, TriggerRule.course_id.is_(None)))
        .order_by(TriggerRule.id)
    ):  # fmt: skip
        found[rule.sequence_id].append(rule)
    return found


def store_plan(
    session: Session, registration_id: int, course_id: int, plan: dict[str, Any], *,
    share: bool = False,
) -> Sequence:  # fmt: skip
    """Check the plan as people write it (shape, lengths, keys, topics within reach), then
    store it in the course, or in the library when ``share``; nothing stored if refused
    (the caller rolls back on ``PlanError``)."""
    _check_shape(plan)
    topics = {topic.id: topic for topic in usable_topics(session, registration_id, course_id)}
    wanted = [plan.get("topic"), *(rule.get("topic") for rule in plan.get("rules") or [])]
    by_name = {topic.name: topic for topic in topics.values()}
    for topic_id in filter(None, wanted):
        topic = topics.get(topic_id) if isinstance(topic_id, int) else by_name.get(str(topic_id))
        if topic is None:
            raise PlanError(
                _("There is no topic %(id)s in this course or its library.", id=topic_id)
            )
        if share and topic.course_id is not None:
            raise PlanError(_("A plan shared with all courses cannot follow “%(topic)s”, a "
                              "topic of this course only; pick a library topic or none.",
                              topic=topic.name))  # fmt: skip
    try:
        sequence, _rules = plans.store(session, registration_id, plan,
                                       course_id=None if share else course_id)  # fmt: skip
    except (TypeError, ValueError) as error:  # e.g. offset_days = "soon" in pasted TOML
        raise PlanError(
            _("The plan has a value of the wrong type: %(error)s.", error=error)
        ) from None
    return sequence


def _check_shape(plan: dict[str, Any]) -> None:
    name = str(plan.get("name") or "")
    if not name.strip() or len(name) > 255:
        raise PlanError(_("A plan needs a name of 1 to 255 characters."))
    steps, rules = plan.get("steps") or [], plan.get("rules") or []
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise PlanError(_("The plan's steps must be a list of tables ([[steps]])."))
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise PlanError(_("The plan's rules must be a list of tables ([[rules]])."))
    keys: set[str] = set()
    for number, step in enumerate(steps, 1):
        key = str(step.get("key") or f"step-{number}")
        message = step.get("message") or {}
        if not isinstance(message, dict):
            raise PlanError(_("Step %(number)s: its message must be a table.", number=number))
        if key in keys or len(key) > 64:
            raise PlanError(_("Step %(number)s: each step needs its own key of at most 64 "
                              "characters; “%(key)s” is used twice or too long.", number=number,
                              key=key[:64]))  # fmt: skip
        if len(str(message.get("title") or "")) > 255:
            raise PlanError(
                _("Step %(number)s: a title can be at most 255 characters long.", number=number)
            )
        keys.add(key)


def copy_sequence(session: Session, source: Sequence, course_id: int) -> Sequence:
    """A copy of a (library) sequence in the course: its messages, steps and rules, the
    rules switched off and acting in this course only."""
    copy = Sequence(registration_id=source.registration_id, course_id=course_id,
                    topic_id=source.topic_id, name=source.name)  # fmt: skip
    session.add(copy)
    session.flush()
    for step, message in steps_of(session, [source.id])[source.id]:
        twin = Message(registration_id=message.registration_id, kind=message.kind,
                       topic_id=message.topic_id, title=message.title, body=message.body,
                       choices=list(message.choices or []),
                       details=dict(message.details or {}))  # fmt: skip
        session.add(twin)
        session.flush()
        session.add(Step(sequence_id=copy.id, key=step.key, message_id=twin.id,
                         offset_seconds=step.offset_seconds,
                         branches=dict(step.branches or {})))  # fmt: skip
    for rule in rules_of(session, [source.id], course_id)[source.id]:
        fields = {name: getattr(rule, name) for name in _COPIED_RULE}
        session.add(TriggerRule(registration_id=rule.registration_id, course_id=course_id,
                                sequence_id=copy.id, **fields))  # fmt: skip
    session.flush()
    return copy


def answers_from_lines(where: str, text: str) -> list[dict[str, str]]:
    """A question's answers written one per line as ``key: label``."""
    choices: list[dict[str, str]] = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        key, colon, label = (part.strip() for part in line.partition(":"))
        if not colon or not ANSWER_KEY.fullmatch(key) or not label:
            raise PlanError(_("%(where)s: write each answer on its own line as “key: label”, "
                              "e.g. “not_yet: Not yet” (a key is letters, digits, - or _); "
                              "“%(line)s” is not.", where=where, line=line[:80]))  # fmt: skip
        if any(choice["key"] == key for choice in choices):
            raise PlanError(_("%(where)s: the answer key “%(key)s” is used twice.", where=where,
                              key=key))  # fmt: skip
        choices.append({"key": key, "label": label[:255]})
    return choices


def update_message(
    session: Session, step: Step, message: Message, title: str, body: str, *,
    answers: str | None,
) -> None:  # fmt: skip
    """Change a step's message: its title, body and, for a question, its answers (keeping
    every answer the step's branches act on)."""
    where = _("Step “%(key)s”", key=step.key)
    title = title.strip()
    if not title or len(title) > 255:
        raise PlanError(_("%(where)s: a title needs 1 to 255 characters.", where=where))
    if message.kind == MessageKind.QUESTION and answers is not None:
        choices = answers_from_lines(where, answers)
        if not choices:
            raise PlanError(_("%(where)s: a question needs at least one answer.", where=where))
        kept = {choice["key"] for choice in choices}
        for key in step.branches or {}:
            if key not in kept:
                raise PlanError(_("%(where)s: its branches act on the answer “%(key)s”; keep it.",
                                  where=where, key=key))  # fmt: skip
        message.choices = choices
    message.title, message.body = title, body
    session.flush()
    sent_in = select(Delivery.course_id).where(Delivery.message_id == message.id).distinct()
    freshness.courses_changed(session, session.scalars(sent_in))  # panels show it as it is now
