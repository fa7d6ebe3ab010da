"""Tests of the learner panel."""
