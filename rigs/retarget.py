"""Linear retargets from ARKit-52 weights to other rig vocabularies (VRM 1.0 expressions, the
15 Oculus visemes).

Each target expression is described by a prototype ARKit pose p_k: the weights an ARKit face
would show while making that expression. The retarget matrix is the ridge least-squares decoder
R = (P Pᵀ + λI)⁻¹ P: for a face w it gives the mix a of prototypes with Pᵀa closest to w, so a
face at rest drives every target to 0 and a face in a distinctive prototype drives that target
near 1. Shapes ARKit cannot tell apart (the tongue positions of DD and kk) share their weight.
`retarget` applies the matrix and clips to [0, 1].
"""

from __future__ import annotations

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES
from emosync.rigs.mouth import sealed

VRM_EXPRESSIONS: tuple[str, ...] = (
    "happy", "angry", "sad", "relaxed", "surprised",
    "aa", "ih", "ou", "ee", "oh",
    "blink", "blinkLeft", "blinkRight",
    "lookUp", "lookDown", "lookLeft", "lookRight",
    "neutral",
)  # fmt: skip

OCULUS_VISEMES: tuple[str, ...] = (
    "sil",
    "PP",
    "FF",
    "TH",
    "DD",
    "kk",
    "CH",
    "SS",
    "nn",
    "RR",
    "aa",
    "E",
    "ih",
    "oh",
    "ou",
)


def _both(name: str, value: float) -> dict[str, float]:
    return {f"{name}Left": value, f"{name}Right": value}


# "Left" is the subject's left (STANDARDS.md): looking to their left turns the left eye out and
# the right eye in. `neutral` and `sil` are the rest pose and have no prototype.
_VRM_POSES: dict[str, dict[str, float]] = {
    "happy": {**_both("mouthSmile", 0.7), **_both("cheekSquint", 0.5), **_both("eyeSquint", 0.2)},
    "angry": {**_both("browDown", 0.8), **_both("eyeSquint", 0.4), **_both("noseSneer", 0.3),
              **_both("mouthPress", 0.4)},
    "sad": {"browInnerUp": 0.7, **_both("mouthFrown", 0.6), "mouthShrugLower": 0.3},
    "relaxed": {**_both("mouthSmile", 0.35), **_both("eyeBlink", 0.3), "browInnerUp": 0.1},
    "surprised": {"browInnerUp": 0.8, **_both("browOuterUp", 0.7), **_both("eyeWide", 0.7),
                  "jawOpen": 0.25},
    "aa": {"jawOpen": 0.7, **_both("mouthLowerDown", 0.3)},
    "ih": {"jawOpen": 0.25, **_both("mouthStretch", 0.4), **_both("mouthUpperUp", 0.2)},
    "ou": {"jawOpen": 0.15, "mouthPucker": 0.8, "mouthFunnel": 0.4},
    "ee": {"jawOpen": 0.2, **_both("mouthStretch", 0.6), **_both("mouthSmile", 0.2)},
    "oh": {"jawOpen": 0.45, "mouthFunnel": 0.7, "mouthPucker": 0.3},
    "blink": _both("eyeBlink", 1.0),
    "blinkLeft": {"eyeBlinkLeft": 1.0},
    "blinkRight": {"eyeBlinkRight": 1.0},
    "lookUp": _both("eyeLookUp", 1.0),
    "lookDown": _both("eyeLookDown", 1.0),
    "lookLeft": {"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0},
    "lookRight": {"eyeLookInLeft": 1.0, "eyeLookOutRight": 1.0},
}  # fmt: skip

_VISEME_POSES: dict[str, dict[str, float]] = {
    "PP": {"mouthClose": 0.15, "jawOpen": 0.1, **_both("mouthPress", 0.5),
           "mouthRollLower": 0.3, "mouthRollUpper": 0.2},
    "FF": {"jawOpen": 0.1, "mouthRollLower": 0.7, **_both("mouthUpperUp", 0.3)},
    "TH": {"jawOpen": 0.2, "tongueOut": 0.6},
    "DD": {"jawOpen": 0.25, **_both("mouthStretch", 0.2), **_both("mouthUpperUp", 0.1)},
    "kk": {"jawOpen": 0.3, **_both("mouthStretch", 0.35)},
    "CH": {"jawOpen": 0.15, "mouthFunnel": 0.6, **_both("mouthUpperUp", 0.3),
           "mouthShrugUpper": 0.2},
    "SS": {"jawOpen": 0.08, **_both("mouthStretch", 0.5), **_both("mouthSmile", 0.15)},
    "nn": {"jawOpen": 0.18, **_both("mouthPress", 0.1), "mouthShrugLower": 0.2},
    "RR": {"jawOpen": 0.15, "mouthPucker": 0.4, "mouthFunnel": 0.3},
    "aa": {"jawOpen": 0.7, **_both("mouthLowerDown", 0.3)},
    "E": {"jawOpen": 0.35, **_both("mouthStretch", 0.45), **_both("mouthLowerDown", 0.2)},
    "ih": {"jawOpen": 0.25, **_both("mouthStretch", 0.25), **_both("mouthUpperUp", 0.25)},
    "oh": {"jawOpen": 0.45, "mouthFunnel": 0.7, "mouthPucker": 0.3},
    "ou": {"jawOpen": 0.12, "mouthPucker": 0.85, "mouthFunnel": 0.35},
}  # fmt: skip


def _prototypes(names: tuple[str, ...], poses: dict[str, dict[str, float]]) -> np.ndarray:
    index = {n: i for i, n in enumerate(ARKIT_NAMES)}
    out = np.zeros((len(names), N_BLENDSHAPES), dtype=np.float64)
    for row, name in enumerate(names):
        for channel, value in poses.get(name, {}).items():
            out[row, index[channel]] = value
    return out


RIDGE = 0.01  # keeps the decoder bounded where prototypes are nearly parallel


def _decoder(prototypes: np.ndarray) -> np.ndarray:
    gram = prototypes @ prototypes.T + RIDGE * np.eye(len(prototypes))
    return np.linalg.solve(gram, prototypes).astype(np.float32)


VRM_PROTOTYPES = _prototypes(VRM_EXPRESSIONS, _VRM_POSES)  # [18 × 52]
VISEME_PROTOTYPES = _prototypes(OCULUS_VISEMES, _VISEME_POSES)  # [15 × 52]
ARKIT_TO_VRM = _decoder(VRM_PROTOTYPES)  # [18 × 52]
ARKIT_TO_VISEMES = _decoder(VISEME_PROTOTYPES)  # [15 × 52]


def retarget(weights: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """[frames × 52] ARKit weights → [frames × targets] weights in [0, 1]."""
    w = np.asarray(weights, dtype=np.float32)
    if w.ndim != 2 or w.shape[1] != N_BLENDSHAPES:
        raise ValueError(f"weights must be [frames × {N_BLENDSHAPES}], got {w.shape}")
    return np.clip(w @ np.asarray(matrix, dtype=np.float32).T, 0.0, 1.0)


def to_vrm(weights: np.ndarray) -> np.ndarray:
    """ARKit weights → VRM 1.0 expression weights, columns in VRM_EXPRESSIONS order."""
    return retarget(weights, ARKIT_TO_VRM)


PP_CLOSE = 0.2  # mouthClose at which a sealed closure counts as a full PP


def to_visemes(weights: np.ndarray) -> np.ndarray:
    """ARKit weights → Oculus viseme weights, columns in OCULUS_VISEMES order.

    Lips sealed against an open jaw (mouthClose holding them shut) are a bilabial whatever else
    the mouth does, so PP is at least that closure: a projection alone can miss it when the
    seal comes without the press and roll of the PP prototype (the neural engine's seals)."""
    w = np.asarray(weights, dtype=np.float32)
    out = retarget(w, ARKIT_TO_VISEMES)
    close = w[:, ARKIT_NAMES.index("mouthClose")]
    closure = np.clip(close / PP_CLOSE, 0.0, 1.0) * sealed(w)
    pp = OCULUS_VISEMES.index("PP")
    out[:, pp] = np.maximum(out[:, pp], closure)
    return out
