"""The demo face's 52 target fields carried onto a tracked portrait, and the landmarks of a frame.

The demo face's first 468 vertices are mediapipe landmarks, so each ARKit target is a
displacement field on the landmarks. A similarity fit (Umeyama) of the demo's neutral landmarks
to the tracked ones gives the face's pose and scale; the fields are rotated and scaled with it.
Three things are fitted to the photo rather than copied: the lips are closed at rest (a photo
with parted lips would otherwise never close on a bilabial), each eyeBlink field is scaled so
that the lids of this photo meet, and the iris points follow the lids between them. Eye rotations
move the iris, head rotations turn everything about the demo face's neck pivot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emosync.exporters.preview import rotation_matrix
from emosync.inference.expression_fit import similarity
from emosync.render.mouth import mouth_axes
from emosync.rigs import face_landmarks as lm
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.demo_face import N_LANDMARKS, DemoFace, load_demo_face

GLTF_TO_IMAGE = np.diag([1.0, -1.0, -1.0])  # +Y up, +Z to the viewer -> y down, z away
EYE_RADIUS_M = 0.012  # eyeball centre to the front of the cornea
MAX_GAZE = 0.3  # the iris moves at most this fraction of the eye's width
LIP_SPREAD = 0.2  # the lip closure fades over this fraction of the mouth width
JAW_TARGETS = [ARKIT_NAMES.index(n) for n in ("jawOpen", "jawLeft", "jawRight", "jawForward")]
# the photo's own expression eased out at rest: the mouth corners' shapes only. The fitter also
# reads rolled, puckered or pressed lips into a relaxed mouth (Franck's closed mouth: pucker
# 0.76, roll 0.5); taking those out too left his lips apart, and no bilabial closed (2 of 15)
NEUTRALISED = [
    ARKIT_NAMES.index(n)
    for n in ARKIT_NAMES
    if n.startswith(("mouthSmile", "mouthFrown", "mouthDimple", "mouthStretch"))
]
# the targets that carry an expression rather than speech; expression_gain scales their fields
# (a 2D warp has no shading to sell them). The jaw, the lips' opening, closing, rolling and
# pucker, blinks and gaze keep their extent, so the lips stay in sync and seal
EXPRESSION_TARGETS = [
    ARKIT_NAMES.index(n)
    for n in ARKIT_NAMES
    if n.startswith(("brow", "eyeSquint", "eyeWide", "cheekSquint", "noseSneer", "mouthSmile"))
    or n.startswith(("mouthFrown", "mouthDimple", "mouthStretch", "mouthPress", "mouthShrug"))
]
EXPRESSION_GAIN = 1.0  # the default gain: chosen on two photos (docs/rendering.md)
# upper and lower lid points facing each other across the middle of each eye
BLINK_PAIRS = {
    "eyeBlinkRight": tuple(zip(lm.EYE_R_UP[3:6], lm.EYE_R_LO[3:6], strict=True)),
    "eyeBlinkLeft": tuple(zip(lm.EYE_L_UP[3:6], lm.EYE_L_LO[3:6], strict=True)),
}


@dataclass(frozen=True)
class FaceMotion:
    """A tracked face ready to move: rest landmarks, carried fields and the head pivot."""

    rest: np.ndarray  # float64 [478, 3] pixels: the photo's landmarks with the lips closed
    fields: np.ndarray  # float32 [52, 478, 3] pixel displacement of each target at weight 1
    rotation: np.ndarray  # [3, 3] the face's frame (image axes of the demo face) -> camera
    scale: float  # pixels per metre
    pivot: np.ndarray  # [3] the neck, pixels
    mouth_width: float  # pixels between the inner lip corners at rest

    def head_rotation(self, rotations: np.ndarray) -> np.ndarray:
        """The camera-frame rotation of the head for yaw, pitch, roll (radians, glTF frame)."""
        local = GLTF_TO_IMAGE @ rotation_matrix(*rotations[:3]) @ GLTF_TO_IMAGE
        return self.rotation @ local @ self.rotation.T

    def pose(self, weights: np.ndarray, rotations: np.ndarray) -> np.ndarray:
        """The 478 landmarks [478, 3] of a frame: `weights` [52] in [0, 1], `rotations` [9]
        (head yaw, pitch, roll, left eye yaw, pitch, roll, right eye …; radians)."""
        w = np.clip(np.asarray(weights, dtype=np.float32), 0.0, 1.0)
        active = np.flatnonzero(w > 1e-4)
        points = self.rest.copy()
        if active.size:
            points += np.tensordot(w[active], self.fields[active], axes=1)
        points[list(lm.IRIS_L)] += self._gaze(rotations[3:5], lm.EYE_L_UP, lm.EYE_L_LO)
        points[list(lm.IRIS_R)] += self._gaze(rotations[6:8], lm.EYE_R_UP, lm.EYE_R_LO)
        return self.rigid(points, rotations)

    def rigid(self, points: np.ndarray, rotations: np.ndarray) -> np.ndarray:
        """`points` [n, 3] turned with the head about the neck pivot."""
        turn = self.head_rotation(rotations)
        return (points - self.pivot) @ turn.T + self.pivot

    def jaw_offset(self, weights: np.ndarray) -> np.ndarray:
        """How far the jaw shapes alone (jawOpen, jawLeft, jawRight, jawForward) move the
        middle of the lower lip, before the head turns: where the lower teeth go. [3] pixels."""
        w = np.clip(np.asarray(weights, dtype=np.float32)[JAW_TARGETS], 0.0, 1.0)
        return np.tensordot(w, self.fields[JAW_TARGETS, lm.LIP_INNER_LO[5]], axes=1).astype(
            np.float64
        )

    def _gaze(
        self, angles: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...]
    ) -> np.ndarray:
        yaw, pitch = float(angles[0]), float(angles[1])
        if yaw == 0.0 and pitch == 0.0:
            return np.zeros(3)
        look = np.array([np.sin(yaw) * np.cos(pitch), -np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
        shift = self.scale * EYE_RADIUS_M * (self.rotation @ GLTF_TO_IMAGE @ (look - [0, 0, 1]))
        width = np.linalg.norm(self.rest[upper[0], :2] - self.rest[upper[-1], :2])
        limit = MAX_GAZE * width
        length = np.linalg.norm(shift[:2])
        if length > limit:
            shift *= limit / length
        return shift


def face_motion(
    points: np.ndarray,
    expression: np.ndarray | None = None,
    face: DemoFace | None = None,
    expression_gain: float = EXPRESSION_GAIN,
) -> FaceMotion:
    """Carry the demo face's target fields onto tracked landmarks `points` [478, 3] (pixels).

    `expression` [52], the photo's own fitted ARKit pose: its mouth corners' shapes
    (NEUTRALISED) are taken out of the rest pose, so that a smiling photo rests neutral and
    every emotion starts from there. `expression_gain` scales the fields of the
    EXPRESSION_TARGETS (after the easing, which undoes the photo's pose at its own extent)."""
    face = face or load_demo_face()
    demo = face.vertices[:N_LANDMARKS].astype(np.float64) @ GLTF_TO_IMAGE
    tracked = np.asarray(points, dtype=np.float64)
    rot, scale, shift = similarity(demo, tracked[:N_LANDMARKS])
    local = face.targets[:, :N_LANDMARKS].astype(np.float64) @ GLTF_TO_IMAGE
    fields = np.zeros((len(ARKIT_NAMES), len(tracked), 3))
    fields[:, :N_LANDMARKS] = scale * local @ rot.T
    rest = tracked.copy()
    if expression is not None:
        w = np.clip(np.asarray(expression, dtype=np.float64)[NEUTRALISED], 0.0, 1.0)
        rest -= np.tensordot(w, fields[NEUTRALISED], axes=1)
    rest += lip_closure(rest)
    fields[EXPRESSION_TARGETS] *= expression_gain
    for name, pairs in BLINK_PAIRS.items():
        k = ARKIT_NAMES.index(name)
        fields[k] *= blink_gain(rest, fields[k], pairs)
    for iris, upper, lower in ((lm.IRIS_L, lm.EYE_L_UP, lm.EYE_L_LO),
                               (lm.IRIS_R, lm.EYE_R_UP, lm.EYE_R_LO)):  # fmt: skip
        follow_lids(fields, rest, iris, upper, lower)
    pivot = scale * rot @ (GLTF_TO_IMAGE @ face.head_pivot.astype(np.float64)) + shift
    return FaceMotion(
        rest=rest,
        fields=fields.astype(np.float32),
        rotation=rot,
        scale=scale,
        pivot=pivot,
        mouth_width=mouth_axes(rest[list(lm.LIP_INNER_UP)])[2],
    )


def lip_closure(points: np.ndarray) -> np.ndarray:
    """Displacements [478, 3] that close the photo's parted lips: each inner-lip pair meets
    halfway, and the points around follow with a Gaussian fall-off."""
    upper, lower = list(lm.LIP_INNER_UP[1:-1]), list(lm.LIP_INNER_LO[1:-1])
    _, down, width = mouth_axes(points[list(lm.LIP_INNER_UP)])
    width = max(width, 1e-6)
    gap = points[lower] - points[upper]  # [9, 3]
    opening = gap[:, :2] @ down
    gap[opening <= 0] = 0.0  # lips already touching (or tracked overlapping): leave them
    if not gap.any():
        return np.zeros_like(points)
    seeds = np.concatenate([points[upper, :2], points[lower, :2]])
    moves = np.concatenate([0.5 * gap, -0.5 * gap])
    dist = np.linalg.norm(points[:, None, :2] - seeds[None], axis=2)  # [478, 18]
    nearest = dist.argmin(axis=1)
    near = dist[np.arange(len(points)), nearest] / (LIP_SPREAD * width)
    floor = np.exp(-4.0)  # nothing moves beyond twice the spread
    fall = np.clip((np.exp(-(near**2)) - floor) / (1.0 - floor), 0.0, 1.0)
    out = moves[nearest] * fall[:, None]
    out[upper], out[lower] = 0.5 * gap, -0.5 * gap
    return out


def blink_gain(rest: np.ndarray, field: np.ndarray, pairs: tuple[tuple[int, int], ...]) -> float:
    """The factor that makes a blink field close this photo's lids exactly at weight 1."""
    opening = closure = 0.0
    for up, low in pairs:
        gap = rest[low, :2] - rest[up, :2]
        unit = gap / max(float(np.linalg.norm(gap)), 1e-6)
        opening += float(np.linalg.norm(gap))
        closure += float((field[up, :2] - field[low, :2]) @ unit)
    if closure <= 1e-6:
        return 1.0
    return float(np.clip(opening / closure, 0.25, 4.0))


def follow_lids(
    fields: np.ndarray,
    rest: np.ndarray,
    iris: tuple[int, ...],
    upper: tuple[int, ...],
    lower: tuple[int, ...],
) -> None:
    """Give the iris points the fields of the lids around them, mixed by where they sit
    between the upper and the lower lid (so a blink folds nothing)."""
    for i in iris:
        x, y = rest[i, :2]
        up = upper[int(np.argmin(np.abs(rest[list(upper), 0] - x)))]
        low = lower[int(np.argmin(np.abs(rest[list(lower), 0] - x)))]
        span = rest[low, 1] - rest[up, 1]
        t = float(np.clip((y - rest[up, 1]) / span, 0.0, 1.0)) if span > 1e-6 else 0.5
        fields[:, i] = (1 - t) * fields[:, up] + t * fields[:, low]
