"""The plan editor's form (or its pasted TOML) read into a plan as ``plans.store`` takes it.

Pure: no request, no database (its words are gettext's: English outside a request). Every
refusal is a ``PlanError`` with a sentence naming the row.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from typing import Any

from lti_tool.i18n import _, lazy_gettext
from lti_tool.mentoring.library import answers_from_lines
from lti_tool.mentoring.plans import PlanError

#: How many step rows the form offers.
ROWS = 5
#: The kinds a form row can make (surveys and sessions need the TOML).
KINDS = ("welcome", "tip", "question", "resource", "announcement")
#: The verbs a form rule can wait for, as offered; "" is any verb.
VERBS = {
    "http://adlnet.gov/expapi/verbs/completed": lazy_gettext("completed"),
    "http://adlnet.gov/expapi/verbs/passed": lazy_gettext("passed"),
    "http://adlnet.gov/expapi/verbs/failed": lazy_gettext("failed"),
    "http://adlnet.gov/expapi/verbs/answered": lazy_gettext("answered"),
    "": lazy_gettext("any verb"),
}
#: How a plan made with the form starts.
STARTS = {"event": lazy_gettext("when a learning event matches"),
          "joined": lazy_gettext("when a learner joins the course"),
          "none": lazy_gettext("only when started by hand (no rule)")}  # fmt: skip
_FIELDS = ("key", "offset", "title", "body", "answers", "url")


def from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The plan the form describes: name, topic (an id from the select, or none), the rows
    filled in, and one rule."""
    plan: dict[str, Any] = {"name": form.get("name", "").strip()}
    if topic := form.get("topic", "").strip():
        if not topic.isdigit():
            raise PlanError(_("Pick the topic from the list."))
        plan["topic"] = int(topic)
    plan["steps"] = [step for row in range(ROWS) if (step := _step(form, row)) is not None]
    if not plan["steps"]:
        raise PlanError(_("Fill in at least one step: a title, and an offset in days."))
    plan["rules"] = _rules(form)
    return plan


def _step(form: Mapping[str, str], row: int) -> dict[str, Any] | None:
    value = {name: form.get(f"step-{row}-{name}", "").strip() for name in _FIELDS}
    branch_only = form.get(f"step-{row}-branch") == "on"
    if not any(value.values()) and not branch_only:
        return None  # an empty row
    where = _("Step %(number)s", number=row + 1)
    kind = form.get(f"step-{row}-kind", "tip")
    if kind not in KINDS:
        raise PlanError(_("%(where)s: pick the kind from the list.", where=where))
    if not value["title"]:
        raise PlanError(_("%(where)s: give the message a title.", where=where))
    step: dict[str, Any] = {"key": value["key"] or f"step-{row + 1}"}
    if branch_only and value["offset"]:
        raise PlanError(_("%(where)s: give an offset in days or tick “only by a branch”, not both.",
                           where=where))  # fmt: skip
    if not branch_only:
        step["offset_days"] = _days(where, value["offset"])
    message: dict[str, Any] = {"kind": kind, "title": value["title"], "body": value["body"]}
    if kind == "question":
        message["choices"] = answers_from_lines(where, value["answers"])
    elif value["answers"]:
        raise PlanError(_("%(where)s: only a question has answers; clear them or make it a "
                           "question.", where=where))  # fmt: skip
    if kind == "resource":
        message["details"] = {"url": value["url"]}
    elif value["url"]:
        raise PlanError(_("%(where)s: only a resource links to an address; clear it or make "
                          "it a resource.", where=where))  # fmt: skip
    step["message"] = message
    return step


def _days(where: str, text: str) -> float:
    if not text:
        raise PlanError(_("%(where)s: give an offset in days (0 sends it when the plan "
                          "starts), or tick “only by a branch”.", where=where))  # fmt: skip
    days = _number(text)
    if days is None or not 0 <= days <= 3650:
        raise PlanError(_("%(where)s: the offset is a number of days from 0 to 3650, not "
                          "“%(text)s”.", where=where, text=text))  # fmt: skip
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
        raise PlanError(_("Say how the plan starts: pick one of the choices."))
    if start == "none":
        return []
    if start == "joined":
        return [{"kind": "joined"}]
    verb = form.get("verb", "")
    if verb not in VERBS:
        raise PlanError(_("Pick the verb from the list."))
    rule: dict[str, Any] = {"kind": "event", "verb": verb or None}
    if form.get("completion") == "on":
        rule["completion"] = True
    if score := form.get("score_min", "").strip():
        number = _number(score)
        if number is None or not 0 <= number <= 1:
            raise PlanError(_("The lowest score is a number from 0 to 1 (0.8 is 80 %%), "
                              "not “%(score)s”.", score=score))  # fmt: skip
        rule["score_min"] = number
    return [rule]


def from_toml(text: str) -> dict[str, Any]:
    """A plan pasted as TOML (``docs/examples/plan.toml``)."""
    if not text.strip():
        raise PlanError(_("Paste a plan written in TOML, such as docs/examples/plan.toml."))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlanError(_("The TOML cannot be read: %(error)s.", error=error)) from None
