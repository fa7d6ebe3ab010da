"""Addresses of the services the tool calls with a secret (LRSs, LMS APIs), checked alike:
a web address, https (plain http only on this machine, outside production), no
credentials, query or fragment in it."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

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


def resolved_problem(url: str, *, production: bool, allow_private: bool, what: str) -> str | None:
    """What is wrong with where ``url``'s host resolves to, for a call anyone could point
    at an internal service (a webhook): a private, loopback or link-local address is
    refused unless ``allow_private`` (loopback is allowed outside production; link-local,
    where cloud metadata services live, never). None if every address will do.

    The check is made when the address is given and again before each call; a host whose
    DNS changes between the check and the call (rebinding) is not caught by it.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        return f"{what} names a host ({host}) that cannot be found."
    for *_rest, sockaddr in found:
        problem = _address_refused(
            str(sockaddr[0]), production=production, allow_private=allow_private
        )
        if problem is not None:
            return f"{what} leads to {problem}."
    return None


def _address_refused(text: str, *, production: bool, allow_private: bool) -> str | None:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return f"{address}, a link-local address (never allowed)"
    if address.is_loopback and not production:
        return None
    if address.is_global or allow_private:
        return None
    return (
        f"{address}, a private or reserved address (set VM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true "
        "to allow internal services)"
    )
