"""Changing a live stream's emotion while it runs: text lines on a UDP control port or on standard
input (when standard input is not the audio).

    emotion quietly furious 0.8      a preset, mixture or any words, with an optional intensity
    emotion 0.6 happy + 0.3 surprised
    timeline moods.json              a timeline file, its time 0 now

Each change ramps in over the same transition a file's timeline uses (inference.live_emotion).
A UDP sender gets a one-line reply (`ok …` or `error: …`); bad lines never stop the stream.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable, Iterable

import numpy as np

from emosync.errors import InputError
from emosync.inference.emotion_condition import read_emotion
from emosync.inference.emotion_text import check_feeling
from emosync.inference.live_emotion import LiveEmotion
from emosync.inference.timeline import EmotionTimeline
from emosync.rigs.emotions import describe, parse_intensity

USAGE = "use 'emotion TEXT [INTENSITY]' or 'timeline FILE.json'"
MAX_LINE = 1024


def emotion_state(text: str, intensity: float) -> np.ndarray:
    """A prompt's state the way `animate --emotion` reads it (a non-feeling is refused)."""
    reading = read_emotion(text, intensity=intensity)
    check_feeling(text, reading.details["confidence"])
    return reading.state


def split_intensity(words: str, default: float) -> tuple[str, float]:
    """'quietly furious 0.8' -> ('quietly furious', 0.8); no trailing number -> default."""
    head, _, last = words.strip().rpartition(" ")
    if head and (last[:1].isdigit() or last[:1] == "."):
        try:
            return head.strip(), parse_intensity(last)
        except InputError:
            pass
    return words.strip(), default


class Control:
    """Applies control lines to a LiveEmotion at the stream time `clock()` says is next."""

    def __init__(
        self, emotion: LiveEmotion, clock: Callable[[], float], intensity: float = 1.0
    ) -> None:
        self.emotion, self.clock, self.intensity = emotion, clock, intensity
        self.applied = 0

    def handle(self, line: str) -> str:
        command, _, rest = line.strip().partition(" ")
        try:
            if command == "emotion":
                text, gain = split_intensity(rest, self.intensity)
                if not text:
                    raise InputError("say which emotion")
                state = emotion_state(text, gain)
                at = self.clock()
                self.emotion.change(state, at)
                self.applied += 1
                return f"ok emotion {describe(state)} from {at:.2f} s"
            if command == "timeline":
                timeline = EmotionTimeline.from_json(rest.strip())
                at = self.clock()
                self.emotion.play(timeline, at, self.intensity)
                self.applied += 1
                return f"ok timeline {rest.strip()} from {at:.2f} s"
            raise InputError(f"unknown command '{command}'; {USAGE}")
        except InputError as exc:
            return f"error: {exc}"

    def serve_lines(self, lines: Iterable[str], report: Callable[[str], None]) -> threading.Thread:
        """Handle each non-empty line on a daemon thread (standard input)."""

        def run() -> None:
            try:
                for line in lines:
                    if line.strip():
                        report(self.handle(line))
            except (OSError, ValueError):  # closed, or not readable (a captured test stdin)
                return

        thread = threading.Thread(target=run, name="emosync-control-stdin", daemon=True)
        thread.start()
        return thread

    def serve_udp(self, sock: socket.socket) -> threading.Thread:
        """Handle each datagram (one or more lines) on a daemon thread; reply to its sender."""

        def run() -> None:
            while True:
                try:
                    data, sender = sock.recvfrom(MAX_LINE)
                except OSError:  # closed at the end of the stream
                    return
                text = data.decode("utf-8", errors="replace")
                replies = [self.handle(line) for line in text.splitlines() if line.strip()]
                reply = "\n".join(replies) or f"error: empty line; {USAGE}"
                with contextlib.suppress(OSError):
                    sock.sendto(reply.encode("utf-8"), sender)
                print(f"emosync: control: {reply}", file=sys.stderr)

        thread = threading.Thread(target=run, name="emosync-control-udp", daemon=True)
        thread.start()
        return thread


def control_socket(host: str, port: int) -> socket.socket:
    """A bound UDP socket for `--control` (an InputError when the port is taken)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.bind(address)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"--control cannot listen on {host}:{port}: {exc}") from None
    return sock
