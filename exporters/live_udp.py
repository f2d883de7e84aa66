"""What every live sender shares: a `HOST:PORT` target and a UDP socket that never stops the
stream (a receiver that is not running yet, or a network hiccup, costs frames, not the session).

A sender takes blocks of frames in EmoSync's channel order (rigs.channels.CHANNELS, 61 values a
frame) with the index of the first frame since the stream started.
"""

from __future__ import annotations

import socket
from typing import Protocol

import numpy as np

from emosync.errors import InputError

DEFAULT_HOST = "127.0.0.1"


class LiveSender(Protocol):
    """A destination for live frames."""

    def send(self, first_frame: int, frames: np.ndarray) -> None: ...

    def close(self) -> None: ...


def parse_endpoint(text: str, what: str, default_host: str = DEFAULT_HOST) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `PORT` -> (host, port); an InputError naming the option."""
    value = str(text).strip()
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = "", value
    host = host.strip("[]") or default_host
    try:
        port = int(port_text)
    except ValueError:
        raise InputError(f"{what} must be HOST:PORT (e.g. 127.0.0.1:11111), got '{text}'") from None
    if not 1 <= port <= 65535:
        raise InputError(f"{what} port must be between 1 and 65535, got {port}")
    return host, port


class UdpTarget:
    """A datagram socket aimed at one host and port; the address is resolved once, up front,
    so a typo in the host name is an input error before the stream starts."""

    def __init__(self, host: str, port: int, what: str) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise InputError(f"{what}: cannot resolve host '{host}': {exc}") from None
        family, kind, proto, _, address = infos[0]
        self.sock = socket.socket(family, kind, proto)
        self.address = address
        self.sent = 0
        self.failed = 0

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, self.address)
            self.sent += 1
        except OSError:  # nobody listening (ICMP refused), buffer full, network down
            self.failed += 1

    def close(self) -> None:
        self.sock.close()
