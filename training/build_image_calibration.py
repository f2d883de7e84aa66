"""Build inference/data/image_calibration.npz: how mediapipe's face mesh sees the demo face.

Renders the demo face at rest at several head turns (the tracked neutral landmarks per turn) and
each emotion's pose at intensity CALIBRATION_INTENSITY facing the camera (the per-shape gain at
which motion survives the tracker and the fit). The evaluation renders (intensity 1, frontal and
turned) are never used here.

    .venv/bin/python training/build_image_calibration.py
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_bytes
from emosync.exporters.preview import render
from emosync.inference.emotion_image import CALIBRATION_FILE, detect_faces
from emosync.inference.expression_fit import (
    ExpressionFitter,
    TrackerCalibration,
    landmarks_to_model_space,
    similarity,
    yaw_of,
)
from emosync.rigs.demo_face import load_demo_face
from emosync.rigs.emotion_poses import pose_for
from emosync.rigs.emotions import N_EMOTIONS

YAWS = (-0.5, -0.25, 0.0, 0.25, 0.5)
CALIBRATION_INTENSITY = 0.7
SIZE = (512, 512)
OUT = Path(__file__).resolve().parent.parent / "inference" / "data" / CALIBRATION_FILE


def tracked_points(weights: np.ndarray, yaw: float = 0.0) -> np.ndarray:
    rotations = np.zeros(9)
    rotations[0] = yaw
    image = render(load_demo_face(), weights, rotations, SIZE)
    faces = detect_faces(image)
    if len(faces) != 1:
        raise RuntimeError(f"expected one face in the render, found {len(faces)}")
    return landmarks_to_model_space(faces[0].landmarks, SIZE[0], SIZE[1])


def tracked_neutrals(fitter: ExpressionFitter) -> tuple[np.ndarray, np.ndarray]:
    yaws, neutrals = [], []
    for yaw in YAWS:
        points = tracked_points(np.zeros(52), yaw)
        rot, scale, shift = similarity(points, fitter.neutral)
        yaws.append(yaw_of(rot))
        neutrals.append(scale * points @ rot.T + shift)
    order = np.argsort(yaws)
    return np.asarray(yaws)[order], np.asarray(neutrals)[order]


def overall_gain(fitter: ExpressionFitter) -> float:
    """The least-squares gain at which posed shapes come back (fitted ≈ gain × posed) over the
    seven emotion renders. (Per-shape gains were tried: they amplify tracker noise into
    cross-talk between emotions.)"""
    num = den = 0.0
    for i in range(N_EMOTIONS):
        posed = pose_for(np.eye(N_EMOTIONS)[i] * CALIBRATION_INTENSITY)
        fitted = fitter.fit(tracked_points(posed)).weights
        num += float(fitted @ posed)
        den += float(posed @ posed)
    return num / den


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    geometric = ExpressionFitter()
    yaws, neutrals = tracked_neutrals(geometric)
    calibration = TrackerCalibration(yaws, neutrals, 1.0)
    gain = overall_gain(ExpressionFitter(calibration=calibration))
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        yaws=yaws.astype(np.float32),
        neutrals=neutrals.astype(np.float32),
        gain=np.float32(gain),
        intensity=np.float32(CALIBRATION_INTENSITY),
    )
    atomic_write_bytes(args.output, buffer.getvalue(), force=args.force)
    print(f"wrote {args.output}: yaws {np.round(yaws, 3).tolist()}")
    print(f"overall gain {gain:.3f}")


if __name__ == "__main__":
    main()
