"""The final face: speech articulation + the emotion pose + "life" (blinks, gaze).

Upper face (eyes, brows, cheeks, nose): pose + life, clipped, with a blink closing eyes that the
pose holds wide. Mouth: the articulation owns the jaw and the lip contacts; the pose's
mouth-corner shapes (smile, frown, press, stretch, dimple, shrug) ride on top, eased where the
lips round, and the pose's lip-parting shapes (jawOpen, mouthUpperUp/LowerDown, funnel) give
way where speech closes the lips. The last step enforces the seal whatever the emotion: where
the seal demand reaches articulation.SEAL_DEMAND, rigs.mouth.lip_gap is zero.
"""

from __future__ import annotations

import numpy as np

from emosync.inference.articulation import SPEECH_CHANNELS, Articulation, closure_from_seal
from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES

_I = {n: i for i, n in enumerate(ARKIT_NAMES)}
_SPEECH = np.array([_I[n] for n in SPEECH_CHANNELS])
_BOTH = ("Left", "Right")

# mouth shapes of the pose that lips rounding for speech would fight
_CORNERS = tuple(f"mouth{s}{side}" for s in ("Smile", "Stretch") for side in _BOTH)
# shapes that part the lips (they enter rigs.mouth.lip_gap)
_PARTING = ("mouthFunnel", *(f"mouth{s}{side}" for s in ("UpperUp", "LowerDown") for side in _BOTH))


def _check(name: str, array: np.ndarray, n_frames: int) -> np.ndarray:
    a = np.asarray(array, dtype=np.float64)
    if a.shape != (n_frames, N_BLENDSHAPES):
        raise ValueError(f"{name} must be [{n_frames} × {N_BLENDSHAPES}], got {a.shape}")
    return np.clip(np.nan_to_num(a), 0.0, 1.0)


def _speech_activity(art: Articulation) -> np.ndarray:
    if art.speech is not None:
        return np.clip(np.asarray(art.speech, dtype=np.float64), 0.0, 1.0)
    # no activity given: speaking wherever the articulation moves the jaw beyond rest
    return np.clip(art.weights[:, _I["jawOpen"]] / 0.15, 0.0, 1.0).astype(np.float64)


def enforce_seal(weights: np.ndarray, seal: np.ndarray) -> np.ndarray:
    """Close the lips where a bilabial closure is demanded: lip-parting shapes are capped at
    1 - closure and mouthClose meets jawOpen. Fully sealed (lip gap 0) wherever
    seal >= SEAL_DEMAND. Weights that already respect the closure (articulate's output) pass
    unchanged. Returns a new [frames × 52] array; mouthClose never exceeds jawOpen."""
    w = np.array(weights, dtype=np.float64)
    closure = closure_from_seal(seal)
    for name in _PARTING:
        w[:, _I[name]] = np.minimum(w[:, _I[name]], 1.0 - closure)
    jaw = w[:, _I["jawOpen"]]
    close = np.maximum(w[:, _I["mouthClose"]], closure * jaw)
    w[:, _I["mouthClose"]] = np.where(closure >= 1.0, jaw, np.minimum(close, jaw))
    return w


def _mouth(art: np.ndarray, pose: np.ndarray, a: Articulation) -> np.ndarray:
    """Articulation plus the pose's mouth shapes, before the seal is enforced."""
    speech = _speech_activity(a)
    closure = closure_from_seal(a.seal)
    contact = np.maximum(closure, np.clip(np.asarray(a.labiodental, dtype=np.float64), 0, 1))
    rounding = np.clip(
        np.maximum(art[:, _I["mouthPucker"]], art[:, _I["mouthFunnel"]]) / 0.5, 0.0, 1.0
    )

    gain = np.ones_like(pose)
    # while speaking the articulation owns the jaw; contacts override the pose's jaw drop
    gain[:, _I["jawOpen"]] = (1.0 - 0.6 * speech) * (1.0 - contact)
    for name in _CORNERS:
        gain[:, _I[name]] = 1.0 - 0.5 * rounding
    for name in ("mouthPucker", "mouthFunnel", "mouthClose"):
        gain[:, _I[name]] = 1.0 - 0.5 * speech
    for name in _PARTING:
        gain[:, _I[name]] *= 1.0 - contact
    return art + pose * gain


def compose(art: Articulation, emotion_pose: np.ndarray, life: np.ndarray) -> np.ndarray:
    """The whole face [frames × 52] in [0, 1] from speech articulation, a per-frame emotion
    pose (whole-face FACS shapes) and life (blinks, gaze)."""
    n = art.n_frames
    pose = _check("emotion_pose", emotion_pose, n)
    extra = _check("life", life, n)
    speech_weights = np.clip(np.asarray(art.weights, dtype=np.float64), 0.0, 1.0)

    out = np.clip(pose + extra, 0.0, 1.0)  # upper face; blinks saturate at 1
    for side in _BOTH:
        blink = out[:, _I[f"eyeBlink{side}"]]
        out[:, _I[f"eyeWide{side}"]] *= 1.0 - blink
    mouth = _mouth(speech_weights, out, art)
    out[:, _SPEECH] = np.clip(mouth[:, _SPEECH], 0.0, 1.0)
    out = enforce_seal(out, art.seal)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
