"""The assignment rules, as tables: round-robin spreads evenly, sections follow the mapping."""

from __future__ import annotations

import pytest

from lti_tool.mentors.assignment import by_section, spread
from lti_tool.mentors.models import PairedBy

HAND, SECTION, ROBIN = PairedBy.HAND, PairedBy.SECTION, PairedBy.ROUND_ROBIN


@pytest.mark.parametrize(
    ("mentees", "load", "expected"),
    [
        ([1, 2, 3, 4], {10: 0, 20: 0}, {1: 10, 2: 20, 3: 10, 4: 20}),
        ([1, 2, 3], {10: 2, 20: 0}, {1: 20, 2: 20, 3: 10}),  # fewest mentees first
        ([1, 2], {30: 0, 20: 0, 10: 0}, {1: 10, 2: 20}),  # lowest id on a tie
        ([1, 2], {}, {}),  # no mentors: nobody paired
        ([], {10: 0}, {}),
    ],
)
def test_round_robin_spreads_fewest_first(
    mentees: list[int], load: dict[int, int], expected: dict[int, int]
) -> None:
    assert spread(mentees, load) == expected


def test_round_robin_never_leaves_two_mentors_more_than_one_apart() -> None:
    chosen = spread(list(range(100)), {10: 5, 20: 0, 30: 1})
    counts = {m: list(chosen.values()).count(m) + start for m, start in ((10, 5), (20, 0), (30, 1))}
    assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.parametrize(
    ("sections", "current", "mentors", "expected"),
    [
        ({1: "A", 2: "B", 3: None}, {}, {"A": 10, "B": 20}, {1: 10, 2: 20}),
        ({1: "A", 2: "C"}, {}, {"A": 10}, {1: 10}),  # a section without a mentor waits
        ({1: "A"}, {1: (10, SECTION)}, {"A": 10}, {}),  # already so
        ({1: "A"}, {1: (20, SECTION)}, {"A": 10}, {1: 10}),  # section's mentor changed
        ({1: "A"}, {1: (20, HAND)}, {"A": 10}, {}),  # a hand pairing stays
        ({1: "A"}, {1: (20, ROBIN)}, {"A": 10}, {}),  # so does round-robin
    ],
)
def test_by_section_follows_the_mapping(
    sections: dict[int, str | None],
    current: dict[int, tuple[int, PairedBy]],
    mentors: dict[str, int],
    expected: dict[int, int],
) -> None:
    assert by_section(sections, current, mentors) == expected
