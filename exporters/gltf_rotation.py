"""Head and eye angles (radians) to glTF quaternions, and the few quaternion operations we need:
the one quaternion kit (the Blender add-on uses it too, turning (x, y, z, w) into Blender's
(w, x, y, z) with `wxyz` at its boundary).

Axis convention (glTF: metres, +Y up, the face looks along +Z, so +X is the subject's left),
the same numbers the Live Link CSV carries in HeadYaw/HeadPitch/HeadRoll and the eye columns:
  yaw   about +Y: positive turns the face towards the subject's left;
  pitch about +X: positive tips the face down (the top of the head moves forward, +Z);
  roll  about +Z: positive tilts the top of the head towards the subject's right.
Angles compose intrinsically yaw, then pitch, then roll: q = q_yaw * q_pitch * q_roll.
Quaternions are glTF order (x, y, z, w).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def axis_angle_quaternions(axis: Sequence[float], angle: np.ndarray) -> np.ndarray:
    """Rotations by `angle` [N] about a unit axis vector, as [N, 4] (x, y, z, w)."""
    half = np.asarray(angle, dtype=np.float64).reshape(-1) * 0.5
    q = np.zeros((half.size, 4))
    q[:, :3] = np.sin(half)[:, None] * np.asarray(axis, dtype=np.float64) + 0.0  # no -0.0
    q[:, 3] = np.cos(half)
    return q


def axis_quaternion(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotations by `angle` [N] about the unit axis 0=X, 1=Y, 2=Z, as [N, 4] (x, y, z, w)."""
    return axis_angle_quaternions(np.eye(3)[axis], angle)


def wxyz(q: np.ndarray) -> np.ndarray:
    """(x, y, z, w) quaternions in Blender's (w, x, y, z) order."""
    return np.roll(np.asarray(q, dtype=np.float64), 1, axis=-1)


def xyzw(q: np.ndarray) -> np.ndarray:
    """Blender's (w, x, y, z) quaternions in glTF's (x, y, z, w) order."""
    return np.roll(np.asarray(q, dtype=np.float64), -1, axis=-1)


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b of [N, 4] or [4] quaternions (x, y, z, w), broadcasting."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def conjugate(q: np.ndarray) -> np.ndarray:
    """The conjugate (inverse, for unit quaternions) of x y z w quaternions."""
    q = np.asarray(q, dtype=np.float64)
    return q * np.array([-1.0, -1.0, -1.0, 1.0])


def euler_to_quaternions(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Per-frame yaw/pitch/roll (radians, convention above) to unit quaternions [N, 4]."""
    q = multiply(axis_quaternion(1, yaw), axis_quaternion(0, pitch))
    return multiply(q, axis_quaternion(2, roll))


def continuous_unit(q: np.ndarray) -> np.ndarray:
    """Normalise [N, 4] quaternions and flip signs so neighbours stay on one hemisphere
    (glTF LINEAR rotation is a slerp between keys; a sign flip would spin the long way)."""
    return continuous_rows(q).astype(np.float32)


def continuous_rows(q: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """continuous_unit in float64, for the rows after `previous` (the float64 last row of the
    piece before, or None), so a clip written piece by piece gets the same quaternions."""
    q = np.array(q, dtype=np.float64, copy=True)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    if previous is not None and len(q) and np.dot(q[0], previous) < 0.0:
        q[0] = -q[0]
    for i in range(1, len(q)):
        if np.dot(q[i], q[i - 1]) < 0.0:
            q[i] = -q[i]
    return q


def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """The rotation of a 3×3 matrix (columns may carry scale) as a unit quaternion (x, y, z, w)."""
    r = np.asarray(m, dtype=np.float64)
    r = r / np.maximum(np.linalg.norm(r, axis=0, keepdims=True), 1e-12)
    tr = np.trace(r)
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [(r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4]
    else:
        i = int(np.argmax(np.diag(r)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(max(1.0 + r[i, i] - r[j, j] - r[k, k], 1e-12))
        q = [0.0, 0.0, 0.0, (r[k, j] - r[j, k]) / s]
        q[i] = s / 4
        q[j] = (r[j, i] + r[i, j]) / s
        q[k] = (r[k, i] + r[i, k]) / s
    quat = np.asarray(q)
    return quat / np.linalg.norm(quat)


def rotate_vectors(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v [..., 3] by the unit quaternion q [4]."""
    qv = np.concatenate([np.asarray(v, dtype=np.float64), np.zeros((*np.shape(v)[:-1], 1))], -1)
    return multiply(multiply(q, qv), conjugate(q))[..., :3]
