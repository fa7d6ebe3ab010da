"""Learning events: one normalised stream of what learners did, from every source."""
