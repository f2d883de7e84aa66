"""Each emotion as a whole-face ARKit-52 pose built from its EMFACS prototype (STANDARDS.md).

The poses cover the upper face (brows, lids, cheeks, nose) and the mouth corners. The channels
that open the lips (jaw, lip raise/lower, funnel: what rigs.mouth.lip_gap reads) belong to
articulation; the part of a prototype that opens the mouth (AU26 jaw drop, AU16, AU10) is kept
apart in `opening_for` for the articulator to use as it sees fit.
"""

from __future__ import annotations

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES
from emosync.rigs.emotions import EMOTIONS, N_EMOTIONS

# Channels a pose never writes: they part the lips, so articulation owns them.
GAP_CHANNELS: tuple[str, ...] = (
    "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLowerDownLeft",
    "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "tongueOut",
)  # fmt: skip


def _both(name: str, value: float) -> dict[str, float]:
    return {f"{name}Left": value, f"{name}Right": value}


# Action units in the comments; weights are for intensity 1.0.
_POSES: dict[str, dict[str, float]] = {
    "happy": {  # 6 cheek raiser + 12 lip corner puller (Duchenne smile)
        **_both("cheekSquint", 0.55), **_both("eyeSquint", 0.25),
        **_both("mouthSmile", 0.65), **_both("mouthDimple", 0.15),
        **_both("noseSneer", 0.06), "browInnerUp": 0.05,
    },
    "sad": {  # 1 inner brow raiser + 4 brow lowerer + 15 lip corner depressor + 17 chin raiser
        "browInnerUp": 0.7, **_both("browDown", 0.25), **_both("mouthFrown", 0.55),
        "mouthShrugLower": 0.35, **_both("eyeBlink", 0.12), **_both("eyeSquint", 0.1),
        **_both("mouthPress", 0.1),
    },
    "surprised": {  # 1 + 2 brow raisers + 5 upper lid raiser (+ 26 jaw drop: opening)
        "browInnerUp": 0.8, **_both("browOuterUp", 0.75), **_both("eyeWide", 0.7),
        "mouthShrugUpper": 0.05,
    },
    "fear": {  # 1 + 2 + 4 brows, 5 lid raiser, 7 lid tightener, 20 lip stretcher (+ 26)
        "browInnerUp": 0.75, **_both("browOuterUp", 0.4), **_both("browDown", 0.3),
        **_both("eyeWide", 0.65), **_both("eyeSquint", 0.2), **_both("mouthStretch", 0.5),
        **_both("mouthFrown", 0.1),
    },
    "angry": {  # 4 brow lowerer + 5 lid raiser + 7 lid tightener + 23 lip tightener
        **_both("browDown", 0.8), **_both("eyeWide", 0.25), **_both("eyeSquint", 0.45),
        **_both("mouthPress", 0.45), **_both("noseSneer", 0.2), **_both("mouthFrown", 0.15),
        "mouthRollLower": 0.1,
    },
    "disgusted": {  # 9 nose wrinkler + 15 lip corner depressor + 16 lower lip depressor
        **_both("noseSneer", 0.7), **_both("mouthFrown", 0.4), **_both("browDown", 0.35),
        **_both("cheekSquint", 0.3), **_both("eyeSquint", 0.25), "mouthShrugUpper": 0.3,
    },
    "contempt": {  # unilateral 12 + 14 on the subject's left
        "mouthSmileLeft": 0.45, "mouthSmileRight": 0.04, "mouthDimpleLeft": 0.5,
        "mouthPressLeft": 0.2, "mouthLeft": 0.12, "cheekSquintLeft": 0.15,
        "eyeSquintLeft": 0.12, "browDownRight": 0.1, "browOuterUpLeft": 0.08,
    },
}  # fmt: skip

_OPENINGS: dict[str, dict[str, float]] = {
    "surprised": {"jawOpen": 0.3},
    "fear": {"jawOpen": 0.15, **_both("mouthLowerDown", 0.15)},
    "disgusted": {**_both("mouthLowerDown", 0.3), **_both("mouthUpperUp", 0.35)},
    "happy": {**_both("mouthUpperUp", 0.1)},
}


def _matrix(table: dict[str, dict[str, float]]) -> np.ndarray:
    m = np.zeros((N_EMOTIONS, N_BLENDSHAPES), dtype=np.float64)
    for emotion, pose in table.items():
        for name, value in pose.items():
            m[EMOTIONS.index(emotion), ARKIT_NAMES.index(name)] = value
    return m


POSE_MATRIX = _matrix(_POSES)  # [7 × 52], one row per emotion at intensity 1
OPENING_MATRIX = _matrix(_OPENINGS)
assert not POSE_MATRIX[:, [ARKIT_NAMES.index(n) for n in GAP_CHANNELS]].any()

KNEE = 0.6  # below this a summed weight passes through unchanged


def soft_saturate(x: np.ndarray, knee: float = KNEE) -> np.ndarray:
    """Identity below `knee`, then an exponential approach to 1 with matching slope: mixtures
    and exaggerated intensities never exceed 1 and never clip with a visible corner."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    span = 1.0 - knee
    above = knee + span * (1.0 - np.exp(-(x - knee) / span))
    return np.where(x <= knee, x, above)


def pose_for(state: np.ndarray) -> np.ndarray:
    """ARKit-52 weights for an emotion state [7] (or a stack of states [... × 7])."""
    s = np.clip(np.asarray(state, dtype=np.float64), 0.0, None)
    if s.shape[-1] != N_EMOTIONS:
        raise ValueError(f"an emotion state has {N_EMOTIONS} entries, got shape {s.shape}")
    return soft_saturate(s @ POSE_MATRIX)


def opening_for(state: np.ndarray) -> np.ndarray:
    """The mouth-opening part of the prototypes (jawOpen, lip raise/lower), [... × 52]."""
    s = np.clip(np.asarray(state, dtype=np.float64), 0.0, None)
    return soft_saturate(s @ OPENING_MATRIX)


def pose_dict(emotion: str) -> dict[str, float]:
    """The non-zero channels of one emotion's pose at intensity 1 (for docs and inspection)."""
    row = POSE_MATRIX[EMOTIONS.index(emotion)]
    return {ARKIT_NAMES[i]: float(row[i]) for i in np.flatnonzero(row)}
