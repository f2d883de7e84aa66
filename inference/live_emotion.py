"""The emotion of a live stream: a start state or timeline, changed while it runs, with the same
raised-cosine transitions as a file's timeline (inference.timeline, DEFAULT_TRANSITION wide).

A file's timeline centres each ramp on its segment border, which needs half a transition of
look-ahead; a live change cannot be known early, so its ramp starts at the first frame not yet
computed and reaches the new state one transition later. A change replaces whatever the rest of
the start timeline would have done. Times are seconds since the stream started.
"""

from __future__ import annotations

import threading

import numpy as np

from emosync.inference.timeline import DEFAULT_TRANSITION, EmotionTimeline, _ramp
from emosync.rigs.emotions import MAX_INTENSITY, N_EMOTIONS

KEEP_SECONDS = 5.0  # steps finished this long before the earliest time asked for are folded


class LiveEmotion:
    """Thread-safe: the audio loop reads `states`, a control thread calls `change`."""

    def __init__(
        self,
        start: EmotionTimeline | None = None,
        intensity: float = 1.0,
        transition: float = DEFAULT_TRANSITION,
    ) -> None:
        start = start or EmotionTimeline()
        self.half = max(float(transition), 0.0) / 2.0
        self._lock = threading.Lock()
        self._base = np.asarray(start.base, np.float64) * intensity
        self._steps = [(border, delta * intensity) for border, delta in start._steps()]
        self._target = self._base + sum((d for _, d in self._steps), np.zeros(N_EMOTIONS))

    @property
    def target(self) -> np.ndarray:
        """The state the face is heading to (after every ramp given so far)."""
        with self._lock:
            return self._target.copy()

    def change(self, state: np.ndarray, at: float) -> None:
        """Head for `state` from time `at`: a ramp from `at` to `at` + one transition."""
        new = np.clip(np.asarray(state, np.float64).reshape(N_EMOTIONS), 0.0, MAX_INTENSITY)
        with self._lock:
            # the rest of the start timeline is replaced by the change
            self._steps = [(b, d) for b, d in self._steps if b - self.half <= at]
            reached = self._base + sum((d for _, d in self._steps), np.zeros(N_EMOTIONS))
            delta = new - reached
            if np.abs(delta).max() > 1e-9:
                self._steps.append((at + self.half, delta))
            self._target = new

    def play(self, timeline: EmotionTimeline, at: float, intensity: float = 1.0) -> None:
        """Play a timeline from time `at` (its time 0): a ramp to its base there, then its own
        transitions, each starting no earlier than `at`."""
        self.change(np.asarray(timeline.base) * intensity, at)
        offset = at + self.half
        with self._lock:
            for border, delta in timeline._steps():
                self._steps.append((border + offset, delta * intensity))
                self._target = self._target + delta * intensity

    def states(self, times: np.ndarray) -> np.ndarray:
        """States [len(times) × 7] at `times` (seconds)."""
        t = np.asarray(times, np.float64).reshape(-1)
        with self._lock:
            if t.size:
                self._fold(float(t.min()) - KEEP_SECONDS)
            out = np.tile(self._base, (t.size, 1))
            for border, delta in self._steps:
                out += _ramp(t - border, self.half)[:, None] * delta
        return np.clip(out, 0.0, MAX_INTENSITY).astype(np.float32)

    def _fold(self, before: float) -> None:
        """Steps whose ramp ended before `before` become part of the base (an hour of changes
        costs no more per frame than one)."""
        done = [(b, d) for b, d in self._steps if b + self.half < before]
        if done:
            self._base = self._base + sum(d for _, d in done)
            self._steps = [(b, d) for b, d in self._steps if b + self.half >= before]
