"""The learner's mentor panel, inside the course."""
