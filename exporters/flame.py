"""FaceCurves → FLAME parameters (NPZ) and the user's FLAME mesh as an animated GLB.

The public entry points, for `animate`, `convert`, `batch` and `live` alike:

    rig = load_flame_rig("flame2023_Open.pkl", "mediapipe_landmark_embedding.npz")
    animation = to_flame(curves, rig)            # FlameAnimation
    write_flame_npz(animation, "out.npz")        # expression, jaw_pose, neck_pose, eye_pose, …
    export_flame_gltf(curves, "out.glb", rig)    # the FLAME mesh, ARKit targets as morphs

Head angles become `neck_pose` and the eye angles `eye_pose`, axis-angle in FLAME's frame
(the glTF one: +Y up, facing +Z, +X the subject's left) with the exporters' yaw-pitch-roll
convention (exporters/gltf_rotation.py). `eye_pose` is [frames × 6] in FLAME's joint order
(joint 3, then joint 4); `eye_pose_joints` says which is the subject's left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emosync.atomic import atomic_open, check_writable
from emosync.errors import InputError
from emosync.exporters.gltf import export_face_gltf
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.flame_face import flame_face
from emosync.rigs.flame_fit import FlameFit, cached_fit
from emosync.rigs.flame_landmarks import load_landmarks
from emosync.rigs.flame_model import FlameModel, axis_angle, load_flame_model

FLAME_SUFFIXES = (".npz", ".glb", ".gltf")


@dataclass(frozen=True)
class FlameRig:
    """A user's FLAME model with its ARKit fit: load once, convert many clips."""

    model: FlameModel
    fit: FlameFit
    path: Path


@dataclass
class FlameAnimation:
    fps: float
    expression: np.ndarray  # float32 [frames × n_exp]
    jaw_pose: np.ndarray  # float32 [frames × 3]
    neck_pose: np.ndarray  # float32 [frames × 3]
    eye_pose: np.ndarray  # float32 [frames × 6]: FLAME joints 3 and 4
    eye_pose_joints: tuple[str, str]  # ("left", "right") or ("right", "left")
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.expression.shape[0])

    def pose(self, frame: int) -> np.ndarray:
        """FLAME's full pose [5, 3] at `frame`: root (zero), neck, jaw, eye joints 3 and 4."""
        return np.stack(
            [
                np.zeros(3),
                self.neck_pose[frame],
                self.jaw_pose[frame],
                self.eye_pose[frame, :3],
                self.eye_pose[frame, 3:],
            ]
        ).astype(np.float64)


def load_flame_rig(
    model_path: str | Path,
    landmarks_path: str | Path | None = None,
    n_expressions: int | None = None,
) -> FlameRig:
    """Load (safely) the FLAME file and the optional landmark embedding; fit or read the fit."""
    model = load_flame_model(model_path, n_expressions)
    landmarks = load_landmarks(landmarks_path, model) if landmarks_path else None
    return FlameRig(model, cached_fit(model, model_path, landmarks), Path(model_path))


def euler_axis_angle(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """[frames × 3] axis-angle of Ry(yaw) Rx(pitch) Rz(roll), the exporters' convention."""
    y, p, r = (np.asarray(a, dtype=np.float64) for a in (yaw, pitch, roll))
    n = len(y)
    ry, rx, rz = np.tile(np.eye(3), (3, n, 1, 1))
    ry[:, 0, 0] = ry[:, 2, 2] = np.cos(y)
    ry[:, 0, 2], ry[:, 2, 0] = np.sin(y), -np.sin(y)
    rx[:, 1, 1] = rx[:, 2, 2] = np.cos(p)
    rx[:, 1, 2], rx[:, 2, 1] = -np.sin(p), np.sin(p)
    rz[:, 0, 0] = rz[:, 1, 1] = np.cos(r)
    rz[:, 0, 1], rz[:, 1, 0] = -np.sin(r), np.sin(r)
    return axis_angle(ry @ rx @ rz)


def _columns(curves: FaceCurves, names: tuple[str, ...] | list[str]) -> np.ndarray:
    where = {n: i for i, n in enumerate(curves.channels)}
    out = np.zeros((curves.n_frames, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        if name in where:
            out[:, j] = curves.values[:, where[name]]
    return out


def _missing_arkit(curves: FaceCurves) -> list[str]:
    """The ARKit channels `curves` lacks (they count as 0); none at all is an InputError."""
    missing = [n for n in ARKIT_NAMES if n not in curves.channels]
    if len(missing) == len(ARKIT_NAMES):
        raise InputError("FLAME output needs ARKit curves; these have no ARKit channels")
    return missing


def to_flame(curves: FaceCurves, rig: FlameRig) -> FlameAnimation:
    """The same animation as FLAME expression, jaw, neck and eye parameters per frame."""
    missing = _missing_arkit(curves)
    weights = _columns(curves, ARKIT_NAMES)
    fit = rig.fit
    neck = euler_axis_angle(*_columns(curves, ["headYaw", "headPitch", "headRoll"]).T)
    eyes = {
        side: euler_axis_angle(
            *_columns(curves, [f"{side}Eye{a}" for a in ("Yaw", "Pitch", "Roll")]).T
        )
        for side in ("left", "right")
    }
    left_joint, _ = rig.model.eye_joints()
    order = ("left", "right") if left_joint == 3 else ("right", "left")
    provenance = {
        **curves.metadata,
        "rig": "flame",
        "flame_model": rig.model.source,
        **fit.provenance(),
        "arkit_channels_missing": missing,
    }
    return FlameAnimation(
        fps=float(curves.fps),
        expression=(weights @ fit.expression).astype(np.float32),
        jaw_pose=(weights @ fit.jaw).astype(np.float32),
        neck_pose=neck.astype(np.float32),
        eye_pose=np.concatenate([eyes[order[0]], eyes[order[1]]], axis=1).astype(np.float32),
        eye_pose_joints=order,
        provenance=provenance,
    )


def flame_npz_arrays(animation: FlameAnimation) -> dict[str, np.ndarray]:
    """The arrays of the FLAME .npz (expression, jaw/neck/eye pose, fps, provenance)."""
    return {
        "expression": animation.expression,
        "jaw_pose": animation.jaw_pose,
        "neck_pose": animation.neck_pose,
        "eye_pose": animation.eye_pose,
        "eye_pose_joints": np.array(animation.eye_pose_joints),
        "fps": np.array(animation.fps, dtype=np.float64),
        "provenance": np.array(json.dumps(animation.provenance)),
    }


def write_flame_npz(animation: FlameAnimation, path: str | Path, force: bool = False) -> Path:
    """Write the FLAME parameters as an NPZ (no pickles), atomically."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise InputError(f"FLAME parameters are written as .npz, not {path.name}")
    check_writable(path, force=force)
    with atomic_open(path, "wb", force=force) as f:
        np.savez_compressed(f, **flame_npz_arrays(animation))
    return path


def export_flame_gltf(
    curves: FaceCurves, path: str | Path, rig: FlameRig, force: bool = False
) -> Path:
    """The user's FLAME mesh (.glb/.gltf), the 52 ARKit targets as FLAME-fitted morph targets,
    animated by `curves`; the head turns about FLAME's neck joint, the eyeballs about theirs."""
    return export_face_gltf(curves, path, flame_face(rig.model, rig.fit), force=force)


def write_flame_outputs(
    curves: FaceCurves, outputs: list[Path], rig: FlameRig, force: bool = False
) -> list[Path]:
    """Write each output by suffix: .npz FLAME parameters, .glb/.gltf the animated mesh."""
    _missing_arkit(curves)
    animation = None
    written = []
    for out in outputs:
        suffix = out.suffix.lower()
        if suffix == ".npz":
            animation = animation or to_flame(curves, rig)
            written.append(write_flame_npz(animation, out, force=force))
        elif suffix in (".glb", ".gltf"):
            written.append(export_flame_gltf(curves, out, rig, force=force))
        else:
            raise InputError(f"--rig flame writes {', '.join(FLAME_SUFFIXES)}, not {out.name}")
    return written
