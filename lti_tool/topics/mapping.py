"""Which topic a learning event is about, from its activity.

A topic lists activity IRIs, or patterns where ``*`` stands for any run of characters.
IRIs are compared in one canonical form (scheme and host in lower case, no fragment, no
trailing slash), so ``HTTPS://LMS.example.org/mod/page/view.php?id=7#top`` is the same
activity as ``https://lms.example.org/mod/page/view.php?id=7``.

When several topics claim an activity, the most specific wins: a topic of the event's own
course before one of the organisation's library, an exact IRI before a pattern, and of two
patterns the one with the longer fixed beginning (``…/mod/quiz/view.php?id=12*`` before
``…/mod/quiz/*``). A topic of another course never matches. Equal claims go to the older
topic, so the answer never changes by chance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lti_tool.topics.models import Topic, TopicActivity

WILDCARD = "*"
_FOR_REGISTRATIONS = (
    select(Topic.registration_id, Topic.course_id, Topic.id, TopicActivity.pattern)
    .join(TopicActivity, TopicActivity.topic_id == Topic.id)
    .where(Topic.registration_id.in_(bindparam("registrations", expanding=True)))
    .order_by(Topic.id, TopicActivity.id)
)


def canonical(iri: str) -> str:
    """The form activity IRIs are compared in (see the module's docstring)."""
    text = iri.strip()
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        return text
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _lower_origin(text: str) -> str:
    """``text`` with its scheme and host in lower case (the rest as written)."""
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        return text
    origin = f"{parts.scheme}://{parts.netloc}"
    if not text.startswith(origin):
        return text
    return origin.lower() + text[len(origin) :]


@dataclass
class _Pattern:
    fixed: int  # characters before the first wildcard: longer is more specific
    regex: re.Pattern[str]
    course_id: int | None
    topic_id: int


@dataclass
class TopicMap:
    """One platform's topics, ready to answer "which topic is this activity about?"."""

    exact: dict[str, list[tuple[int | None, int]]] = field(default_factory=dict)
    patterns: list[_Pattern] = field(default_factory=list)

    def add(self, course_id: int | None, topic_id: int, pattern: str) -> None:
        """Let ``pattern`` (an IRI, or one with ``*``) point to the topic."""
        if WILDCARD not in pattern:
            self.exact.setdefault(canonical(pattern), []).append((course_id, topic_id))
            return
        fixed, *rest = pattern.split(WILDCARD)
        head = _lower_origin(fixed)
        regex = re.escape(head) + ".*" + ".*".join(re.escape(part) for part in rest)
        self.patterns.append(_Pattern(len(head), re.compile(regex, re.DOTALL), course_id, topic_id))
        self.patterns.sort(key=lambda p: (-p.fixed, p.topic_id))

    def topic_for(self, activity_id: str, course_id: int | None) -> int | None:
        """The topic the activity teaches in this course (or anywhere), if any."""
        iri = canonical(activity_id)
        claims = self.exact.get(iri, [])
        for wanted in (course_id, None) if course_id is not None else (None,):
            found = [topic for course, topic in claims if course == wanted]
            if found:
                return min(found)
            for pattern in self.patterns:
                if pattern.course_id == wanted and pattern.regex.fullmatch(iri):
                    return pattern.topic_id
        return None


def load(session: Session, registration_ids: Iterable[int]) -> dict[int, TopicMap]:
    """The topic maps of these platforms, read in one query."""
    maps: dict[int, TopicMap] = {}
    wanted = sorted(set(registration_ids))
    if not wanted:
        return maps
    for registration_id, course_id, topic_id, pattern in session.execute(
        _FOR_REGISTRATIONS, {"registrations": wanted}
    ):
        maps.setdefault(registration_id, TopicMap()).add(course_id, topic_id, pattern)
    return maps
