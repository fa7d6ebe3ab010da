"""A person's data on request: everything the tool holds about them as one document (export),
all of it removed in one transaction (erasure), and how long raw statements are kept."""
