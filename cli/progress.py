"""A progress bar on stderr for long work (only on a terminal, so logs stay clean).

A bar redraws its line with a carriage return and ends it with a newline when done; when
something else must be said while a bar is half drawn (an error, Ctrl-C), `end_line` ends the
bar's line first so the message gets a line of its own.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

_open_line: TextIO | None = None  # the stream whose last line is a bar still being drawn


def end_line() -> None:
    """End a half-drawn bar's line (no-op when none is open)."""
    global _open_line
    if _open_line is not None:
        _open_line.write("\n")
        _open_line.flush()
        _open_line = None


def _draw(stream: TextIO, text: str, finished: bool) -> None:
    global _open_line
    stream.write(text)
    if finished:
        stream.write("\n")
    _open_line = None if finished else stream
    stream.flush()


class ProgressBar:
    def __init__(
        self, label: str, stream: TextIO | None = None, width: int = 30, unit: str = "s"
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.unit = unit
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def __call__(self, done: float, total: float) -> None:
        if not self.enabled or total <= 0:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        frac = min(1.0, done / total)
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        amount = (
            f"{done:7.1f}/{total:.1f} s"
            if self.unit == "s"
            else f"{done:.0f}/{total:.0f} {self.unit}"
        )
        _draw(self.stream, f"\r{self.label} [{bar}] {frac:4.0%} {amount}", frac >= 1.0)


class CountBar:
    """Items done of a total, with items per second and the time left (only on a terminal)."""

    def __init__(self, label: str, total: int, unit: str = "lines", stream: TextIO | None = None):
        self.label, self.total, self.unit = label, total, unit
        self.width = 30
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() and total > 0
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < self.total and now - self._last < 0.2:
            return
        self._last = now
        rate = done / max(now - self.started, 1e-9)
        left = (self.total - done) / rate if rate > 0 else float("nan")
        eta = f"{int(left // 60)}m{int(left % 60):02d}s" if not math.isnan(left) else "--"
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        text = (
            f"\r{self.label} [{bar}] {done}/{self.total} {self.unit} "
            f"{rate:.2f} {self.unit}/s ETA {eta} "
        )
        _draw(self.stream, text, done >= self.total)
