"""Assignment and grade services: the course's grade book read into learning events, and
scores posted for graded check-ins and surveys."""
