"""The plan editor's form read into a plan (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.console.plan_form import from_form, from_toml
from lti_tool.mentoring.plans import PlanError

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def form(**changes: str) -> dict[str, str]:
    """A welcome at once and a question after a week, started on "completed"."""
    return {
        "name": "Listening", "topic": "",
        "step-0-key": "welcome", "step-0-offset": "0", "step-0-kind": "welcome",
        "step-0-title": "Welcome, {first_name}", "step-0-body": "I am **{mentor}**.",
        "step-1-key": "ask", "step-1-offset": "7", "step-1-kind": "question",
        "step-1-title": "Applied it?", "step-1-answers": "yes: Yes\nnot_yet: Not yet\n",
        "start": "event", "verb": COMPLETED, "completion": "on", "score_min": "0.5",
        **changes,
    }  # fmt: skip


def test_a_filled_form_is_a_plan() -> None:
    resource = {
        "step-2-branch": "on",
        "step-2-kind": "resource",
        "step-2-title": "Watch",
        "step-2-url": "https://v.example",
    }
    plan = from_form(form(topic="3", **resource))
    assert plan["name"] == "Listening"
    assert plan["topic"] == 3
    assert [(s["key"], s.get("offset_days")) for s in plan["steps"]] == [
        ("welcome", 0), ("ask", 7), ("step-3", None)]  # fmt: skip
    assert plan["steps"][1]["message"]["choices"] == [
        {"key": "yes", "label": "Yes"}, {"key": "not_yet", "label": "Not yet"}]  # fmt: skip
    assert plan["steps"][2]["message"]["details"] == {"url": "https://v.example"}
    assert plan["rules"] == [{"kind": "event", "verb": COMPLETED, "completion": True,
                              "score_min": 0.5}]  # fmt: skip


@pytest.mark.parametrize(("start", "verb", "rules"), [
    ("joined", COMPLETED, [{"kind": "joined"}]),
    ("none", COMPLETED, []),
    ("event", "", [{"kind": "event", "verb": None}]),
])  # fmt: skip
def test_how_a_plan_starts(start: str, verb: str, rules: list[dict[str, Any]]) -> None:
    assert from_form(form(start=start, verb=verb, completion="", score_min=""))["rules"] == rules


@pytest.mark.parametrize(("changes", "sentence"), [
    ({"step-0-title": ""}, "Step 1: give the message a title."),
    ({"step-1-offset": ""}, "Step 2: give an offset in days"),
    ({"step-1-offset": "soon"}, "not “soon”"),
    ({"step-1-offset": "-1"}, "from 0 to 3650"),
    ({"step-1-branch": "on"}, "not both"),
    ({"step-1-answers": "Yes please"}, "“key: label”"),
    ({"step-0-answers": "yes: Yes"}, "only a question has answers"),
    ({"step-0-url": "https://x.example"}, "only a resource links"),
    ({"step-0-kind": "survey"}, "pick the kind"),
    ({"topic": "Listening"}, "Pick the topic"),
    ({"verb": "http://evil.example/verb"}, "Pick the verb"),
    ({"score_min": "80"}, "from 0 to 1"),
    ({"start": "later"}, "Say how the plan starts"),
])  # fmt: skip
def test_a_wrong_row_is_named(changes: dict[str, str], sentence: str) -> None:
    with pytest.raises(PlanError, match=sentence):
        from_form(form(**changes))


def test_an_empty_form_asks_for_a_step() -> None:
    with pytest.raises(PlanError, match="at least one step"):
        from_form({"name": "Nothing", "start": "none"})


def test_toml_is_read_and_bad_toml_refused() -> None:
    assert from_toml('name = "X"\n[[steps]]\nkey = "a"\n')["steps"] == [{"key": "a"}]
    with pytest.raises(PlanError, match="cannot be read"):
        from_toml("name = ")
    with pytest.raises(PlanError, match="Paste a plan"):
        from_toml("  ")
