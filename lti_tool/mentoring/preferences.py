"""Each learner's preferences as the dispatcher applies them: stored choices over the
tool's defaults (``[mentoring]`` settings), the zone defaulting to the person's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Person
from lti_tool.mentoring.models import LearnerPreference
from lti_tool.mentoring.scheduling import Policy, parse_hhmm


def defaults(config: Mapping[str, Any]) -> Policy:
    """The policy of a learner who chose nothing."""
    cap = int(config["MENTORING_DAILY_CAP"])
    return Policy(
        quiet_start=parse_hhmm(config["MENTORING_QUIET_START"]),
        quiet_end=parse_hhmm(config["MENTORING_QUIET_END"]),
        daily_cap=cap or None,
        channels=frozenset({"email"}),
    )


def policies(
    session: Session, person_ids: Iterable[int], config: Mapping[str, Any]
) -> dict[int, Policy]:
    """Each learner's policy, in one query."""
    base = defaults(config)
    rows = session.execute(
        select(Person.id, Person.time_zone, LearnerPreference)
        .outerjoin(LearnerPreference, LearnerPreference.person_id == Person.id)
        .where(Person.id.in_(set(person_ids)))
    ).all()
    return {row[0]: _policy(base, row[1], row[2]) for row in rows}


def _policy(base: Policy, person_zone: str | None, chosen: LearnerPreference | None) -> Policy:
    if chosen is None:
        return Policy(person_zone or "UTC", base.quiet_start, base.quiet_end, base.opted_out,
                      base.daily_cap, base.channels)  # fmt: skip
    return Policy(
        zone=chosen.time_zone or person_zone or "UTC",
        quiet_start=parse_hhmm(chosen.quiet_start) if chosen.quiet_start else base.quiet_start,
        quiet_end=parse_hhmm(chosen.quiet_end) if chosen.quiet_end else base.quiet_end,
        opted_out=frozenset(chosen.opted_out or ()),
        daily_cap=base.daily_cap if chosen.daily_cap is None else (chosen.daily_cap or None),
        channels=frozenset({"email"} if chosen.email else ()),
    )


def choose(session: Session, person_id: int, **choices: Any) -> LearnerPreference:
    """Store a learner's choices (``time_zone``, ``quiet_start``, ``quiet_end``,
    ``opted_out``, ``daily_cap``, ``email``); others keep what they were."""
    for name in ("quiet_start", "quiet_end"):
        parse_hhmm(choices.get(name))  # a bad time raises ValueError before anything is stored
    preference = session.get(LearnerPreference, person_id)
    if preference is None:
        preference = LearnerPreference(person_id=person_id, opted_out=[], email=True)
        session.add(preference)
    for name, value in choices.items():
        setattr(preference, name, value)
    session.flush()
    return preference
