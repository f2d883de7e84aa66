"""Lip-sync quality of one animation against a reference phone alignment.

Every rate is a share of events (phones, frames) that meet the rigs.mouth definitions, so a
clip's `score` keeps its counts and `aggregate` pools clips by summing counts, not by averaging
rates.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from emosync.inference.facecurves import FaceCurves
from emosync.inference.timed_phones import Alignment, Segment
from emosync.rigs import mouth
from emosync.rigs.phonemes import BILABIAL, OPEN_VOWELS, SILENCE, VOWELS, normalise_phone

EDGE_TOLERANCE = 0.020  # s; aligners work in 10 ms steps, allow two at each end of a phone
MIN_OPEN_VOWEL = 0.060  # s; shorter open vowels need not reach OPEN_JAW
MIN_PAUSE = 0.300  # s; a pause the face should rest in
PAUSE_MARGIN = 0.100  # s; settling time excluded at each end of a pause
JITTER_FPS = 60.0  # jaw_jitter is a second difference per (1 / JITTER_FPS s)^2
REVERSAL_DEADBAND = 0.5  # jawOpen units per second; slower motion has no direction
MAX_LAG = 0.200  # s; the search range of the jaw-to-vowel timing offset

# Rates computed from (numerator count, denominator count) by both score and aggregate.
RATES: dict[str, tuple[str, str]] = {
    "seal_rate": ("n_bilabial_sealed", "n_bilabial"),
    "open_vowel_rate": ("n_open_vowels_opened", "n_open_vowels"),
    "rest_rate": ("n_pause_frames_at_rest", "n_pause_frames"),
    "vowel_seal_share": ("n_vowel_frames_sealed", "n_vowel_frames"),
    "jaw_jitter": ("jitter_sum", "n_jitter_terms"),
    "jaw_reversals_per_s": ("n_vowel_reversals", "vowel_seconds"),
    "sync_lag_ms": ("lag_ms_x_frames", "n_lag_frames"),
}
COUNTS: tuple[str, ...] = tuple(dict.fromkeys(c for pair in RATES.values() for c in pair))


def frames_between(fps: float, n_frames: int, start: float, end: float) -> slice:
    """Frames whose time i / fps lies in [start, end]."""
    a = max(0, math.ceil(start * fps - 1e-9))
    b = min(n_frames, math.floor(end * fps + 1e-9) + 1)
    return slice(a, max(a, b))


def normalised_phones(reference: Alignment) -> list[Segment]:
    """The reference's phones with their labels in the project's phone set."""
    return [Segment(normalise_phone(p.label), p.start, p.end) for p in reference.phones]


def pauses(reference: Alignment, duration: float) -> list[tuple[float, float]]:
    """Stretches of the clip not covered by a speech phone (SIL segments and gaps), merged."""
    speech = sorted((p.start, p.end) for p in normalised_phones(reference) if p.label != SILENCE)
    out, t = [], 0.0
    for start, end in speech:
        if start > t:
            out.append((t, start))
        t = max(t, end)
    if duration > t:
        out.append((t, duration))
    return out


def _jaw_reversals(jaw: np.ndarray, fps: float) -> int:
    """Direction changes of the jaw, ignoring motion slower than REVERSAL_DEADBAND."""
    v = np.diff(jaw) * fps
    signs = np.sign(v[np.abs(v) > REVERSAL_DEADBAND])
    return int(np.count_nonzero(signs[1:] != signs[:-1])) if signs.size > 1 else 0


def sync_lag(jaw: np.ndarray, phones: list[Segment], fps: float) -> float | None:
    """Seconds by which jawOpen trails the reference vowels (negative: it leads), from the peak
    of their normalised cross-correlation within ±MAX_LAG; None without speech or jaw motion."""
    t = np.arange(jaw.size) / fps
    target = np.zeros(jaw.size)
    for p in phones:
        if p.label in VOWELS:
            target[(t >= p.start) & (t < p.end)] = 1.0
    max_lag = int(round(MAX_LAG * fps))
    if jaw.size <= 2 * max_lag + 2 or target.std() == 0 or jaw.std() == 0:
        return None
    best, best_lag = -np.inf, 0
    for lag in range(-max_lag, max_lag + 1):
        a = jaw[max(0, lag) : jaw.size + min(0, lag)]  # jaw at i + lag ...
        b = target[max(0, -lag) : target.size - max(0, lag)]  # ... against target at i
        if a.std() > 0 and b.std() > 0:
            r = float(np.corrcoef(a, b)[0, 1])
            if r > best:
                best, best_lag = r, lag
    return best_lag / fps


def score(curves: FaceCurves, reference: Alignment) -> dict[str, Any]:
    """Counts and rates for one clip (see RATES); rates are None where nothing was counted."""
    weights = curves.blendshapes()
    fps, n = float(curves.fps), curves.n_frames
    is_sealed = mouth.sealed(weights)
    jaw = mouth.jaw_open(weights).astype(np.float64)
    c: dict[str, float] = dict.fromkeys(COUNTS, 0)
    tol = EDGE_TOLERANCE

    for p in normalised_phones(reference):
        if p.label in BILABIAL:
            c["n_bilabial"] += 1
            c["n_bilabial_sealed"] += bool(
                is_sealed[frames_between(fps, n, p.start - tol, p.end + tol)].any()
            )
        if p.label in OPEN_VOWELS and p.duration >= MIN_OPEN_VOWEL:
            c["n_open_vowels"] += 1
            window = jaw[frames_between(fps, n, p.start - tol, p.end + tol)]
            c["n_open_vowels_opened"] += bool(window.size and window.max() >= mouth.OPEN_JAW)
        if p.label in VOWELS:
            # the vowel's core, away from the neighbouring consonants' closures
            core = frames_between(fps, n, p.start + tol, p.end - tol)
            c["n_vowel_frames"] += core.stop - core.start
            c["n_vowel_frames_sealed"] += int(is_sealed[core].sum())
            inner = jaw[frames_between(fps, n, p.start, p.end)]
            c["vowel_seconds"] += p.duration
            c["n_vowel_reversals"] += _jaw_reversals(inner, fps)

    duration = reference.duration or curves.duration
    rest = mouth.at_rest(weights)
    for start, end in pauses(reference, duration):
        if end - start >= MIN_PAUSE:
            window = frames_between(fps, n, start + PAUSE_MARGIN, end - PAUSE_MARGIN)
            c["n_pause_frames"] += window.stop - window.start
            c["n_pause_frames_at_rest"] += int(rest[window].sum())

    lag = sync_lag(jaw, normalised_phones(reference), fps)
    if lag is not None:
        c["lag_ms_x_frames"], c["n_lag_frames"] = 1000.0 * lag * n, n
    if n >= 3:
        d2 = np.abs(np.diff(jaw, 2)) * (fps / JITTER_FPS) ** 2
        c["jitter_sum"], c["n_jitter_terms"] = float(d2.sum()), n - 2
    return _with_rates(c)


def _with_rates(counts: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {k: counts[k] for k in COUNTS}
    for rate, (num, den) in RATES.items():
        out[rate] = float(counts[num] / counts[den]) if counts[den] else None
    return out


def aggregate(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool clip scores: counts are summed and rates recomputed, so each rate is weighted by
    its own count (bilabials, frames, seconds)."""
    totals = {k: sum(s[k] for s in scores) for k in COUNTS}
    return _with_rates(totals)
