"""Roster sync against real HTTP: every page, statuses kept, nothing written when nothing
changed, and every platform failure recorded in words with nothing already stored lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lti_tool.courses.models import Enrollment, Person
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.extensions import db
from tests.advantage.conftest import REFUSALS, FakePlatform, Served, member


def _sync_row(served: Served, course_id: int) -> CourseSync:
    with served.app.app_context():
        sync = db.session.scalar(
            select(CourseSync).filter_by(course_id=course_id, kind=SyncKind.ROSTER)
        )
        assert sync is not None
        return sync


def _roster(served: Served, course_id: int) -> dict[str, tuple[str, str, str | None]]:
    """subject -> (enrollment status, role, person name) for the course."""
    with served.app.app_context():
        rows = db.session.execute(
            select(Person.subject, Enrollment.status, Enrollment.role, Person.name)
            .join(Enrollment, Enrollment.person_id == Person.id)
            .where(Enrollment.course_id == course_id)
        ).all()
    return {subject: (status.value, role.value, name) for subject, status, role, name in rows}


def _queue(served: Served, course_id: int) -> None:
    with served.app.app_context():
        db.session.add(
            CourseSync(course_id=course_id, kind=SyncKind.ROSTER, requested_at=func.now())
        )
        db.session.commit()


def test_a_thousand_members_over_ten_pages_then_a_resync_that_writes_nothing(
    served: Served,
) -> None:
    course = served.course("generated-1000", f"{served.url}/dev-platform/nrps/generated-1000")
    _queue(served, course)
    served.sync(course)
    sync = _sync_row(served, course)
    assert (sync.status, sync.pages, sync.items, sync.error) == (SyncStatus.DONE, 10, 1000, None)
    assert sync.written == 2000  # 1,000 people and 1,000 enrollments
    roster = _roster(served, course)
    assert len(roster) == 1000
    assert roster["gen-000001"] == ("active", "instructor", "Learner 1")
    assert roster["gen-000777"] == ("active", "learner", "Learner 777")
    with served.app.app_context():  # they exist before ever launching (welcome messages)
        never = db.session.scalar(select(func.count()).where(Person.last_launch_at.is_(None)))
    assert never == 1000

    served.sync(course)
    again = _sync_row(served, course)
    assert (again.status, again.items, again.written, again.removed) == (
        SyncStatus.DONE, 1000, 0, 0)  # fmt: skip


def test_statuses_changes_and_departures(served: Served, fake_platform: FakePlatform) -> None:
    served.point_at(f"{fake_platform.url}/token")
    course = served.course("c-1", f"{fake_platform.url}/Courses/C-1/Members?PageNo=0")
    fake_platform.pages = [
        [member("u-1", "Instructor"), member("u-2"), member("u-3")],
        [member("u-4"), member("u-5", email=None)],
    ]
    _queue(served, course)
    served.sync(course)
    assert _sync_row(served, course).pages == 2
    # The next link was followed exactly as written (mixed case kept).
    assert fake_platform.requests[1] == "/Courses/C-1/Members?PageNo=1&Sort=ID"

    fake_platform.pages = [
        [member("u-1", "Instructor"), member("u-2", status="Inactive"),
         member("u-4", name="Renamed Four", email=None)],
        [member("u-5", status="Deleted", email=None), member("u-6")],
    ]  # fmt: skip
    served.sync(course)
    sync = _sync_row(served, course)
    roster = _roster(served, course)
    assert roster["u-2"][0] == "inactive"
    assert roster["u-3"][0] == "deleted"  # gone from the roster: marked, not lost
    assert roster["u-4"] == ("active", "learner", "Renamed Four")
    assert roster["u-5"][0] == "deleted"
    assert roster["u-6"] == ("active", "learner", "Person u-6")
    assert sync.removed == 1
    # Rows written: u-2's enrollment, u-4's person (the name), u-5's enrollment, u-6's person
    # and enrollment, u-3's enrollment (departed); u-1 did not change.
    assert sync.written == 6
    with served.app.app_context():  # a field no longer sent keeps what we had
        email = db.session.scalar(select(Person.email).where(Person.subject == "u-4"))
    assert email == "u-4@example.edu"


def test_members_without_a_user_id_are_skipped_and_repeats_counted_once(
    served: Served, fake_platform: FakePlatform
) -> None:
    served.point_at(f"{fake_platform.url}/token")
    course = served.course("c-2", f"{fake_platform.url}/Courses/C-2/Members")
    fake_platform.pages = [
        [member("u-1"), {"roles": []}, member("", name="Nobody"), member("u-1", name="Again")],
    ]
    _queue(served, course)
    served.sync(course)
    assert _roster(served, course) == {"u-1": ("active", "learner", "Again")}


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        *REFUSALS,
        (200, '{"id": "x", "members": "everyone"}', "not a names-and-roles membership list"),
    ],
)
def test_a_platform_failure_is_recorded_in_words_and_loses_nothing(
    served: Served, fake_platform: FakePlatform, status: int, body: str | None, words: str
) -> None:
    served.point_at(f"{fake_platform.url}/token")
    course = served.course("c-3", f"{fake_platform.url}/Courses/C-3/Members")
    fake_platform.pages = [[member("u-1"), member("u-2")]]
    _queue(served, course)
    served.sync(course)
    before = _roster(served, course)
    fake_platform.status, fake_platform.body = status, body
    served.sync(course)
    sync = _sync_row(served, course)
    assert sync.status is SyncStatus.FAILED
    assert words in (sync.error or "")
    assert _roster(served, course) == before


def test_a_course_without_a_roster_service_says_so(served: Served) -> None:
    course = served.course("c-4", None)
    _queue(served, course)
    served.sync(course)
    sync = _sync_row(served, course)
    assert sync.status is SyncStatus.FAILED
    assert "has not offered this course's roster" in (sync.error or "")


def test_an_unreachable_platform_is_a_failure_in_words(served: Served) -> None:
    course = served.course("c-5", "http://127.0.0.1:9/nrps")
    _queue(served, course)
    served.sync(course)
    sync = _sync_row(served, course)
    assert sync.status is SyncStatus.FAILED
    assert "could not be reached" in (sync.error or "")
