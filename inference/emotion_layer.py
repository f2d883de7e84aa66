"""The emotion layer: per-frame whole-face poses from the emotion track, that breathe.

A held expression on a real face is never still: brows, lids, cheeks and mouth corners drift a
little, slowly and not in step. Each region's pose is scaled by its own slow modulation (a sum
of a few sinusoids between 0.1 and 0.4 Hz with seeded phases), so a neutral face stays exactly
neutral and a posed one varies by about ±12 % of its weights.
"""

from __future__ import annotations

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES
from emosync.rigs.emotion_poses import pose_for
from emosync.rigs.emotions import N_EMOTIONS

BREATH_DEPTH = 0.12  # peak modulation, as a fraction of the pose, at breathe = 1
BREATH_BAND = (0.1, 0.4)  # Hz
N_PARTIALS = 3
_POSE_ROWS = 16384  # frames posed per step (bounds the float64 work on long clips)

# Regions that move independently; left and right sides get their own modulation so the face is
# never perfectly symmetric for long.
_REGIONS: dict[str, tuple[str, ...]] = {
    "brows": ("browDown", "browInnerUp", "browOuterUp"),
    "lids": ("eyeSquint", "eyeWide", "eyeBlink"),
    "cheeks": ("cheekSquint", "noseSneer", "cheekPuff"),
    "mouth": ("mouthSmile", "mouthFrown", "mouthDimple", "mouthStretch", "mouthPress",
              "mouthShrug", "mouthRoll", "mouthLeft", "mouthRight"),
}  # fmt: skip


def region_of(name: str) -> str:
    """The face region an ARKit channel moves with: brows, lids, cheeks, mouth or other."""
    for region, prefixes in _REGIONS.items():
        if name.startswith(prefixes):
            return region
    return "other"


def _side(name: str) -> str:
    return "L" if name.endswith("Left") else "R" if name.endswith("Right") else "C"


_GROUPS = sorted({(region_of(n), _side(n)) for n in ARKIT_NAMES})
_GROUP_OF = np.array([_GROUPS.index((region_of(n), _side(n))) for n in ARKIT_NAMES])


def breath_modulation(
    n_frames: int,
    fps: float,
    seed: int = 0,
    depth: float = BREATH_DEPTH,
    rows: tuple[int, int] | None = None,
) -> np.ndarray:
    """Per-frame, per-channel multipliers around 1 [n_frames × 52], smooth and deterministic;
    `rows` (a, b) gives only frames a..b-1 of them."""
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xB8EA7E])
    a, b = rows if rows is not None else (0, int(n_frames))
    t = np.arange(a, b, dtype=np.float64) / float(fps)
    region_wave = {}
    for region in sorted({r for r, _ in _GROUPS}):
        region_wave[region] = _wave(t, rng)
    waves = np.empty((t.size, len(_GROUPS)))
    for g, (region, _side_name) in enumerate(_GROUPS):
        # Mostly the region's shared wave, partly the side's own.
        waves[:, g] = 0.75 * region_wave[region] + 0.25 * _wave(t, rng)
    return 1.0 + depth * waves[:, _GROUP_OF]


def emotion_pose_frames(
    emotion: np.ndarray, fps: float, seed: int = 0, breathe: float = 1.0
) -> np.ndarray:
    """Whole-face pose per frame [F × 52] (float32, in [0, 1]) for an emotion track [F × 7]."""
    states = np.asarray(emotion, dtype=np.float64)
    if states.ndim != 2 or states.shape[1] != N_EMOTIONS:
        raise ValueError(f"emotion must be [frames × {N_EMOTIONS}], got {states.shape}")
    out = np.empty((len(states), N_BLENDSHAPES), np.float32)
    for a in range(0, len(states), _POSE_ROWS):  # frame by frame: small float64 blocks
        b = min(len(states), a + _POSE_ROWS)
        pose = pose_for(states[a:b])
        if breathe > 0:
            depth = BREATH_DEPTH * breathe
            pose = pose * breath_modulation(len(states), fps, seed, depth, rows=(a, b))
        out[a:b] = np.clip(pose, 0.0, 1.0).reshape(b - a, N_BLENDSHAPES)
    return out


def _wave(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sum of slow sinusoids scaled to peak at ±1 at most."""
    freqs = rng.uniform(*BREATH_BAND, size=N_PARTIALS)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=N_PARTIALS)
    amps = rng.uniform(0.5, 1.0, size=N_PARTIALS)
    wave = (amps[None, :] * np.sin(2 * np.pi * freqs[None, :] * t[:, None] + phases)).sum(1)
    return wave / amps.sum()
