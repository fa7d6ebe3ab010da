"""Names and roles: the course roster, synced from the platform in the background."""
