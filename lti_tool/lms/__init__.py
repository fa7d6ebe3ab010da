"""LMS connections: completions read from Moodle's web services and Canvas's REST API."""
