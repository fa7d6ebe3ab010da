"""Where the tool's own HTTP calls may go: never into the network it runs in, unless allowed.

Every address the tool fetches from is given by someone outside it (a platform's JWKS and
token URLs, its service and paging links, an LRS, an LMS, a webhook). Pointed at
``169.254.169.254``, ``10.0.0.5`` or ``localhost``, such a fetch would reach services that
trust the tool's network (server-side request forgery). ``session()`` is a requests
session whose connections resolve the host once, check every address it resolves to
against an ``AddressPolicy`` and connect only to a checked address: a host whose DNS
changes between a check and the call (rebinding) gains nothing, and each redirect hop,
were one followed, is a new connection checked alike.

Refused: private, loopback, link-local, multicast, reserved, unspecified and shared
(100.64.0.0/10) addresses, IPv4 and IPv6, with IPv4 addresses carried inside IPv6
(``::ffff:10.0.0.5``, 6to4, NAT64, Teredo) judged as IPv4. ``VM_HTTP_ALLOWED_PRIVATE_NETWORKS``
lists networks (CIDR) and host names that are allowed anyway; loopback is allowed when
``VM_ENV`` is development or testing (the embedded platform and test servers run on
127.0.0.1), never in production unless listed.

Written here rather than taken from a package: ``advocate`` (the well-known requests
wrapper) needs urllib3 < 2 and has not been released since 2020, and the maintained ones
wrap httpx, which the tool does not use.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app, has_app_context
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTING = "VM_HTTP_ALLOWED_PRIVATE_NETWORKS"
#: Shared address space (carrier-grade NAT), neither private nor global to ``ipaddress``.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
LOOPBACK = "a loopback address"
PRIVATE = "a private network address"
SHARED = "a shared (carrier-grade NAT) address"
#: NAT64's well-known prefix: an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(requests.ConnectionError):
    """A call refused because its host is at an address the tool does not call; the
    message says which address and how to allow it."""


class _Refused(Exception):
    """Raised inside a connection, where urllib3 would wrap an OSError; turned into
    ``AddressRefused`` by the adapter."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses the tool may connect to besides public ones."""

    #: Networks allowed although not public (``VM_HTTP_ALLOWED_PRIVATE_NETWORKS``).
    networks: tuple[Network, ...] = ()
    #: Host names allowed whatever they resolve to (lower case, no trailing dot).
    hosts: frozenset[str] = field(default_factory=frozenset)
    #: Whether loopback addresses are allowed (outside production).
    loopback: bool = False
    #: Whether every private address is allowed (link-local still only when listed).
    private: bool = False

    def refusal(self, host: str, text: str) -> str | None:
        """Why ``host``, found at address ``text``, may not be called; None if it may."""
        if host.lower().rstrip(".") in self.hosts:
            return None
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if any(address in network for network in self.networks):
            return None
        inner = _embedded_ipv4(address)
        if inner is not None and any(inner in network for network in self.networks):
            return None
        shown = inner or address
        kind = address_kind(shown)
        if kind is None or (kind == LOOPBACK and self.loopback):
            return None
        if self.private and kind in (PRIVATE, SHARED):
            return None
        subject = "the address is" if _is_literal(host) else f"{host} points to"
        return (
            f"{subject} {kind} ({shown}); the tool does not fetch from "
            f"private networks unless {SETTING} allows it"
        )


def address_kind(address: Address) -> str | None:
    """What kind of non-public address this is, in words; None for a public one."""
    checks = (("an unspecified address", address.is_unspecified),
              (LOOPBACK, address.is_loopback),
              ("a link-local (cloud metadata) address",
               address.is_link_local),
              ("a multicast address", address.is_multicast), (SHARED, address in _SHARED),
              ("a reserved address", address.is_reserved), (PRIVATE, address.is_private),
              (PRIVATE, not address.is_global))  # fmt: skip
    return next((kind for kind, applies in checks if applies), None)


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, Teredo), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_allowed(entries: Iterable[str]) -> tuple[tuple[Network, ...], frozenset[str]]:
    """Networks and host names of the setting's entries; ValueError naming a bad one."""
    networks: list[Network] = []
    hosts: set[str] = set()
    for entry in (str(item).strip() for item in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        if not name or any(c in name for c in "/:@ ") or _dotted(name):
            raise ValueError(f"{SETTING} has {entry!r}, which is neither a network nor a host.")
        hosts.add(name)
    return tuple(networks), frozenset(hosts)


def _dotted(name: str) -> bool:
    return all(part.isdigit() for part in name.split("."))


def setting_problems(settings: Mapping[str, Any]) -> list[str]:
    """The setting's entries that are neither a network nor a host name, as sentences."""
    try:
        parse_allowed(settings.get("HTTP_ALLOWED_PRIVATE_NETWORKS", []))
    except ValueError as exc:
        return [str(exc)]
    return []


def policy_from_config(config: Mapping[str, Any]) -> AddressPolicy:
    """The policy of an app's settings."""
    networks, hosts = parse_allowed(config.get("HTTP_ALLOWED_PRIVATE_NETWORKS", []))
    loopback = config.get("ENV") in ("development", "testing")
    return AddressPolicy(networks, hosts, loopback=loopback)


def current_policy() -> AddressPolicy:
    """The running app's policy; outside an app, the strictest (public addresses only)."""
    return policy_from_config(current_app.config) if has_app_context() else AddressPolicy()


def url_problem(
    url: str, policy: AddressPolicy | None = None, *, unknown_ok: bool = False
) -> str | None:
    """Why ``url``'s host may not be called, as found now in DNS; None if it may (and, with
    ``unknown_ok``, if it cannot be found now).

    For refusing an address when it is given (nothing stored); the connection checks it
    again whenever it is called.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        return None if unknown_ok else f"{host or url} is a host that cannot be found"
    rules = policy or current_policy()
    return next((p for *_, sockaddr in found if (p := rules.refusal(host, str(sockaddr[0])))), None)


def session(policy: AddressPolicy | None = None) -> requests.Session:
    """A requests session that connects only where ``policy`` (default: the app's) allows."""
    http = requests.Session()
    adapter = GuardedAdapter(policy or current_policy())
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


class GuardedAdapter(HTTPAdapter):
    """A transport adapter whose connections are checked against a policy."""

    def __init__(self, policy: AddressPolicy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """A pool manager whose pools make guarded connections."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        """Send the request; a refused address becomes ``AddressRefused`` in words."""
        proxies = kwargs.get("proxies") or {}
        if select_proxy(request.url or "", proxies):
            # Through a proxy the connection is to the proxy, which resolves the host
            # itself: the host is checked here, as DNS has it now.
            problem = url_problem(request.url or "", self.policy)
            if problem is not None:
                raise AddressRefused(problem + ".", request=request)
        try:
            return super().send(request, *args, **kwargs)
        except _Refused as exc:
            raise AddressRefused(f"{exc}.", request=request) from None


def _pool_classes(policy: AddressPolicy) -> dict[str, type[HTTPConnectionPool]]:
    guarded_http = type("GuardedHTTPConnection", (_Guarded, HTTPConnection), {"policy": policy})
    guarded_https = type("GuardedHTTPSConnection", (_Guarded, HTTPSConnection), {"policy": policy})
    return {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": guarded_http}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": guarded_https}),
    }


class _Guarded(HTTPConnection):
    """Resolves once, checks every address, connects to a checked one."""

    policy: AddressPolicy

    def _new_conn(self) -> socket.socket:
        host = self._dns_host
        try:
            found = socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))
        for address in addresses:
            if (problem := self.policy.refusal(host, address)) is not None:
                raise _Refused(problem)
        failure: OSError | None = None
        for address in addresses:
            try:
                return connection.create_connection(
                    (address, self.port), self.timeout,
                    source_address=self.source_address, socket_options=self.socket_options,
                )  # fmt: skip
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                failure = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}")
