"""The panel's tests use the mentoring tests' tenant: a Moodle course with learner Ana."""

from __future__ import annotations

from tests.mentoring.conftest import tenant  # noqa: F401 (a fixture, shared by import)
