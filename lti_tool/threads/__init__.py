"""Question threads: a learner asks, a mentor answers; unanswered questions escalate."""
