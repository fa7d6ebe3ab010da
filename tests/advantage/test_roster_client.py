"""The names-and-roles client's URL and Link handling, as platforms write them."""

from __future__ import annotations

import pytest

from lti_tool.lti.paging import next_link
from lti_tool.roster.client import with_rlid


def test_rlid_is_added_and_the_platforms_own_query_kept() -> None:
    url = "https://moodle.example.edu/mod/lti/services.php/CourseSection/2/bindings/1/memberships"
    assert with_rlid(url, "3") == f"{url}?rlid=3"
    assert with_rlid(f"{url}?Role=Learner&limit=50", "3") == f"{url}?Role=Learner&limit=50&rlid=3"
    assert with_rlid(f"{url}?rlid=9", "3") == f"{url}?rlid=3"  # never two
    assert with_rlid(url, None) == url


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://lms/api/Members?Page=2&PerPage=100>; rel="next"',
         "https://lms/api/Members?Page=2&PerPage=100"),
        ('<https://lms/m?p=1>; rel="first", <https://lms/m?p=3>; rel="Next"', "https://lms/m?p=3"),
        ('<https://lms/m?p=3>; rel="next last"', "https://lms/m?p=3"),
        ('<https://lms/m?p=1>; rel="prev"', None),
        ("", None),
    ],
)  # fmt: skip
def test_the_next_link_is_followed_exactly_as_written(header: str, expected: str | None) -> None:
    assert next_link(header) == expected
