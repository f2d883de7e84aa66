"""Build inference/data/image_calibration.npz: how mediapipe's face mesh sees the demo face.

Renders the demo face at rest at several head turns (the tracked neutral landmarks per turn),
each emotion's pose at intensity CALIBRATION_INTENSITY facing the camera (the overall gain at
which motion survives the tracker and the fit, for the uncalibrated fallback), and the read-out
set: IDENTITIES variants of the demo face (brow height, eye aperture, mouth width, lip
thickness, mouth-corner height and face length changed, to stand in for other people) at rest
and with each emotion at two intensities, at random head turns. The read-out features of those
renders give the identities' neutral mean and spread and, by least squares, each emotion's
calibrated prototype; two priors are then applied (see PRIORS). The evaluation renders (the
unchanged demo face at intensity 1, frontal and turned) are never used here.

    .venv/bin/python training/build_image_calibration.py
"""

from __future__ import annotations

import argparse
import dataclasses
import io
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_bytes
from emosync.exporters.preview import render
from emosync.inference.emotion_image import CALIBRATION_FILE, detect_faces
from emosync.inference.expression_fit import (
    FEATURE_NAMES,
    ExpressionFitter,
    TrackerCalibration,
    landmarks_to_model_space,
    readout_features,
    similarity,
    yaw_of,
)
from emosync.rigs.demo_face import DemoFace, load_demo_face, vertex_normals
from emosync.rigs.emotion_poses import pose_for
from emosync.rigs.emotions import EMOTIONS, N_EMOTIONS

YAWS = (-0.5, -0.25, 0.0, 0.25, 0.5)
CALIBRATION_INTENSITY = 0.7
SIZE = (512, 512)
IDENTITIES = 20
READOUT_INTENSITIES = (0.5, 1.0)
MAX_TURN = 0.3
SEED = 7
MM = 0.001
# Left/right differences of an identity variant, on top of its shared offsets (mm, ratio).
BROW_ASYMMETRY = 1.0
EYE_ASYMMETRY = 0.05
CORNER_ASYMMETRY = 0.6
# Priors on the calibrated prototypes (feature units):
# - a Duchenne smile's orbicularis oculi (AU6) pulls the brows down: happy explains low brows,
#   so a smiling person with naturally low brows is not read as angry;
# - contempt is one-sided: its symmetric corner lift is mostly left to happy, so that an
#   ordinary, slightly uneven smile is not read as contempt.
HAPPY_BROW_DOWN = 0.5
CONTEMPT_LIFT_SHARE = 0.1
OUT = Path(__file__).resolve().parent.parent / "inference" / "data" / CALIBRATION_FILE


def tracked_points(
    weights: np.ndarray, yaw: float = 0.0, face: DemoFace | None = None, supersample: int = 2
) -> np.ndarray:
    rotations = np.zeros(9)
    rotations[0] = yaw
    image = render(face or load_demo_face(), weights, rotations, SIZE, supersample=supersample)
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


def _bump(vertices: np.ndarray, centre: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * np.sum((vertices - centre) ** 2, axis=1) / sigma**2)


def identity_variant(face: DemoFace, rng: np.random.Generator) -> DemoFace:
    """The demo face with another person's proportions: brow height, eye aperture, mouth width,
    lip thickness, mouth-corner height and face length drawn at random, each side of the brows,
    eyes and mouth corners a little off the other (people are not symmetric, and a slightly
    uneven neutral must not read as contempt). Smooth local warps around mediapipe landmarks."""
    v = face.vertices.astype(np.float64)
    lm = v[:468].copy()
    brow_shift = rng.uniform(-3.0, 3.0) * MM
    above_eye = v[:, 1] > lm[159, 1] + 2 * MM
    for brow in (105, 334):
        side_shift = brow_shift + rng.uniform(-BROW_ASYMMETRY, BROW_ASYMMETRY) * MM
        v[:, 1] += side_shift * _bump(v, lm[brow], 14 * MM) * above_eye
    aperture = rng.uniform(0.85, 1.15)
    for upper, lower in ((159, 145), (386, 374)):
        side = aperture + rng.uniform(-EYE_ASYMMETRY, EYE_ASYMMETRY)
        centre = 0.5 * (lm[upper] + lm[lower])
        v[:, 1] += (side - 1.0) * (v[:, 1] - centre[1]) * _bump(v, centre, 9 * MM)
    mouth = 0.5 * (lm[61] + lm[291])
    mouth[1] = lm[13, 1]
    near = _bump(v, mouth, 22 * MM)
    v[:, 0] += (rng.uniform(0.9, 1.1) - 1.0) * (v[:, 0] - mouth[0]) * near
    v[:, 1] += (rng.uniform(0.85, 1.2) - 1.0) * (v[:, 1] - mouth[1]) * near
    corner_shift = rng.uniform(-1.5, 1.5) * MM
    for corner in (61, 291):
        side_shift = corner_shift + rng.uniform(-CORNER_ASYMMETRY, CORNER_ASYMMETRY) * MM
        v[:, 1] += side_shift * _bump(v, lm[corner], 8 * MM)
    v[:, 1] *= rng.uniform(0.94, 1.06)
    vertices = v.astype(np.float32)
    return dataclasses.replace(
        face, vertices=vertices, normals=vertex_normals(vertices, face.faces)
    )


def readout_set(fitter: ExpressionFitter) -> tuple[np.ndarray, np.ndarray]:
    """Fitted poses [n × 52] and their rendered states [n × 7] over the identity variants."""
    rng = np.random.default_rng(SEED)
    poses, states = [], []
    for _ in range(IDENTITIES):
        face = identity_variant(load_demo_face(), rng)
        wanted = [np.zeros(N_EMOTIONS)] + [
            np.eye(N_EMOTIONS)[i] * a for i in range(N_EMOTIONS) for a in READOUT_INTENSITIES
        ]
        for state in wanted:
            yaw = rng.uniform(-MAX_TURN, MAX_TURN)
            points = tracked_points(pose_for(state), yaw, face, supersample=1)
            poses.append(fitter.fit(points).weights)
            states.append(state)
    return np.asarray(poses, dtype=np.float64), np.asarray(states)


def readout_calibration(
    poses: np.ndarray, states: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neutral feature mean and spread over identities, and the prototypes with the priors."""
    features = readout_features(poses)
    neutral = states.sum(axis=1) == 0
    mean, spread = features[neutral].mean(axis=0), features[neutral].std(axis=0)
    prototypes = np.linalg.lstsq(states, features - mean, rcond=None)[0]
    f = {n: i for i, n in enumerate(FEATURE_NAMES)}
    happy, contempt = EMOTIONS.index("happy"), EMOTIONS.index("contempt")
    prototypes[happy, [f["browLeft"], f["browRight"]]] -= HAPPY_BROW_DOWN
    prototypes[contempt, [f["liftLeft"], f["liftRight"]]] *= CONTEMPT_LIFT_SHARE
    return mean, spread, prototypes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    geometric = ExpressionFitter()
    yaws, neutrals = tracked_neutrals(geometric)
    calibration = TrackerCalibration(yaws, neutrals, 1.0)
    calibrated = ExpressionFitter(calibration=calibration)
    gain = overall_gain(calibrated)
    mean, spread, prototypes = readout_calibration(*readout_set(calibrated))
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        yaws=yaws.astype(np.float32),
        neutrals=neutrals.astype(np.float32),
        gain=np.float32(gain),
        intensity=np.float32(CALIBRATION_INTENSITY),
        feature_mean=mean.astype(np.float32),
        feature_spread=spread.astype(np.float32),
        prototypes=prototypes.astype(np.float32),
    )
    atomic_write_bytes(args.output, buffer.getvalue(), force=args.force)
    print(f"wrote {args.output}: yaws {np.round(yaws, 3).tolist()}")
    print(f"overall gain {gain:.3f}")


if __name__ == "__main__":
    main()
