"""Mentoring: what the mentor sends, to whom, when, and through which channels."""
