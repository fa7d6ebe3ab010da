"""Who should mentor whom: pure assignment rules, no database (tested with tables)."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from lti_tool.mentors.models import PairedBy


def spread(mentees: Sequence[int], load: Mapping[int, int]) -> dict[int, int]:
    """Round-robin: each mentee, in the order given, to the mentor with the fewest mentees
    so far (the lowest mentor id on a tie); mentee -> mentor. No mentors: nobody is paired."""
    heap = [(count, mentor) for mentor, count in load.items()]
    heapq.heapify(heap)
    chosen: dict[int, int] = {}
    for mentee in mentees:
        if not heap:
            break
        count, mentor = heapq.heappop(heap)
        chosen[mentee] = mentor
        heapq.heappush(heap, (count + 1, mentor))
    return chosen


def by_section(
    sections: Mapping[int, str | None],
    current: Mapping[int, tuple[int, PairedBy]],
    mentors: Mapping[str, int],
) -> dict[int, int]:
    """The pairings to make by section; mentee -> mentor.

    ``sections``: each learner's section; ``current``: each paired learner's mentor and how
    they were paired; ``mentors``: each section's mentor. A learner whose section has a
    mentor is paired with them, unless already so, or unless paired by hand or round-robin
    (a deliberate choice the section mapping does not override).
    """
    chosen: dict[int, int] = {}
    for mentee, section in sections.items():
        mentor = mentors.get(section) if section else None
        if mentor is None:
            continue
        now = current.get(mentee)
        if now is None or (now[1] is PairedBy.SECTION and now[0] != mentor):
            chosen[mentee] = mentor
    return chosen
