"""Cut a long 16 kHz stream into pieces at pauses, so each piece can be aligned on its own.

An energy VAD marks 10 ms frames quieter than a threshold that adapts to the buffered audio
(noise floor plus a share of the speech-to-floor range). Once ~30 s are buffered the cutter
looks for the longest pause whose middle lies 20-30 s into the buffer and cuts in that middle;
failing that it takes the longest pause up to 60 s; only with no pause in 60 s does it make a
hard cut, at the quietest 50 ms near the 60 s mark. At most ~60 s plus one block is buffered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from emosync.inference.audio import SAMPLE_RATE

FRAME = 160  # 10 ms at 16 kHz
_MIN_RANGE_DB = 12.0  # below this floor-to-speech range the audio is one steady level
_SILENT_DB = -60.0
_MAX_RANGE_DB = 50.0  # the noise floor is taken no lower than this below the speech level


@dataclass(frozen=True)
class Piece:
    start: int  # index of the first sample in the whole stream
    samples: np.ndarray  # float32, 16 kHz mono

    @property
    def start_seconds(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def duration(self) -> float:
        return self.samples.size / SAMPLE_RATE


def frame_energy_db(x: np.ndarray) -> np.ndarray:
    """Mean power per whole 10 ms frame in dBFS (digital silence reads -100)."""
    n = x.size // FRAME
    frames = np.asarray(x[: n * FRAME], np.float32).reshape(n, FRAME)
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / FRAME  # no squared copy
    return 10.0 * np.log10(np.maximum(power, 1e-10))


def quiet_frames(energy_db: np.ndarray, min_rise_db: float = 6.0) -> np.ndarray:
    """Frames below floor + max(min_rise, 30% of the floor-to-speech range), where the floor is
    the 10th percentile of the energy (at most 50 dB below its 95th)."""
    if energy_db.size == 0:
        return np.zeros(0, bool)
    floor, loud = np.percentile(energy_db, [10, 95])
    # digital silence (-100 dB) would drag the floor below any real room noise
    floor = max(floor, loud - _MAX_RANGE_DB)
    if loud - floor < _MIN_RANGE_DB:  # steady level: no pause to tell apart, unless near-silent
        return energy_db < _SILENT_DB
    return energy_db < floor + max(min_rise_db, 0.3 * (loud - floor))


def pauses(quiet: np.ndarray, min_frames: int) -> list[tuple[int, int]]:
    """(first, end) frame ranges of quiet runs at least `min_frames` long."""
    padded = np.concatenate([[False], quiet, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs = zip(edges[::2], edges[1::2], strict=True)
    return [(int(a), int(b)) for a, b in runs if b - a >= min_frames]


class PauseCutter:
    """Push blocks in, take pieces out; `finish` flushes the rest."""

    def __init__(
        self,
        target: tuple[float, float] = (20.0, 30.0),
        max_seconds: float = 60.0,
        min_pause: float = 0.15,
    ) -> None:
        self.lo = int(target[0] * 100)  # in frames
        self.hi = int(target[1] * 100)
        self.max = int(max_seconds * 100)
        self.min_pause = max(1, int(min_pause * 100))
        self._buffer = np.zeros(0, np.float32)
        self._start = 0

    def push(self, block: np.ndarray) -> list[Piece]:
        self._buffer = np.concatenate([self._buffer, np.asarray(block, np.float32).ravel()])
        out = []
        while self._buffer.size >= self.hi * FRAME:
            frame = self._cut_frame(final=False)
            if frame is None:
                break
            out.append(self._take(frame))
        return out

    def finish(self) -> list[Piece]:
        out = []
        while self._buffer.size > self.hi * FRAME:
            frame = self._cut_frame(final=True)
            if frame is None:
                break
            out.append(self._take(frame))
        if self._buffer.size:
            out.append(self._take(self._buffer.size // FRAME + 1))
        return out

    def _cut_frame(self, final: bool) -> int | None:
        """Frame to cut at, or None to wait for more audio (or, when final, keep it whole)."""
        energy = frame_energy_db(self._buffer[: self.max * FRAME])
        runs = pauses(quiet_frames(energy), self.min_pause)
        if not final and energy.size < self.max:
            # a pause touching the end of the buffer may still grow: wait until it ends
            runs = [(a, b) for a, b in runs if b < energy.size]
        for lo, hi in ((self.lo, self.hi), (self.lo, self.max)):
            near = [(b - a, (a + b) // 2) for a, b in runs if lo <= (a + b) // 2 <= hi]
            if near:
                return max(near)[1]
        if energy.size < self.max:
            return None
        smooth = np.convolve(energy, np.ones(5) / 5, mode="same")
        window = smooth[self.max - 1000 : self.max]
        return self.max - 1000 + int(np.argmin(window))

    def _take(self, frame: int) -> Piece:
        n = min(frame * FRAME, self._buffer.size)
        piece = Piece(self._start, self._buffer[:n].copy())
        self._buffer = self._buffer[n:].copy()
        self._start += n
        return piece


def cut_at_pauses(blocks: Iterable[np.ndarray], **options: float) -> Iterator[Piece]:
    """Pieces of a stream of 16 kHz mono blocks, cut in pauses (options: see PauseCutter)."""
    cutter = PauseCutter(**options)  # type: ignore[arg-type]
    for block in blocks:
        yield from cutter.push(block)
    yield from cutter.finish()


def voiced_seconds(x: np.ndarray) -> float:
    """Seconds of frames above the pause threshold: a rough measure of how much is spoken."""
    return float(np.count_nonzero(~quiet_frames(frame_energy_db(x)))) / 100.0
