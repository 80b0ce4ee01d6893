"""The server's sockets without Nagle: set on a listener opened as Streamlit opens it (protocol 0), copied
by Linux to the connections it accepts, and on connections already open."""

from __future__ import annotations

import socket
import sys

import pytest

from explorer.service.sockets import send_without_delay

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")


def nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_listener_and_open_connections_lose_nagle_and_new_connections_inherit_it() -> None:
    listener = socket.socket(family=socket.AF_INET)  # protocol 0, as Streamlit's _bind_socket makes it
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    early = socket.create_connection(listener.getsockname())
    accepted_early, _ = listener.accept()
    try:
        assert not nodelay(listener) and not nodelay(accepted_early)
        send_without_delay.cache_clear()
        assert send_without_delay() >= 3  # the listener and both ends of the early connection
        assert nodelay(listener) and nodelay(accepted_early)
        late = socket.create_connection(listener.getsockname())
        accepted_late, _ = listener.accept()
        with late, accepted_late:
            assert nodelay(accepted_late)
        assert send_without_delay() >= 3  # once per process: the cached count
    finally:
        for sock in (early, accepted_early, listener):
            sock.close()
