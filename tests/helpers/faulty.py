"""A TCP proxy on 127.0.0.1 in front of a test server (an LRS, an SMTP server) that can be told
to misbehave: pass traffic through, reset every new connection, or accept connections and
never answer. The tool under test keeps one address throughout, as it would with a real
server that fails and comes back."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

PASS, RESET, HANG = "pass", "reset", "hang"


@dataclass
class FaultyProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target``, as ``mode`` says."""

    target: int
    mode: str = PASS
    port: int = 0
    #: Connections accepted, by the mode they met.
    seen: dict[str, int] = field(default_factory=lambda: {PASS: 0, RESET: 0, HANG: 0})
    _listener: socket.socket | None = None
    _held: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Listen, and serve each connection in a thread of its own."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        """Stop listening and drop every connection held."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        self.release()

    def release(self) -> None:
        """Close the connections a hang holds (the client sees them end)."""
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            with contextlib.suppress(OSError):
                connection.close()

    def _accept(self) -> None:
        listener = self._listener
        while listener is not None:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            mode = self.mode
            self.seen[mode] += 1
            if mode == RESET:  # SO_LINGER 0: close() sends RST, not FIN
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
            elif mode == HANG:
                with self._lock:
                    self._held.append(client)
            else:
                threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
        _pump(client, upstream)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until either side closes; then close both."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@contextlib.contextmanager
def faulty_proxy(target: int) -> Iterator[FaultyProxy]:
    """A proxy to 127.0.0.1:``target``, passing traffic until told otherwise."""
    proxy = FaultyProxy(target)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
