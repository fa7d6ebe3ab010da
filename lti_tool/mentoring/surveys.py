"""Surveys: a message with several items (a Likert scale, one choice among several, free
text), answered as a whole and recorded once, like a question's answer.

A survey message keeps its items in ``details["items"]``::

    [{"key": "useful", "kind": "likert", "prompt": "The course was useful", "scale": 5},
     {"key": "format", "kind": "choice", "prompt": "Next time I prefer",
      "choices": [{"key": "webinar", "label": "A webinar"}, {"key": "visit", "label": "A visit"}]},
     {"key": "more", "kind": "text", "prompt": "Anything else?"}]

Likert and choice items must be answered; a text item is optional unless ``required``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import AppError
from lti_tool.i18n import _
from lti_tool.mentoring.models import Delivery, Message, Response

KINDS = ("likert", "choice", "text")
#: The words of the usual five-point agreement scale.
AGREEMENT = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
             "Strongly agree")  # fmt: skip
#: The longest free-text answer kept.
TEXT_LIMIT = 4000
_KEY = re.compile(r"^[a-z0-9_-]{1,64}$")


class SurveyWritten(AppError):
    """A survey's items, as a mentor wrote them, cannot be used; the message says which."""


class IncompleteSurvey(AppError):
    """A learner's answers leave an item out or answer it with something it does not offer."""

    title = "Please check your answers"


@dataclass(frozen=True)
class Item:
    """One item of a survey."""

    key: str
    kind: str
    prompt: str
    #: A choice item's (key, label) pairs; a Likert item's points ("1".."5", with labels).
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True


def check(where: str, details: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The survey's items as stored, checked and filled in (Likert labels), or
    ``SurveyWritten`` naming the first item that is wrong."""
    written = details.get("items")
    if not isinstance(written, list) or not written:
        raise SurveyWritten(_("%(where)s: a survey needs a list of items (likert, choice or text).",
                              where=where))  # fmt: skip
    items: list[dict[str, Any]] = []
    for number, item in enumerate(written, 1):
        at = _("%(where)s, survey item %(number)s", where=where, number=number)
        if not isinstance(item, Mapping):
            raise SurveyWritten(_("%(where)s: an item is a table with key, kind and prompt.",
                                  where=at))  # fmt: skip
        key, kind, prompt = str(item.get("key", "")), item.get("kind"), item.get("prompt")
        if not _KEY.match(key) or key in {i["key"] for i in items}:
            raise SurveyWritten(_("%(where)s: key must be unique, 1 to 64 characters of a to z, "
                                  "0 to 9, _ or -.", where=at))  # fmt: skip
        if kind not in KINDS:
            raise SurveyWritten(_("%(where)s: kind must be one of %(kinds)s.", where=at,
                                  kinds=", ".join(KINDS)))  # fmt: skip
        if not isinstance(prompt, str) or not prompt.strip():
            raise SurveyWritten(_("%(where)s: the item needs a prompt (the question it asks).",
                                  where=at))  # fmt: skip
        stored: dict[str, Any] = {"key": key, "kind": kind, "prompt": prompt.strip()}
        if kind == "likert":
            stored["labels"] = _likert_labels(at, item)
        elif kind == "choice":
            stored["choices"] = _choices(at, item.get("choices"))
        stored["required"] = bool(item.get("required", kind != "text"))
        items.append(stored)
    return items


def _likert_labels(at: str, item: Mapping[str, Any]) -> list[str]:
    labels = item.get("labels")
    if labels is None:
        scale = item.get("scale", 5)
        if not isinstance(scale, int) or isinstance(scale, bool) or not 2 <= scale <= 10:
            raise SurveyWritten(_("%(where)s: a Likert scale has 2 to 10 points.", where=at))
        return list(AGREEMENT) if scale == 5 else [str(n) for n in range(1, scale + 1)]
    if (not isinstance(labels, list) or not 2 <= len(labels) <= 10
            or not all(isinstance(label, str) and label.strip() for label in labels)):  # fmt: skip
        raise SurveyWritten(_("%(where)s: a Likert item's labels are 2 to 10 words, lowest "
                              "first.", where=at))  # fmt: skip
    return [label.strip() for label in labels]


def _choices(at: str, choices: Any) -> list[dict[str, str]]:
    if not isinstance(choices, list) or len(choices) < 2:
        raise SurveyWritten(_("%(where)s: a choice item offers at least two choices.", where=at))
    found: list[dict[str, str]] = []
    for choice in choices:
        key = str(choice.get("key", "")) if isinstance(choice, Mapping) else ""
        label = str(choice.get("label", "")).strip() if isinstance(choice, Mapping) else ""
        if not _KEY.match(key) or not label or key in {c["key"] for c in found}:
            raise SurveyWritten(_("%(where)s: each choice needs a unique key (a to z, 0 to 9, _ "
                                  "or -) and a label.", where=at))  # fmt: skip
        found.append({"key": key, "label": label})
    return found


def items_of(details: Mapping[str, Any]) -> list[Item]:
    """A stored survey's items."""
    found = []
    for item in details.get("items") or []:
        if item.get("kind") == "likert":
            labels = item.get("labels") or AGREEMENT
            choices = tuple((str(n), str(label)) for n, label in enumerate(labels, 1))
        else:
            choices = tuple((c["key"], c["label"]) for c in item.get("choices") or [])
        found.append(Item(item["key"], item["kind"], item["prompt"], choices,
                          bool(item.get("required", item["kind"] != "text"))))  # fmt: skip
    return found


def read(items: Sequence[Item], form: Mapping[str, str]) -> dict[str, Any]:
    """The learner's answers from a form (``item-<key>`` fields): a Likert point as a number,
    a choice's key, a text; ``IncompleteSurvey`` naming the first item left out or answered
    with something it does not offer."""
    answers: dict[str, Any] = {}
    for item in items:
        given = (form.get(f"item-{item.key}") or "").strip()
        if not given:
            if item.required:
                raise IncompleteSurvey(_("Please answer “%(prompt)s”.", prompt=item.prompt))
            continue
        if item.kind == "text":
            if len(given) > TEXT_LIMIT:
                raise IncompleteSurvey(_(
                    "Your answer to “%(prompt)s” is longer than %(limit)s characters.",
                    prompt=item.prompt, limit=TEXT_LIMIT,
                ))  # fmt: skip
            answers[item.key] = given
        elif given in {key for key, _label in item.choices}:
            answers[item.key] = int(given) if item.kind == "likert" else given
        else:
            raise IncompleteSurvey(_("“%(given)s” is not one of the answers to “%(prompt)s”.",
                                     given=given, prompt=item.prompt))  # fmt: skip
    return answers


def summary(items: Sequence[Item], answers: Mapping[str, Any]) -> str:
    """The answers as one line a person (or an LRS) reads: ``Useful: 4 of 5 (Agree); …``."""
    parts = []
    for item in items:
        if item.key not in answers:
            continue
        value = answers[item.key]
        labels = dict(item.choices)
        if item.kind == "likert":
            shown = f"{value} of {len(item.choices)} ({labels.get(str(value), '')})"
        elif item.kind == "choice":
            shown = labels.get(str(value), str(value))
        else:
            shown = str(value)
        parts.append(f"{item.prompt}: {shown}")
    return "; ".join(parts)


def tally(items: Sequence[Item], given: Iterable[Mapping[str, Any]]) -> dict[str, Counter[str]]:
    """How many answered each Likert or choice item each way: counts per answer key, every
    key offered present (zero if nobody chose it)."""
    counts = {item.key: Counter({key: 0 for key, _label in item.choices})
              for item in items if item.kind != "text"}  # fmt: skip
    for answers in given:
        for key, counter in counts.items():
            if key in (answers or {}):
                counter[str(answers[key])] += 1
    return counts


def distribution(session: Session, message_id: int) -> dict[str, Counter[str]]:
    """How learners answered each Likert or choice item of a survey (``tally`` over every
    response to the message)."""
    message = session.get(Message, message_id)
    if message is None:
        return {}
    stored = session.scalars(
        select(Response.answers)
        .join(Delivery, Delivery.id == Response.delivery_id)
        .where(Delivery.message_id == message_id)
    )
    return tally(items_of(message.details or {}), stored)
