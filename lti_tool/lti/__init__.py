"""LTI 1.3: platform registrations, deployments and the tool's signing keys."""
