"""Addresses of the services the tool calls with a secret (LRSs, LMS APIs), checked alike:
a web address, https (plain http only on this machine, outside production), no
credentials, query or fragment in it."""

from __future__ import annotations

from urllib.parse import urlsplit

from lti_tool import http_safety
from lti_tool.http_safety import AddressPolicy

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def address_problem(url: str, *, production: bool, what: str, carrying: str) -> str | None:
    """What is wrong with ``url`` as the address of a service whose calls carry ``carrying``
    (its credentials), in a sentence naming it as ``what``; None if it will do."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{what} is not a web address (https://…)."
    if parts.username is not None or parts.password is not None:
        return f"Give {carrying} as an option, not in {what.lower()}."
    if parts.query or parts.fragment:
        return f"{what} has no query or fragment (https://host/path, not …?…)."
    if parts.scheme == "http" and (production or parts.hostname not in LOOPBACK_HOSTS):
        return f"{what} must use https:// ({carrying} would travel in clear)."
    return None


def resolved_problem(
    url: str, policy: AddressPolicy | None = None, *, what: str, unknown_ok: bool = False
) -> str | None:
    """What is wrong with where ``url``'s host resolves to now, in a sentence naming it as
    ``what``: an address ``policy`` (the app's, by default) refuses (see ``http_safety``);
    None if it will do (and,
    with ``unknown_ok``, if the host cannot be found now).

    For refusing an address when it is given, so nothing is stored; every call to it is
    checked again at the connection (``http_safety.session``).
    """
    problem = http_safety.url_problem(url, policy, unknown_ok=unknown_ok)
    return None if problem is None else f"{what} is refused: {problem}."
