"""The output side of a command in a container: the start gate and line splitting."""

from __future__ import annotations

from collections import deque
from typing import Any

from manywheels.engine._protocol import Sink

__all__ = ["GATE", "LineSplitter", "open_gate"]


GATE = 'IFS= read -r _ || true; exec "$@" </dev/null'
"""Every command waits for one line on its stdin, then runs with stdin from /dev/null.

The client sends that line once it holds the attached stream (:func:`open_gate`), so no
output can arrive in the same read as the HTTP upgrade response: docker-py reads the
stream from the raw socket and loses bytes its HTTP reader buffered with the headers
(docker/docker-py#2042, #3332; seen over TCP and forwarded sockets, where fast commands
such as ``ls /opt/python`` then print nothing)."""


def open_gate(stream: Any) -> None:
    """Release a command started under :data:`GATE` (``stream``: the attached socket)."""
    # docker-py hands back the socket itself, or a read-only socket.SocketIO around it
    # (TCP and unix sockets through requests): writing goes to the socket (docker-py's
    # documented way to write to an attached stream).
    raw = stream if hasattr(stream, "sendall") else stream._sock
    raw.sendall(b"\n")


class LineSplitter:
    """Turns a byte stream into lines; keeps the last ``tail`` lines."""

    def __init__(self, stream: str, sink: Sink | None, tail: deque[str]) -> None:
        self.stream = stream
        self.sink = sink
        self.tail = tail
        self.buffer = b""

    def feed(self, data: bytes) -> None:
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        for raw in lines:
            self._emit(raw)

    def close(self) -> None:
        if self.buffer:
            self._emit(self.buffer)
            self.buffer = b""

    def _emit(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        self.tail.append(line)
        if self.sink is not None:
            self.sink(line, self.stream)
