"""Mentors: real people with a profile, paired with the learners they mentor."""
