"""Which trigger rules a learning event matches, without Flask or a database.

Rules are indexed once per batch by (registration, verb, topic or activity): matching one
event costs a few dictionary look-ups and a check of the rules found there, never a scan of
every rule. A rule without a verb is filed under ``ANY``; one with neither topic nor
activity under ``("any", None)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

ANY = "*"


class Event(Protocol):
    """What matching reads of a learning event (``events.handoff.HandedEvent`` has it)."""

    @property
    def registration_id(self) -> int: ...
    @property
    def course_id(self) -> int | None: ...
    @property
    def topic_id(self) -> int | None: ...
    @property
    def verb(self) -> str: ...
    @property
    def activity_id(self) -> str: ...
    @property
    def completion(self) -> bool | None: ...
    @property
    def success(self) -> bool | None: ...
    @property
    def score_scaled(self) -> float | None: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True)
class RuleSpec:
    """A switched-on event rule, as matching needs it."""

    id: int
    registration_id: int
    sequence_id: int
    switched_on_at: datetime
    course_id: int | None = None
    verb: str | None = None
    topic_id: int | None = None
    activity_id: str | None = None
    completion: bool | None = None
    success: bool | None = None
    score_min: float | None = None
    stops: bool = False
    name: str = ""

    def accepts(self, event: Event, *, backfill: bool = False) -> bool:
        """Whether the event's course, result and time fit (its key already matched)."""
        if self.course_id is not None and event.course_id != self.course_id:
            return False
        if not backfill and event.occurred_at < self.switched_on_at:
            return False  # rules act only on what happened after they were switched on
        if self.completion is not None and event.completion is not self.completion:
            return False
        if self.success is not None and event.success is not self.success:
            return False
        if self.score_min is not None:
            return event.score_scaled is not None and event.score_scaled >= self.score_min
        return True


Key = tuple[int, str, str, int | str | None]


class RuleIndex:
    """Rules filed by (registration, verb, what): built once, matched many times."""

    def __init__(self, rules: Iterable[RuleSpec]) -> None:
        self._by_key: dict[Key, list[RuleSpec]] = defaultdict(list)
        for rule in rules:
            self._by_key[_key_of(rule)].append(rule)
        self._by_key = dict(self._by_key)  # look-ups must not add empty lists

    def __len__(self) -> int:
        return sum(len(rules) for rules in self._by_key.values())

    def match(self, event: Event, *, backfill: bool = False) -> list[RuleSpec]:
        """The rules the event matches, in the order they were given."""
        found: list[RuleSpec] = []
        for key in _keys_of(event):
            for rule in self._by_key.get(key, ()):
                if rule.accepts(event, backfill=backfill):
                    found.append(rule)
        if len(found) > 1:
            found.sort(key=lambda rule: rule.id)
        return found


def _key_of(rule: RuleSpec) -> Key:
    verb = rule.verb or ANY
    if rule.topic_id is not None:
        return (rule.registration_id, verb, "topic", rule.topic_id)
    if rule.activity_id is not None:
        return (rule.registration_id, verb, "activity", rule.activity_id)
    return (rule.registration_id, verb, "any", None)


def _keys_of(event: Event) -> list[Key]:
    keys: list[Key] = []
    for verb in (event.verb, ANY):
        registration = event.registration_id
        if event.topic_id is not None:
            keys.append((registration, verb, "topic", event.topic_id))
        keys.append((registration, verb, "activity", event.activity_id))
        keys.append((registration, verb, "any", None))
    return keys
