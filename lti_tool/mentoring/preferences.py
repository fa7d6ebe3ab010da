"""Each learner's preferences as the dispatcher applies them: stored choices over the
tool's defaults (``[mentoring]`` settings), the zone defaulting to the person's; and the
checks a learner's choices pass before they are stored."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask_babel import gettext as _  # not lti_tool.i18n: it imports this module
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lti_tool.courses import freshness
from lti_tool.courses.models import Person
from lti_tool.errors import AppError
from lti_tool.mentoring.models import LearnerPreference, MessageKind
from lti_tool.mentoring.reasons import N_
from lti_tool.mentoring.scheduling import Policy, parse_hhmm

#: The languages the tool speaks, by code, in their own words; the first is the fallback.
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
#: The message kinds a learner may opt out of: all but the welcome, which says once who
#: their mentor is and how to reach them.
CATEGORIES: tuple[str, ...] = tuple(k.value for k in MessageKind if k is not MessageKind.WELCOME)
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class InvalidPreference(AppError, ValueError):
    """A choice the tool cannot store (a ValueError too, as a bad time always was)."""


@cache
def zones() -> list[str]:
    """Every IANA time zone this system knows, sorted."""
    return sorted(available_timezones())


def spoken(code: str | None) -> str | None:
    """A locale as the tool speaks it (``fr-CA`` and ``fr_CA`` are ``fr``), or none."""
    short = (code or "").replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else None


def language(chosen: str | None, launch_locale: str | None) -> str:
    """The language to show: the learner's choice, else the launch's if the tool speaks it
    (``fr-CA`` is ``fr``), else the first of ``LANGUAGES``."""
    return spoken(chosen) or spoken(launch_locale) or next(iter(LANGUAGES))


def languages(session: Session, launch_locales: Mapping[int, str | None]) -> dict[int, str]:
    """Each person's language (person id to launch locale given) for what is written to
    them: their chosen language, else their launch's, else English."""
    chosen: dict[int, str | None] = {row.person_id: row.locale for row in session.execute(
        select(LearnerPreference.person_id, LearnerPreference.locale)
        .where(LearnerPreference.person_id.in_(launch_locales))
    )}  # fmt: skip
    return {person: language(chosen.get(person), launch)
            for person, launch in launch_locales.items()}  # fmt: skip


def defaults(config: Mapping[str, Any]) -> Policy:
    """The policy of a learner who chose nothing."""
    cap = int(config["MENTORING_DAILY_CAP"])
    return Policy(
        quiet_start=parse_hhmm(config["MENTORING_QUIET_START"]),
        quiet_end=parse_hhmm(config["MENTORING_QUIET_END"]),
        daily_cap=cap or None,
        channels=frozenset({"email"}),
    )


# Built once: the panel and the dispatcher run it on every view and batch.
_POLICIES = (
    select(Person.id, Person.time_zone, LearnerPreference)
    .outerjoin(LearnerPreference, LearnerPreference.person_id == Person.id)
    .where(Person.id.in_(bindparam("ids", expanding=True)))
)


def policies(
    session: Session, person_ids: Iterable[int], config: Mapping[str, Any]
) -> dict[int, Policy]:
    """Each learner's policy, in one query."""
    base = defaults(config)
    rows = session.execute(_POLICIES, {"ids": list(set(person_ids))}).all()
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
    ``opted_out``, ``daily_cap``, ``email``, ``locale``); others keep what they were. A
    choice the tool cannot use raises InvalidPreference before anything is stored."""
    _check(choices)
    preference = session.get(LearnerPreference, person_id)
    if preference is None:
        preference = LearnerPreference(person_id=person_id, opted_out=[], email=True)
        session.add(preference)
    for name, value in choices.items():
        setattr(preference, name, value)
    session.flush()
    freshness.people_changed(session, [person_id])
    return preference


def _check(choices: Mapping[str, Any]) -> None:
    for name, problem in (
        ("quiet_start", N_("The quiet hours start “%(value)s” is not a time: use hours and "
                           "minutes, such as 21:30.")),
        ("quiet_end", N_("The quiet hours end “%(value)s” is not a time: use hours and "
                         "minutes, such as 21:30.")),
    ):  # fmt: skip
        value = choices.get(name)
        if value and not _HHMM.fullmatch(value):
            raise InvalidPreference(_(problem, value=value))
    if (zone := choices.get("time_zone")) and zone not in zones():
        raise InvalidPreference(
            _("“%(zone)s” is not a time zone we know: pick one from the list.", zone=zone)
        )
    for kind in choices.get("opted_out") or ():
        if kind not in CATEGORIES:
            raise InvalidPreference(
                _("“%(kind)s” is not a kind of message you can turn off.", kind=kind)
            )
    if (code := choices.get("locale")) and code not in LANGUAGES:
        raise InvalidPreference(_("“%(code)s” is not a language the tool offers.", code=code))
