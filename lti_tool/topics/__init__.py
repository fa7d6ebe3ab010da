"""Topics: what was taught, and the activities that teach it."""
