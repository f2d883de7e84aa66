"""Face landmarks to an ARKit-52 pose and an emotion state, with numpy alone.

The demo face's first 468 vertices are mediapipe's face-mesh landmarks, so its 52 target deltas
at those vertices are exactly how each shape moves the landmarks. A tracked face is brought onto
the demo face's neutral landmarks by a similarity transform (rotation, uniform scale,
translation), the 52 weights are fitted to what is left by bounded least squares, and the two
steps alternate so the expression does not bias the alignment.

The emotion read-out works on a few signed, region-level features of that pose (brow height,
eye aperture, mouth-corner lift, one-sidedness, ...) rather than on raw channels: antagonist
pairs (brow up/down, smile/frown) become one coordinate whose spread over different identities
can be measured. With a calibration (training/build_image_calibration.py: renders of the demo
face with varied identities, never the evaluation renders) each feature is taken relative to
the identities' mean neutral, weighted by the inverse of its identity spread, and the state is
the non-negative mixture of the seven calibrated prototypes that best explains it. Without one,
the pose is fitted against the prototypes of rigs.emotion_poses directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES
from emosync.rigs.demo_face import N_LANDMARKS, DemoFace, load_demo_face
from emosync.rigs.emotion_poses import GAP_CHANNELS, KNEE, POSE_MATRIX
from emosync.rigs.emotions import MAX_INTENSITY

ALIGN_ROUNDS = 4
DEPTH_WEIGHT = 0.35  # mediapipe's z is a guess from one view: trusted less than x and y
RIDGE = 0.02  # relative to the mean column energy of the target matrix
SYMMETRY = 0.15  # pull left and right of a pair together (contempt still gets its one side)
STATE_RIDGE = 0.01
MOUTH_WEIGHT = 4.0  # a smile or a frown is the least identity-bound evidence a photo has
ONESIDED_WEIGHT = 2.0
SPREAD_FLOOR = 0.1  # no feature is trusted beyond this spread, whatever the renders showed
FEATURE_NAMES = (
    "browLeft", "browRight", "browInner", "eyeLeft", "eyeRight", "cheekLeft", "cheekRight",
    "noseLeft", "noseRight", "press", "stretch", "shrugLower", "shrugUpper", "rollLower",
    "dimple", "liftLeft", "liftRight", "oneSided",
)  # fmt: skip

_I = {n: i for i, n in enumerate(ARKIT_NAMES)}
# Shapes a photo cannot tell apart from the face's identity or that the mesh barely moves.
_NOT_FITTED = ("tongueOut",)
_PAIRS = [(_I[n], _I[n[: -len("Left")] + "Right"]) for n in ARKIT_NAMES if n.endswith("Left")]
# The read-out uses what the emotion poses write: brows, lids, cheeks, nose, mouth corners.
EMOTION_CHANNELS = np.array(
    [i for i, n in enumerate(ARKIT_NAMES) if n not in GAP_CHANNELS and POSE_MATRIX[:, i].any()]
)


@dataclass
class ExpressionFit:
    weights: np.ndarray  # [52] in [0, 1]
    residual: float  # RMS landmark error after the fit, in demo-face metres
    rotation: np.ndarray  # [3 × 3], landmarks -> demo face
    scale: float

    @property
    def yaw(self) -> float:
        """The head's turn about the vertical axis as the alignment saw it, radians."""
        return yaw_of(self.rotation)


@dataclass
class TrackerCalibration:
    """How the landmark tracker sees the demo face: its neutral landmarks at several head
    turns (model space, aligned to the demo face) and the overall gain at which posed shapes
    come back through the tracker and the fit (it scales the read-out intensity). Built from
    renders of the demo face by training/build_image_calibration.py."""

    yaws: np.ndarray  # [k] radians, increasing (as yaw_of measures them)
    neutrals: np.ndarray  # [k × 468 × 3]
    gain: float
    feature_mean: np.ndarray | None = None  # [f], read-out features of neutral identities
    feature_spread: np.ndarray | None = None  # [f], their spread over identities
    prototypes: np.ndarray | None = None  # [7 × f], feature change per unit of each emotion

    def neutral_at(self, yaw: float) -> np.ndarray:
        """The tracked neutral, interpolated linearly between the calibrated head turns."""
        y = float(np.clip(yaw, self.yaws[0], self.yaws[-1]))
        hi = int(np.clip(np.searchsorted(self.yaws, y), 1, len(self.yaws) - 1))
        lo = hi - 1
        u = (y - self.yaws[lo]) / max(float(self.yaws[hi] - self.yaws[lo]), 1e-9)
        return (1.0 - u) * self.neutrals[lo] + u * self.neutrals[hi]


def yaw_of(rotation: np.ndarray) -> float:
    """The yaw (radians, about +Y) of a 3 x 3 rotation matrix."""
    return float(np.arctan2(rotation[0, 2], rotation[2, 2]))


def landmarks_to_model_space(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """mediapipe's normalised image landmarks [n × 3] -> a right-handed frame like the demo
    face's: +X image right (the subject's left when facing the camera), +Y up, +Z toward the
    viewer. Units are pixels; mediapipe's z is scaled like x."""
    lm = np.asarray(landmarks, dtype=np.float64)[:N_LANDMARKS]
    if lm.shape != (N_LANDMARKS, 3):
        raise ValueError(f"expected at least {N_LANDMARKS} landmarks [n × 3], got {lm.shape}")
    return np.stack([lm[:, 0] * width, -lm[:, 1] * height, -lm[:, 2] * width], axis=1)


def similarity(
    source: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """Umeyama: R, s, t minimising sum w_i |s R x_i + t - y_i|^2 (R a proper rotation)."""
    x = np.asarray(source, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mx, my = w @ x, w @ y
    xc, yc = x - mx, y - my
    cov = (yc * w[:, None]).T @ xc
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(3)
    d[2] = np.sign(np.linalg.det(u @ vt)) or 1.0
    rot = u @ np.diag(d) @ vt
    var = float(w @ (xc**2).sum(axis=1))
    scale = float((sig * d).sum() / var)
    return rot, scale, my - scale * mx @ rot.T


def box_least_squares(
    q: np.ndarray, b: np.ndarray, upper: float | np.ndarray = 1.0, iterations: int = 400
) -> np.ndarray:
    """argmin 0.5 xᵀQx - bᵀx over 0 <= x <= upper (Q symmetric positive semi-definite), by
    accelerated projected gradient (FISTA)."""
    step = 1.0 / max(float(np.linalg.eigvalsh(q)[-1]), 1e-12)
    x = np.zeros_like(b)
    z, t = x.copy(), 1.0
    for _ in range(iterations):
        x_new = np.clip(z - step * (q @ z - b), 0.0, upper)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        z = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
    return x


class ExpressionFitter:
    """Fits the demo face's 52 targets to tracked landmarks. Build once, fit many faces."""

    def __init__(
        self, face: DemoFace | None = None, calibration: TrackerCalibration | None = None
    ) -> None:
        face = face or load_demo_face()
        self.neutral = face.vertices[:N_LANDMARKS].astype(np.float64)
        self.calibration = calibration
        deltas = face.targets[:, :N_LANDMARKS].astype(np.float64)  # [52, 468, 3]
        self.deltas = deltas
        axis_w = np.array([1.0, 1.0, DEPTH_WEIGHT])
        a = (deltas * np.sqrt(axis_w)).reshape(N_BLENDSHAPES, -1).T  # [468*3, 52]
        for name in _NOT_FITTED:
            a[:, _I[name]] = 0.0
        self._a = a
        self._sqrt_w = np.sqrt(axis_w)
        gram = a.T @ a
        ridge = RIDGE * float(np.mean(np.diag(gram)))
        pair = np.zeros_like(gram)
        for left, right in _PAIRS:
            pair[[left, right], [left, right]] += 1.0
            pair[left, right] -= 1.0
            pair[right, left] -= 1.0
        self._q = (
            gram + ridge * np.eye(N_BLENDSHAPES) + SYMMETRY * float(np.mean(np.diag(gram))) * pair
        )

    def fit(self, points: np.ndarray) -> ExpressionFit:
        """`points` [468 × 3] in any similarity frame of the demo face (e.g. from
        landmarks_to_model_space) -> the fitted pose."""
        p = np.asarray(points, dtype=np.float64)[:N_LANDMARKS]
        weights = np.zeros(N_BLENDSHAPES)
        neutral = self.neutral
        if self.calibration is not None:
            rot, _, _ = similarity(p, neutral)
            neutral = self.calibration.neutral_at(yaw_of(rot))
        for _ in range(ALIGN_ROUNDS):
            shaped = neutral + np.tensordot(weights, self.deltas, axes=1)
            rot, scale, shift = similarity(p, shaped)
            aligned = scale * p @ rot.T + shift
            delta = ((aligned - neutral) * self._sqrt_w).reshape(-1)
            weights = box_least_squares(self._q, self._a.T @ delta)
        fitted = neutral + np.tensordot(weights, self.deltas, axes=1)
        residual = float(np.sqrt(np.mean(np.sum((aligned - fitted) ** 2, axis=1))))
        return ExpressionFit(weights.astype(np.float32), residual, rot, scale)


def unsaturate(weights: np.ndarray, knee: float = KNEE) -> np.ndarray:
    """The inverse of rigs.emotion_poses.soft_saturate (weights near 1 map to large sums)."""
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, 0.999)
    span = 1.0 - knee
    return np.where(w <= knee, w, knee - span * np.log1p(-(w - knee) / span))


def emotion_from_pose(weights: np.ndarray) -> np.ndarray:
    """The emotion state [7] whose prototype mixture best explains the pose's upper-face and
    mouth-corner channels (non-negative least squares, entries up to MAX_INTENSITY)."""
    w = unsaturate(np.asarray(weights, dtype=np.float64).reshape(N_BLENDSHAPES))
    basis = POSE_MATRIX[:, EMOTION_CHANNELS]  # [7 × c]
    gram = basis @ basis.T
    q = gram + STATE_RIDGE * float(np.mean(np.diag(gram))) * np.eye(len(basis))
    return box_least_squares(q, basis @ w[EMOTION_CHANNELS], upper=MAX_INTENSITY)


def readout_features(weights: np.ndarray) -> np.ndarray:
    """Signed region features of an ARKit pose [52] (or [n × 52]) in FEATURE_NAMES order."""
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))

    def g(name: str) -> np.ndarray:
        return w[:, _I[name]]

    def brow(side: str) -> np.ndarray:
        return g(f"browOuterUp{side}") + 0.5 * g("browInnerUp") - g(f"browDown{side}")

    def eye(side: str) -> np.ndarray:
        return g(f"eyeWide{side}") - g(f"eyeSquint{side}") - g(f"eyeBlink{side}")

    def both(name: str) -> np.ndarray:
        return g(f"{name}Left") + g(f"{name}Right")

    def lift(side: str) -> np.ndarray:
        return MOUTH_WEIGHT * (g(f"mouthSmile{side}") - g(f"mouthFrown{side}"))

    one_sided = (
        g("mouthSmileLeft") - g("mouthSmileRight") + g("mouthDimpleLeft")
        - g("mouthDimpleRight") + g("mouthLeft") - g("mouthRight")
    )  # fmt: skip
    columns = [
        brow("Left"), brow("Right"), g("browInnerUp"), eye("Left"), eye("Right"),
        g("cheekSquintLeft"), g("cheekSquintRight"), g("noseSneerLeft"), g("noseSneerRight"),
        both("mouthPress"), both("mouthStretch"), g("mouthShrugLower"), g("mouthShrugUpper"),
        g("mouthRollLower"), both("mouthDimple"), lift("Left"), lift("Right"),
        ONESIDED_WEIGHT * one_sided,
    ]  # fmt: skip
    out = np.stack(columns, axis=1)
    return out[0] if np.ndim(weights) == 1 else out


def emotion_from_features(weights: np.ndarray, calibration: TrackerCalibration) -> np.ndarray:
    """The emotion state [7]: the non-negative mixture of the calibrated prototypes that best
    explains the pose's features, each weighted by how little it varies between identities."""
    if calibration.prototypes is None or calibration.feature_spread is None:
        raise ValueError("the calibration has no read-out prototypes")
    spread = np.hypot(calibration.feature_spread, SPREAD_FLOOR)
    scale = 1.0 / spread
    scale /= np.sqrt(np.mean(scale**2))
    x = (readout_features(weights) - calibration.feature_mean) * scale
    basis = calibration.prototypes * scale  # [7 × f]
    gram = basis @ basis.T
    q = gram + STATE_RIDGE * float(np.mean(np.diag(gram))) * np.eye(len(basis))
    return box_least_squares(q, basis @ x, upper=MAX_INTENSITY, iterations=800)
