"""Kombu's Redis transport with one fix: a channel whose connection is gone says so with a
connection error, instead of crashing the worker.

When Redis goes away while a worker holds a task unacknowledged (always, with ``acks_late``
and a task running), Celery's consumer first collects the broken connection, which cuts the
transport off from it (``transport.client = None``), then closes it. Closing the task channel
restores its unacknowledged messages, and the Redis client it builds for that reads the
host and port from ``transport.client``: kombu 5.7.0 raises ``AttributeError: 'NoneType'
object has no attribute 'hostname'``, which neither kombu nor Celery catch there, and the
worker exits ("Unrecoverable error"; celery/kombu#582 is the same crash reached from another
caller). ``tests/integration/test_broker_restarts.py`` shows it: one or two kills of Redis
with tasks in flight are enough.

Here such a channel raises Redis's ``ConnectionError`` instead, which is one of the
transport's connection errors: the close, an ack and a reject of that channel all ignore it
(Celery logs "Couldn't ack" for a late ack), and the consumer reconnects as it does when Redis
refuses the restore. A message that was not restored stays in Redis's ``unacked`` hash and is
delivered again after the visibility timeout, if Redis kept it; either way the task was
running when the connection broke, and the sweeps find any work it left.

``install()`` (called by ``init_celery``) points kombu's ``redis`` and ``rediss`` aliases here,
so broker URLs, log lines and ``rediss://``'s TLS handling stay kombu's own; naming the class
in Celery's ``broker_transport`` instead would change all three.
"""

from __future__ import annotations

from typing import Any

import kombu.transport
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    """Kombu's Redis channel, refusing to connect once its connection is closed."""

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection of this channel is closed")
        # (celery-types' kombu stubs leave out the transport's private methods)
        return dict(super()._connparams(asynchronous=asynchronous))  # type: ignore[misc]


class Transport(kombu_redis.Transport):
    """Kombu's Redis transport with the channel above."""

    Channel = Channel


#: The broker URL schemes served by this transport.
SCHEMES = ("redis", "rediss")


def install() -> None:
    """Serve ``redis://`` and ``rediss://`` broker URLs with this transport (safe twice)."""
    for scheme in SCHEMES:
        kombu.transport.TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
        # A connection made before would have cached kombu's own class under the alias.
        kombu.transport._transport_cache.pop(scheme, None)  # type: ignore[attr-defined]
