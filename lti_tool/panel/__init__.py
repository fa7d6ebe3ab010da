"""The learner's mentor panel, inside the course."""

# The blueprint lives in views; people adds its routes to it (mentor, agreement, questions).
from lti_tool.panel import people as people
