"""ARKit → FLAME: each ARKit target of the demo face in FLAME's expression space plus a jaw
rotation, fitted once per FLAME file by least squares on landmark displacements.

For target k the demo face moves its mediapipe landmarks by D_k (metres). A similarity
transform (scale s, rotation R) that aligns the demo face's neutral landmarks to the FLAME
landmarks carries D_k into FLAME's frame: T_k = s R D_k. Then
- jawOpen, jawLeft, jawRight become a jaw rotation θ_k (axis-angle, FLAME's jaw joint): the
  rotation whose skinned landmarks best match T_k (Gauss-Newton on the posed FLAME model);
- every target's remaining displacement is fitted by FLAME expression coefficients e_k:
  min |B e − r|² + λ|e|², B the expression basis at the landmarks. FLAME's expression
  coefficients are standard normal by construction (its basis is scaled by the components'
  deviations), so this is the MAP estimate for landmark noise σ with λ = σ²: it only matters
  where the landmarks cannot tell components apart, and then it keeps the coefficients small.
A frame with ARKit weights w then has expression Σ w_k e_k and jaw pose Σ w_k θ_k. The fit error
per target is the RMS landmark distance of the posed FLAME model from the demo face's target.
The fit is cached beside the FLAME file (or in the cache folder), keyed by the SHA-256 of the
FLAME file, the landmark embedding and the demo face, and read back with allow_pickle=False.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.demo_face import DATA_FILE, N_LANDMARKS, load_demo_face
from emosync.rigs.flame_landmarks import FlameLandmarks, nearest_landmarks, similarity
from emosync.rigs.flame_model import JAW, N_JOINTS, FlameModel, cache_path, flame_vertices
from emosync.rigs.flame_model import save_npz_atomic as _save

FIT_VERSION = 1
JAW_TARGETS = ("jawOpen", "jawLeft", "jawRight")
LANDMARK_NOISE_MM = 0.05  # σ of the landmark correspondence; the ridge λ = σ²
GAUSS_NEWTON_STEPS = 12
STEP = 1e-4  # radians, for the jaw Jacobian


@dataclass(frozen=True)
class FlameFit:
    """Per ARKit target (rows in ARKIT_NAMES order): FLAME expression and jaw rotation."""

    expression: np.ndarray  # float64 [52, n_exp]
    jaw: np.ndarray  # float64 [52, 3] axis-angle
    rms_mm: np.ndarray  # float64 [52]: landmark RMS error of the fitted target, mm
    target_mm: np.ndarray  # float64 [52]: landmark RMS of the demo target itself, mm
    scale: float  # demo face → FLAME landmark scale
    model_sha256: str
    landmarks: str  # the embedding's file name, or how the correspondence was made
    landmarks_sha256: str
    demo_sha256: str
    n_landmarks: int

    @property
    def n_expressions(self) -> int:
        return int(self.expression.shape[1])

    def provenance(self) -> dict[str, object]:
        return {
            "flame_sha256": self.model_sha256,
            "flame_expressions": self.n_expressions,
            "landmarks": self.landmarks,
            "landmarks_sha256": self.landmarks_sha256,
            "fit_version": FIT_VERSION,
            "fit_landmarks": self.n_landmarks,
            "demo_face_sha256": self.demo_sha256,
        }


def demo_face_sha256() -> str:
    """The SHA-256 of the demo face data file (part of a fit's cache key)."""
    data = resources.files("emosync.rigs").joinpath("data", DATA_FILE).read_bytes()
    return hashlib.sha256(data).hexdigest()


def _landmark_points(
    model: FlameModel, landmarks: FlameLandmarks, pose: np.ndarray | None, ids: np.ndarray
) -> np.ndarray:
    """Landmarks [L, 3] of the model posed with `pose` (no expression)."""
    verts = flame_vertices(model, None, pose, vertices=ids.reshape(-1)).reshape(*ids.shape, 3)
    return np.einsum("lk,lkc->lc", landmarks.bary, verts)


def _fit_jaw(
    model: FlameModel, landmarks: FlameLandmarks, rest: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """The jaw axis-angle whose landmark displacement best matches `target` [L, 3]."""
    ids = landmarks.vertex_ids(model)
    theta = np.zeros(3)

    def displacement(t: np.ndarray) -> np.ndarray:
        pose = np.zeros((N_JOINTS, 3))
        pose[JAW] = t
        return (_landmark_points(model, landmarks, pose, ids) - rest).reshape(-1)

    goal = target.reshape(-1)
    for _ in range(GAUSS_NEWTON_STEPS):
        now = displacement(theta)
        jac = np.stack([(displacement(theta + STEP * e) - now) / STEP for e in np.eye(3)], 1)
        damping = 1e-6 * np.trace(jac.T @ jac) + 1e-12
        delta = np.linalg.solve(jac.T @ jac + damping * np.eye(3), jac.T @ (goal - now))
        theta = theta + delta
        if np.abs(delta).max() < 1e-7:
            break
    return theta


def expression_basis(model: FlameModel, landmarks: FlameLandmarks) -> np.ndarray:
    """FLAME's expression basis at the landmarks, [3L, n_exp]."""
    corners = model.expr_dirs[landmarks.vertex_ids(model)]  # [L, 3 corners, 3, n]
    return np.einsum("lk,lkcn->lcn", landmarks.bary, corners).reshape(-1, model.n_expressions)


def fit_flame(model: FlameModel, landmarks: FlameLandmarks | None = None) -> FlameFit:
    """Fit every ARKit target of the demo face to `model` (see the module docstring)."""
    demo = load_demo_face()
    if landmarks is None:
        landmarks = nearest_landmarks(model, demo.vertices[:N_LANDMARKS])
    mp = landmarks.mediapipe
    rest = landmarks.points(model.v_template, model)
    scale, rot, _ = similarity(demo.vertices[mp].astype(np.float64), rest)
    targets = scale * demo.targets[:, mp].astype(np.float64) @ rot.T  # [52, L, 3]

    basis = expression_basis(model, landmarks)
    gram = basis.T @ basis
    gram += (LANDMARK_NOISE_MM * 1e-3) ** 2 * np.eye(len(gram))
    ids = landmarks.vertex_ids(model)
    n = len(ARKIT_NAMES)
    expression = np.zeros((n, model.n_expressions))
    jaw = np.zeros((n, 3))
    rms = np.zeros(n)
    size = np.sqrt((targets**2).sum(axis=2).mean(axis=1)) * 1000.0
    for k, name in enumerate(ARKIT_NAMES):
        residual = targets[k]
        if name in JAW_TARGETS and size[k] > 0:
            jaw[k] = _fit_jaw(model, landmarks, rest, targets[k])
            pose = np.zeros((N_JOINTS, 3))
            pose[JAW] = jaw[k]
            residual = targets[k] - (_landmark_points(model, landmarks, pose, ids) - rest)
        expression[k] = np.linalg.solve(gram, basis.T @ residual.reshape(-1))
        pose = np.zeros((N_JOINTS, 3))
        pose[JAW] = jaw[k]
        verts = flame_vertices(model, expression[k], pose, vertices=ids.reshape(-1))
        moved = np.einsum("lk,lkc->lc", landmarks.bary, verts.reshape(*ids.shape, 3)) - rest
        rms[k] = np.sqrt(((moved - targets[k]) ** 2).sum(axis=1).mean()) * 1000.0
    return FlameFit(
        expression=expression,
        jaw=jaw,
        rms_mm=rms,
        target_mm=size,
        scale=scale,
        model_sha256=model.sha256,
        landmarks=landmarks.source,
        landmarks_sha256=landmarks.sha256,
        demo_sha256=demo_face_sha256(),
        n_landmarks=len(mp),
    )


# --------------------------------------------------------------------------- cache


def fit_cache_file(model: FlameModel, model_path: Path, landmarks: FlameLandmarks | None) -> Path:
    """Where the fit of this FLAME model (and landmark file) is cached."""
    key = landmarks.sha256[:12] if landmarks is not None else "nearest"
    suffix = f".emosync-flamefit-v{FIT_VERSION}-e{model.n_expressions}-{key}.npz"
    return cache_path(Path(model_path), model.sha256, suffix)


def _fit_arrays(fit: FlameFit) -> dict[str, np.ndarray]:
    return {
        "expression": fit.expression,
        "jaw": fit.jaw,
        "rms_mm": fit.rms_mm,
        "target_mm": fit.target_mm,
        "scale": np.array(fit.scale, dtype=np.float64),
        "model_sha256": np.array(fit.model_sha256),
        "landmarks": np.array(fit.landmarks),
        "landmarks_sha256": np.array(fit.landmarks_sha256),
        "demo_sha256": np.array(fit.demo_sha256),
        "n_landmarks": np.array(fit.n_landmarks, dtype=np.int64),
        "version": np.array(FIT_VERSION, dtype=np.int64),
    }


def _read_fit(path: Path) -> FlameFit | None:
    try:
        with np.load(path, allow_pickle=False) as d:
            if int(d["version"]) != FIT_VERSION:
                return None
            return FlameFit(
                expression=d["expression"],
                jaw=d["jaw"],
                rms_mm=d["rms_mm"],
                target_mm=d["target_mm"],
                scale=float(d["scale"]),
                model_sha256=str(d["model_sha256"]),
                landmarks=str(d["landmarks"]),
                landmarks_sha256=str(d["landmarks_sha256"]),
                demo_sha256=str(d["demo_sha256"]),
                n_landmarks=int(d["n_landmarks"]),
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return None


def cached_fit(
    model: FlameModel, model_path: str | Path, landmarks: FlameLandmarks | None = None
) -> FlameFit:
    """The fit for this FLAME file, landmark embedding and demo face: read from the cache when
    every checksum matches, else fitted now and cached."""
    path = fit_cache_file(model, Path(model_path), landmarks)
    if path.is_file():
        fit = _read_fit(path)
        if (
            fit is not None
            and fit.model_sha256 == model.sha256
            and fit.landmarks_sha256 == (landmarks.sha256 if landmarks else "")
            and fit.demo_sha256 == demo_face_sha256()
            and fit.expression.shape == (len(ARKIT_NAMES), model.n_expressions)
        ):
            return fit
    fit = fit_flame(model, landmarks)
    _save(path, _fit_arrays(fit))
    return fit
