"""The plan editor's form (or its pasted TOML) read into a plan as ``plans.store`` takes it.

Pure: no Flask, no database. Every refusal is a ``PlanError`` with a sentence naming the row.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from typing import Any

from lti_tool.mentoring.library import answers_from_lines
from lti_tool.mentoring.plans import PlanError

#: How many step rows the form offers.
ROWS = 5
#: The kinds a form row can make (surveys and sessions need the TOML).
KINDS = ("welcome", "tip", "question", "resource", "announcement")
#: The verbs a form rule can wait for, as offered; "" is any verb.
VERBS = {
    "http://adlnet.gov/expapi/verbs/completed": "completed",
    "http://adlnet.gov/expapi/verbs/passed": "passed",
    "http://adlnet.gov/expapi/verbs/failed": "failed",
    "http://adlnet.gov/expapi/verbs/answered": "answered",
    "": "any verb",
}
#: How a plan made with the form starts.
STARTS = {"event": "when a learning event matches", "joined": "when a learner joins the course",
          "none": "only when started by hand (no rule)"}  # fmt: skip
_FIELDS = ("key", "offset", "title", "body", "answers", "url")


def from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The plan the form describes: name, topic (an id from the select, or none), the rows
    filled in, and one rule."""
    plan: dict[str, Any] = {"name": form.get("name", "").strip()}
    if topic := form.get("topic", "").strip():
        if not topic.isdigit():
            raise PlanError("Pick the topic from the list.")
        plan["topic"] = int(topic)
    plan["steps"] = [step for row in range(ROWS) if (step := _step(form, row)) is not None]
    if not plan["steps"]:
        raise PlanError("Fill in at least one step: a title, and an offset in days.")
    plan["rules"] = _rules(form)
    return plan


def _step(form: Mapping[str, str], row: int) -> dict[str, Any] | None:
    value = {name: form.get(f"step-{row}-{name}", "").strip() for name in _FIELDS}
    branch_only = form.get(f"step-{row}-branch") == "on"
    if not any(value.values()) and not branch_only:
        return None  # an empty row
    where = f"Step {row + 1}"
    kind = form.get(f"step-{row}-kind", "tip")
    if kind not in KINDS:
        raise PlanError(f"{where}: pick the kind from the list.")
    if not value["title"]:
        raise PlanError(f"{where}: give the message a title.")
    step: dict[str, Any] = {"key": value["key"] or f"step-{row + 1}"}
    if branch_only and value["offset"]:
        raise PlanError(f"{where}: give an offset in days or tick “only by a branch”, not both.")
    if not branch_only:
        step["offset_days"] = _days(where, value["offset"])
    message: dict[str, Any] = {"kind": kind, "title": value["title"], "body": value["body"]}
    if kind == "question":
        message["choices"] = answers_from_lines(where, value["answers"])
    elif value["answers"]:
        raise PlanError(f"{where}: only a question has answers; clear them or make it a question.")
    if kind == "resource":
        message["details"] = {"url": value["url"]}
    elif value["url"]:
        raise PlanError(f"{where}: only a resource links to an address; clear it or make it a "
                        "resource.")  # fmt: skip
    step["message"] = message
    return step


def _days(where: str, text: str) -> float:
    if not text:
        raise PlanError(f"{where}: give an offset in days (0 sends it when the plan starts), "
                        "or tick “only by a branch”.")  # fmt: skip
    days = _number(text)
    if days is None or not 0 <= days <= 3650:
        raise PlanError(f"{where}: the offset is a number of days from 0 to 3650, not “{text}”.")
    return days


def _number(text: str) -> float | None:
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _rules(form: Mapping[str, str]) -> list[dict[str, Any]]:
    start = form.get("start", "event")
    if start not in STARTS:
        raise PlanError("Say how the plan starts: pick one of the choices.")
    if start == "none":
        return []
    if start == "joined":
        return [{"kind": "joined"}]
    verb = form.get("verb", "")
    if verb not in VERBS:
        raise PlanError("Pick the verb from the list.")
    rule: dict[str, Any] = {"kind": "event", "verb": verb or None}
    if form.get("completion") == "on":
        rule["completion"] = True
    if score := form.get("score_min", "").strip():
        number = _number(score)
        if number is None or not 0 <= number <= 1:
            raise PlanError(f"The lowest score is a number from 0 to 1 (0.8 is 80 %), "
                            f"not “{score}”.")  # fmt: skip
        rule["score_min"] = number
    return [rule]


def from_toml(text: str) -> dict[str, Any]:
    """A plan pasted as TOML (``docs/examples/plan.toml``)."""
    if not text.strip():
        raise PlanError("Paste a plan written in TOML, such as docs/examples/plan.toml.")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlanError(f"The TOML cannot be read: {error}.") from None
