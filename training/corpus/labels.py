"""Teacher labels per clip: the phonetic engine run with the known text, at the model's 50 fps.

Output frame k is at time k / 50 s. A clip of N samples at 16 kHz has 1 + N // 160 log-mel
frames (emosync.inference.features.log_mel), and the model emits one frame per two mel frames,
so a clip has (1 + N // 160) // 2 label frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emosync.inference.alignment import align
from emosync.inference.audio import SAMPLE_RATE
from emosync.inference.facecurves import resample_rows
from emosync.inference.features import frame_energy
from emosync.inference.life import LifeSettings, life_frames
from emosync.inference.phonetic import held, teacher_face
from emosync.inference.timed_phones import Alignment
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.emotions import emotion_state
from emosync.rigs.phonemes import PHONE_LABELS, normalise_phone

FPS = 50
HOP = 160
PHONE_INDEX = {p: i for i, p in enumerate(PHONE_LABELS)}
CURVE_NAMES: tuple[str, ...] = (*ARKIT_NAMES, "headYaw", "headPitch", "headRoll")


@dataclass
class Labels:
    curves: np.ndarray  # float32 [N × 55]
    phones: np.ndarray  # int16 [N], PHONE_LABELS index
    emotion: np.ndarray  # float32 [7]
    alignment: Alignment


def n_label_frames(n_samples: int) -> int:
    """Label frames (50 fps) for a clip of `n_samples` at 16 kHz."""
    return (1 + int(n_samples) // HOP) // 2


def phone_frames(alignment: Alignment, n_frames: int, fps: float = FPS) -> np.ndarray:
    """PHONE_LABELS index of the phone sounding at each frame time k / fps (SIL outside)."""
    out = np.zeros(n_frames, dtype=np.int16)
    times = np.arange(n_frames) / fps
    for seg in alignment.phones:
        idx = PHONE_INDEX[normalise_phone(seg.label)]
        out[(times >= seg.start) & (times < seg.end)] = idx
    return out


def _energy_at(samples: np.ndarray, n_frames: int) -> np.ndarray:
    energy = frame_energy(samples, SAMPLE_RATE, HOP)  # one per 10 ms hop
    return resample_rows(energy, SAMPLE_RATE / HOP, n_frames, FPS)


def teacher_curves(
    alignment: Alignment, samples: np.ndarray, state: np.ndarray, seed: int
) -> np.ndarray:
    """[N × 55] float32: articulation + emotion pose (no breathing) composed with no blinks or
    gaze, then head yaw/pitch/roll from life with only the head part on."""
    n = n_label_frames(len(samples))
    emo = held(state, n)
    weights, art = teacher_face(alignment, emo, FPS, seed)
    life = life_frames(
        n,
        FPS,
        _energy_at(samples, n),
        art.seal,
        emo,
        LifeSettings(blink=0.0, gaze=0.0, head=1.0),
        seed=seed,
    )
    return np.concatenate([weights, life.rotations[:, :3]], axis=1).astype(np.float32)


def make_labels(
    samples: np.ndarray,
    text: str | None,
    emotion: str,
    intensity: float,
    seed: int,
    alignment: Alignment | None = None,
) -> Labels:
    """Teacher curves and per-frame phones for 16 kHz mono `samples` spoken from `text`."""
    if alignment is None:
        alignment = align(samples, text)
    state = emotion_state(emotion, intensity)
    curves = teacher_curves(alignment, samples, state, seed)
    phones = phone_frames(alignment, len(curves))
    return Labels(curves, phones, state, alignment)
