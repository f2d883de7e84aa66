"""evaluation.metrics on hand-built curves and alignments."""

from __future__ import annotations

import numpy as np
import pytest

from emosync.evaluation.metrics import aggregate, pauses, score
from emosync.inference.facecurves import FaceCurves
from emosync.inference.timed_phones import Alignment, Segment
from emosync.rigs import mouth
from emosync.rigs.channels import INDEX, N_CHANNELS

JAW, CLOSE = INDEX["jawOpen"], INDEX["mouthClose"]


def curves_from(fps: float, duration: float, jaw=None, close=None) -> FaceCurves:
    """Curves with jawOpen / mouthClose given as functions of time (seconds); rest elsewhere."""
    t = np.arange(int(round(duration * fps))) / fps
    values = np.zeros((t.size, N_CHANNELS), np.float32)
    if jaw is not None:
        values[:, JAW] = jaw(t)
    if close is not None:
        values[:, CLOSE] = close(t)
    return FaceCurves(fps, values)


def alignment(*phones: tuple[str, float, float], duration: float) -> Alignment:
    return Alignment([Segment(*p) for p in phones], duration=duration)


# "a mama": SIL, AH, M, AA, M, AA, SIL
MAMA = alignment(
    ("SIL", 0.0, 0.5),
    ("AH0", 0.5, 0.6),
    ("M", 0.6, 0.7),
    ("AA1", 0.7, 0.9),
    ("M", 0.9, 1.0),
    ("AA0", 1.0, 1.2),
    ("SIL", 1.2, 2.0),
    duration=2.0,
)


def speaking_jaw(t: np.ndarray) -> np.ndarray:
    """Jaw open 0.5 in the vowels, closed in pauses and on the Ms."""
    open_ = ((t >= 0.52) & (t < 0.58)) | ((t >= 0.72) & (t < 0.88)) | ((t >= 1.02) & (t < 1.18))
    return np.where(open_, 0.5, 0.0)


def test_sealed_bilabials_score_one_and_open_ones_zero() -> None:
    good = score(curves_from(60, 2.0, jaw=speaking_jaw), MAMA)
    assert good["n_bilabial"] == 2
    assert good["seal_rate"] == 1.0
    assert good["open_vowel_rate"] == 1.0

    always_open = score(curves_from(60, 2.0, jaw=lambda t: np.full_like(t, 0.5)), MAMA)
    assert always_open["seal_rate"] == 0.0
    assert always_open["open_vowel_rate"] == 1.0
    assert always_open["rest_rate"] == 0.0


def test_mouth_close_cancels_jaw_for_the_seal() -> None:
    # the jaw stays open but mouthClose brings the lips together on the Ms
    def close(t: np.ndarray) -> np.ndarray:
        return np.where(((t >= 0.6) & (t < 0.7)) | ((t >= 0.9) & (t < 1.0)), 0.3, 0.0)

    s = score(curves_from(60, 2.0, jaw=lambda t: np.full_like(t, 0.3), close=close), MAMA)
    assert s["seal_rate"] == 1.0


def test_seal_one_frame_late_within_tolerance_but_not_beyond() -> None:
    one = alignment(("AA", 0.0, 0.4), ("M", 0.4, 0.5), ("AA", 0.5, 1.0), duration=1.0)

    def closed_between(a: float, b: float):
        return lambda t: np.where((t >= a) & (t < b), 0.0, 0.5)

    assert score(curves_from(100, 1.0, jaw=closed_between(0.51, 0.53)), one)["seal_rate"] == 1.0
    assert score(curves_from(100, 1.0, jaw=closed_between(0.55, 0.60)), one)["seal_rate"] == 0.0


def test_open_vowel_needs_open_jaw_and_short_ones_are_not_counted() -> None:
    ref = alignment(("AA", 0.0, 0.3), ("AE", 0.3, 0.34), ("IY", 0.34, 0.6), duration=0.6)
    half = score(curves_from(60, 0.6, jaw=lambda t: np.full_like(t, mouth.OPEN_JAW / 2)), ref)
    assert half["n_open_vowels"] == 1  # AE is under 60 ms
    assert half["open_vowel_rate"] == 0.0
    full = score(curves_from(60, 0.6, jaw=lambda t: np.full_like(t, mouth.OPEN_JAW)), ref)
    assert full["open_vowel_rate"] == 1.0


def test_pause_at_rest_and_pause_edges_excluded() -> None:
    s = score(curves_from(60, 2.0, jaw=speaking_jaw), MAMA)
    # pauses 0–0.5 and 1.2–2.0, less 100 ms at each end: 0.3 s + 0.6 s of frames
    assert s["n_pause_frames"] == pytest.approx(0.9 * 60, abs=2)
    assert s["rest_rate"] == 1.0
    # a jaw still settling in the first 100 ms of the final pause does not count against it
    settling = score(
        curves_from(60, 2.0, jaw=lambda t: speaking_jaw(t) + 0.5 * (np.abs(t - 1.25) < 0.04)), MAMA
    )
    assert settling["rest_rate"] == 1.0
    short = alignment(("AA", 0.0, 0.3), ("SIL", 0.3, 0.55), ("AA", 0.55, 1.0), duration=1.0)
    assert score(curves_from(60, 1.0), short)["n_pause_frames"] == 0


def test_gaps_between_phones_count_as_pauses() -> None:
    ref = alignment(("AA", 0.5, 0.8), ("B", 0.8, 0.9), duration=1.5)
    assert pauses(ref, 1.5) == [(0.0, 0.5), (0.9, 1.5)]


def test_jitter_larger_for_noisy_curves() -> None:
    smooth = score(curves_from(60, 2.0, jaw=lambda t: 0.3 + 0.2 * np.sin(2 * np.pi * 3 * t)), MAMA)
    rng = np.random.default_rng(0)
    noisy = score(
        curves_from(
            60,
            2.0,
            jaw=lambda t: 0.3 + 0.2 * np.sin(2 * np.pi * 3 * t) + rng.normal(0, 0.03, t.size),
        ),
        MAMA,
    )
    assert noisy["jaw_jitter"] > 3 * smooth["jaw_jitter"]
    assert noisy["jaw_reversals_per_s"] > smooth["jaw_reversals_per_s"]


def test_fps_independence() -> None:
    def jaw(t: np.ndarray) -> np.ndarray:
        return 0.3 + 0.2 * np.sin(2 * np.pi * 2.5 * t)

    at30, at60, at120 = (score(curves_from(fps, 2.0, jaw=jaw), MAMA) for fps in (30, 60, 120))
    assert at30["jaw_jitter"] == pytest.approx(at60["jaw_jitter"], rel=0.05)
    assert at120["jaw_jitter"] == pytest.approx(at60["jaw_jitter"], rel=0.05)
    for key in ("seal_rate", "open_vowel_rate", "jaw_reversals_per_s"):
        assert at30[key] == at60[key] == at120[key]
    assert at30["rest_rate"] == pytest.approx(at60["rest_rate"], abs=0.05)


def test_aggregate_weights_by_counts() -> None:
    good = score(curves_from(60, 2.0, jaw=speaking_jaw), MAMA)  # 2 of 2 sealed
    one_b = alignment(("AA", 0.0, 0.3), ("B", 0.3, 0.4), ("AA", 0.4, 0.7), duration=0.7)
    bad = score(curves_from(60, 0.7, jaw=lambda t: np.full_like(t, 0.5)), one_b)  # 0 of 1
    pooled = aggregate([good, bad])
    assert pooled["n_bilabial"] == 3
    assert pooled["seal_rate"] == pytest.approx(2 / 3)
    assert pooled["n_pause_frames"] == good["n_pause_frames"]


def test_no_events_gives_none_not_nan() -> None:
    s = score(curves_from(60, 1.0), alignment(("IY", 0.0, 1.0), duration=1.0))
    assert s["seal_rate"] is None and s["open_vowel_rate"] is None and s["rest_rate"] is None


def test_sync_lag_finds_a_late_jaw() -> None:
    def vowel_jaw(t: np.ndarray) -> np.ndarray:
        inside = ((t >= 0.5) & (t < 0.6)) | ((t >= 0.7) & (t < 0.9)) | ((t >= 1.0) & (t < 1.2))
        return np.where(inside, 0.5, 0.0)

    on_time = score(curves_from(60, 2.0, jaw=vowel_jaw), MAMA)
    late = score(curves_from(60, 2.0, jaw=lambda t: vowel_jaw(t - 0.1)), MAMA)
    early = score(curves_from(60, 2.0, jaw=lambda t: vowel_jaw(t + 0.05)), MAMA)
    assert abs(on_time["sync_lag_ms"]) <= 17
    assert late["sync_lag_ms"] == pytest.approx(100, abs=17)
    assert early["sync_lag_ms"] == pytest.approx(-50, abs=17)
    assert score(curves_from(60, 2.0), MAMA)["sync_lag_ms"] is None  # a still jaw has no timing
