"""The suite cannot reach the network beyond this machine.

Connecting a UDP socket sends no packet, so this proves the guard without any traffic
even if the guard were broken.
"""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


@pytest.mark.parametrize("address", ["192.0.2.10", "10.1.2.3", "8.8.8.8"])
def test_connections_beyond_loopback_are_blocked(address: str) -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        pytest.raises(SocketConnectBlockedError),
        pytest.warns(
            UserWarning, match=f'tried to use socket.socket.connect.. with host "{address}"'
        ),
    ):
        udp.connect((address, 9))


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.53"])
def test_loopback_is_allowed(address: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect((address, 9))
