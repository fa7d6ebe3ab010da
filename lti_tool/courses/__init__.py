"""Courses (LTI contexts), the people in them and their enrollments."""
