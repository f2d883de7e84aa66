"""Emotion from a reference voice: what is said (pocketsphinx words through the text branch)
and how (prosody: pitch level and range, loudness, speaking rate) as arousal.

Arousal is the mean of the prosody features' z-scores against NEUTRAL, the statistics of neutral
synthetic speech (espeak-ng voices at their default rate and pitch, see docs/emotion.md). It
scales the words' emotion; when the words carry none, a clearly aroused or subdued voice gives a
weak guess that is flagged in the warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emosync.errors import InputError
from emosync.inference.alignment import align
from emosync.inference.audio import SAMPLE_RATE, load_audio
from emosync.inference.emotion_text import text_emotion
from emosync.inference.features import frame_energy
from emosync.inference.onnx_model import ModelFileError
from emosync.rigs.emotions import EMOTIONS, MAX_INTENSITY, N_EMOTIONS

FRAME = 640  # 40 ms analysis window for pitch
HOP = 160  # 10 ms
F0_MIN, F0_MAX = 70.0, 400.0
VOICING_THRESHOLD = 0.25  # YIN's cumulative-mean-normalised difference at the chosen lag
ACTIVE_DB = 25.0  # frames within this of the clip's loudest count as speech
AROUSED = 1.0  # |arousal| beyond this is a clear deviation from neutral speech
GUESS = 0.3  # intensity of the prosody-only guess
SMOOTH_S = 0.08  # loudness envelope smoothing for syllable nuclei
PROMINENCE_DB = 3.0  # a nucleus rises this far above the dips around it
MIN_SYLLABLE_S = 0.12  # nuclei closer than this are one syllable (about 8 per second at most)

# Neutral reference: (mean, standard deviation) per feature over 24 neutral espeak-ng clips (six
# voices × four sentences at default rate and pitch); deviations below 1 dB / 1 syllable per
# second are not trusted, so those spreads are floored.
NEUTRAL: dict[str, tuple[float, float]] = {
    "pitch_semitones": (-2.4, 5.5),  # median f0, semitones re 150 Hz
    "pitch_range": (5.0, 2.4),  # 90th - 10th percentile of f0, semitones
    "loudness_range": (17.9, 2.0),  # 90th - 10th percentile of active-frame dB
    "rate": (6.5, 1.0),  # syllable nuclei per second of speech
}


@dataclass
class VoiceReading:
    state: np.ndarray  # [7]
    arousal: float
    words: str
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def pitch_track(samples: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """f0 in Hz per 10 ms hop (0 where unvoiced), by YIN's cumulative-mean-normalised
    difference computed through FFT autocorrelation."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size < FRAME:
        return np.zeros(0)
    n = 1 + (x.size - FRAME) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:n]
    frames = frames - frames.mean(axis=1, keepdims=True)
    lag_min, lag_max = int(sr / F0_MAX), int(sr / F0_MIN)
    size = 2 * FRAME
    spec = np.fft.rfft(frames, size, axis=1)
    acf = np.fft.irfft(spec * np.conj(spec), size, axis=1)[:, : lag_max + 2]
    energy = np.cumsum(frames**2, axis=1)
    total = energy[:, -1:]
    # d(τ) = Σ x_j² + Σ x_{j+τ}² - 2 r(τ) over the window's overlap
    lags = np.arange(acf.shape[1])
    head = total - np.concatenate([np.zeros((n, 1)), energy[:, : acf.shape[1] - 1]], axis=1)
    tail = energy[:, FRAME - 1 - lags]
    diff = np.maximum(head + tail - 2.0 * acf, 0.0)
    diff[:, 0] = 0.0
    running = np.cumsum(diff[:, 1:], axis=1) / np.arange(1, diff.shape[1])
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] / np.maximum(running, 1e-12)
    window = cmnd[:, lag_min : lag_max + 1]
    best = np.argmin(window, axis=1)
    lag = best + lag_min
    f0 = np.where(window[np.arange(n), best] < VOICING_THRESHOLD, sr / lag, 0.0)
    f0[total[:, 0] < 1e-6 * FRAME] = 0.0
    return f0


def prosody(samples: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
    """Pitch level and range (semitones), loudness range (dB) and rate (nuclei per second)."""
    f0 = pitch_track(samples, sr)
    voiced = f0[f0 > 0]
    db = frame_energy(samples, sr, HOP).astype(np.float64)
    active = db > db.max(initial=-100.0) - ACTIVE_DB
    seconds = max(float(active.sum()) * HOP / sr, 0.1)
    if voiced.size < 10:
        raise InputError("the reference voice has too little voiced speech to read")
    semis = 12.0 * np.log2(voiced / 150.0)
    return {
        "pitch_semitones": float(np.median(semis)),
        "pitch_range": float(np.percentile(semis, 90) - np.percentile(semis, 10)),
        "loudness_range": float(np.percentile(db[active], 90) - np.percentile(db[active], 10)),
        "rate": len(syllable_nuclei(db, _voiced_frames(f0, db.size))) / seconds,
    }


def _voiced_frames(f0: np.ndarray, n: int) -> np.ndarray:
    """The pitch track's voicing on the 10 ms loudness frames (a pitch frame starts at its hop
    and spans FRAME samples, so it is centred FRAME / 2 later than a loudness frame's start)."""
    shift = (FRAME // 2) // HOP - 1
    voiced = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(f0 > 0) + shift
    voiced[idx[idx < n]] = True
    return voiced


def arousal_of(features: dict[str, float]) -> float:
    """Mean z-score of the prosody features against neutral speech."""
    z = [(features[k] - mean) / std for k, (mean, std) in NEUTRAL.items()]
    return float(np.mean(z))


def voice_emotion(path: str | Path, intensity: float = 1.0) -> VoiceReading:
    """The emotion of a reference voice clip (WAV, FLAC, OGG, MP3)."""
    audio = load_audio(path)
    if audio.duration < 0.5:
        raise InputError(f"{path} is {audio.duration:.2f} s long; a reference voice needs 0.5 s")
    features = prosody(audio.samples)
    arousal = arousal_of(features)
    alignment = align(audio.samples)
    words = " ".join(w.label for w in alignment.words if w.label.upper() != "SIL")
    warnings: list[str] = []
    reading = None
    if words:
        try:
            reading = text_emotion(words)
        except ModelFileError as exc:
            warnings.append(f"words not read (text encoder unavailable: {exc}); prosody only")
    base = reading.state if reading is not None else np.zeros(N_EMOTIONS)
    scale = float(np.clip(1.0 + 0.25 * arousal, 0.5, 1.5))
    state = base * scale
    if not base.any():
        state, note = _prosody_guess(arousal)
        if note:
            warnings.append(note)
        elif not warnings:  # say why the reference gives nothing, once
            heard = f"the words ('{words[:40]}') carry no emotion" if words else "no words heard"
            warnings.append(
                f"{Path(path).name}: {heard} and the voice is neither aroused nor subdued; "
                "using neutral"
            )
    details = {
        "words": words,
        "text_source": reading.source if reading is not None else "none",
        "arousal": round(arousal, 3),
        "prosody": {k: round(v, 3) for k, v in features.items()},
        "duration": round(audio.duration, 3),
    }
    state = np.clip(state * float(intensity), 0.0, MAX_INTENSITY)
    return VoiceReading(state, arousal, words, warnings, details)


def _prosody_guess(arousal: float) -> tuple[np.ndarray, str | None]:
    state = np.zeros(N_EMOTIONS)
    if arousal > AROUSED:
        state[EMOTIONS.index("surprised")] = GUESS
        state[EMOTIONS.index("angry")] = GUESS / 2
        return state, (
            f"the words carry no emotion; the voice is aroused ({arousal:+.1f}), "
            "a weak surprised/angry guess"
        )
    if arousal < -AROUSED:
        state[EMOTIONS.index("sad")] = GUESS
        return state, (
            f"the words carry no emotion; the voice is subdued ({arousal:+.1f}), a weak sad guess"
        )
    return state, None


def syllable_nuclei(
    db: np.ndarray, voiced: np.ndarray, hop_s: float = HOP / SAMPLE_RATE
) -> np.ndarray:
    """Frame indices of syllable nuclei: peaks of the smoothed loudness envelope on voiced
    frames that stand PROMINENCE_DB above the dips on both sides and lie at least
    MIN_SYLLABLE_S apart (the taller peak wins)."""
    db = np.asarray(db, dtype=np.float64).reshape(-1)
    if db.size < 5:
        return np.zeros(0, dtype=int)
    width = max(3, int(round(SMOOTH_S / hop_s)) | 1)
    kernel = np.hanning(width + 2)[1:-1]
    floor = db.max() - ACTIVE_DB
    env = np.convolve(np.maximum(db, floor), kernel / kernel.sum(), mode="same")
    env = np.where(np.asarray(voiced, dtype=bool)[: env.size], env, floor)
    peaks = np.flatnonzero((env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:])) + 1
    peaks = peaks[env[peaks] > floor]
    peaks = peaks[[_prominence(env, p) >= PROMINENCE_DB for p in peaks]]
    gap = max(1, int(round(MIN_SYLLABLE_S / hop_s)))
    kept: list[int] = []
    for p in peaks[np.argsort(-env[peaks], kind="stable")]:
        if all(abs(int(p) - k) >= gap for k in kept):
            kept.append(int(p))
    return np.array(sorted(kept), dtype=int)


def _prominence(env: np.ndarray, peak: int) -> float:
    """How far a peak rises above the higher of the lowest points between it and the nearest
    taller peak (or the clip's end) on either side."""
    height = env[peak]
    left = env[:peak][::-1]
    right = env[peak + 1 :]
    bases = []
    for side in (left, right):
        taller = np.flatnonzero(side > height)
        stretch = side[: taller[0]] if taller.size else side
        bases.append(stretch.min() if stretch.size else height)
    return float(height - max(bases))
