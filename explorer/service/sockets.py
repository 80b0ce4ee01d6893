"""Streamlit's server sockets without Nagle's algorithm.

Streamlit opens its listening socket with protocol 0, and asyncio only turns Nagle off on sockets whose
protocol says TCP, so a run's small websocket messages wait for the browser's delayed ACK (tens of
milliseconds on every interaction, the same for every view). Linux copies TCP_NODELAY from a listening
socket to the connections it accepts; setting it on the process's TCP sockets once fixes the listener
and the connections already open. Elsewhere (no /proc) this does nothing.
"""

from __future__ import annotations

import os
import socket
from functools import cache

FD_FOLDER = "/proc/self/fd"


@cache
def send_without_delay() -> int:
    """Sets TCP_NODELAY on every TCP socket of this process, once; how many it set."""
    try:
        descriptors = [int(name) for name in os.listdir(FD_FOLDER)]
    except OSError:
        return 0
    count = 0
    for fd in descriptors:
        try:
            sock = socket.socket(fileno=os.dup(fd))  # a copy: closing it leaves the server's own open
        except OSError:  # not a socket, or already closed
            continue
        with sock:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    count += 1
                except OSError:
                    pass
    return count
