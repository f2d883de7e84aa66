"""A FLAME-structured stand-in built from EmoSync's demo face, for tests and docs/flame.md.

The real FLAME model cannot be shipped or downloaded here, so this writes a file with FLAME's
layout — a protocol-2 pickle of a dict with `v_template`, `f`, `shapedirs` (300 identity then
the expression components), `posedirs`, a scipy.sparse `J_regressor` (when scipy is present),
`weights`, `kintree_table`, values wrapped in chumpy-like `Ch` objects — whose mesh is the demo
face (moved, turned and scaled, eyeballs appended) and whose expression basis is made of KNOWN
combinations of the demo face's ARKit targets: basis = targets[EXPRESSION_SOURCES] @ mixing. The
fit must then find expression = mixing⁻¹ · unit vector for every target in that set (and its
negative for a target that is the exact opposite of one, like mouthLeft of mouthRight). The jaw is
a skinned joint below the ears; jawOpen is left out of the basis, so only the jaw can open it.
Also writes a mediapipe landmark embedding NPZ in the FLAME site's layout.
"""

from __future__ import annotations

import pickle
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.demo_face import N_LANDMARKS, load_demo_face

N_IDENTITY = 300
# The demo face's targets the expression basis is built from: all but jawOpen (the jaw's),
# tongueOut (no landmark moves) and those that are (nearly) the negative of another one.
OPPOSITES = {
    "eyeLookOutLeft": "eyeLookInLeft",
    "eyeLookOutRight": "eyeLookInRight",
    "mouthLeft": "mouthRight",
    "jawLeft": "jawRight",
}
_LEFT_OUT = ("jawOpen", "tongueOut", "eyeLookDownLeft", "eyeLookDownRight", *OPPOSITES)
EXPRESSION_SOURCES = tuple(n for n in ARKIT_NAMES if n not in _LEFT_OUT)
SCALE = 1.08  # FLAME-like mesh = SCALE · R · demo + SHIFT
TILT = 0.06  # radians about +X
SHIFT = np.array([0.002, 0.031, 0.058])
N_EMBEDDED = 105  # the FLAME site's embedding has 105 mediapipe points


@dataclass(frozen=True)
class SyntheticFlame:
    arrays: dict[str, np.ndarray]  # FLAME's keys, plain numpy
    mixing: (
        np.ndarray
    )  # [50, 50]: basis column j = Σ_i mixing[i, j] · target(EXPRESSION_SOURCES[i])
    embedding: dict[str, np.ndarray]  # lmk_face_idx, lmk_b_coords, landmark_indices


def _turn(points: np.ndarray) -> np.ndarray:
    c, s = np.cos(TILT), np.sin(TILT)
    rot = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    return SCALE * np.asarray(points, np.float64) @ rot.T


def _regressor_row(vertices: np.ndarray, ids: list[int], point: np.ndarray) -> np.ndarray:
    """Weights on 4 vertices (an affine combination) that reproduce `point` exactly."""
    a = np.vstack([vertices[ids].T, np.ones(len(ids))])
    row = np.zeros(len(vertices))
    row[ids] = np.linalg.solve(a, np.append(point, 1.0))
    return row


def build_synthetic_flame(
    n_expressions: int = 50, seed: int = 0, n_embedded: int = N_EMBEDDED
) -> SyntheticFlame:
    """The FLAME-like model and its landmark embedding (see the module docstring)."""
    if n_expressions < len(EXPRESSION_SOURCES):
        raise ValueError(f"n_expressions must be at least {len(EXPRESSION_SOURCES)}")
    rng = np.random.default_rng(seed)
    demo = load_demo_face()
    n_face = len(demo.vertices)
    parts = [_turn(demo.vertices) + SHIFT]
    faces = [demo.faces.astype(np.int64)]
    offset = n_face
    eye_ranges = []
    for eye in demo.eyes:
        parts.append(_turn(eye.vertices + eye.center) + SHIFT)
        faces.append(eye.faces.astype(np.int64) + offset)
        eye_ranges.append((offset, offset + len(eye.vertices)))
        offset += len(eye.vertices)
    v = np.concatenate(parts)
    n_v = len(v)

    targets = np.zeros((len(ARKIT_NAMES), n_v, 3))
    targets[:, :n_face] = _turn(demo.targets.reshape(-1, 3)).reshape(len(ARKIT_NAMES), n_face, 3)
    q, _ = np.linalg.qr(rng.normal(size=(len(EXPRESSION_SOURCES),) * 2))
    mixing = q @ np.diag(rng.uniform(0.5, 2.0, len(EXPRESSION_SOURCES)))
    sources = targets[[ARKIT_NAMES.index(n) for n in EXPRESSION_SOURCES]]  # [50, V, 3]
    basis = np.einsum("svc,sj->vcj", sources, mixing)
    extra = n_expressions - len(EXPRESSION_SOURCES)
    if extra:  # smooth fields of no demo target: a random linear map of the position, ~1 mm
        maps = rng.normal(scale=0.01, size=(extra, 3, 3))
        fields = np.einsum("jcd,vd->vcj", maps, v - v.mean(axis=0))
        fields[n_face:] = 0.0
        basis = np.concatenate([basis, fields], axis=2)
    identity = rng.normal(scale=1e-3, size=(n_v, 3, N_IDENTITY))
    shapedirs = np.concatenate([identity, basis], axis=2).astype(np.float32)

    # joints: root and neck at the demo head pivot, jaw at its jaw pivot, the two eye centres
    points = [demo.head_pivot, demo.head_pivot, demo.jaw_pivot, *(e.center for e in demo.eyes)]
    joints = _turn(np.array(points)) + SHIFT
    anchors = [10, 152, 234, 454]  # forehead, chin, both cheeks: a tetrahedron round the head
    regressor = np.stack([_regressor_row(v, anchors, j) for j in joints])

    jaw_motion = np.linalg.norm(targets[ARKIT_NAMES.index("jawOpen")], axis=1)
    jaw_weight = np.clip(1.5 * jaw_motion / jaw_motion.max(), 0.0, 1.0)
    weights = np.zeros((n_v, 5))
    weights[:, 2] = jaw_weight
    weights[:, 1] = 1.0 - jaw_weight
    for joint, (a, b) in zip((3, 4), eye_ranges, strict=True):
        weights[a:b] = 0.0
        weights[a:b, joint] = 1.0
    arrays = {
        "v_template": v,
        "f": np.concatenate(faces).astype(np.uint32),
        "shapedirs": shapedirs,
        "posedirs": rng.normal(scale=1e-4, size=(n_v, 3, 36)),
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": np.array([[4294967295, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64),
    }
    return SyntheticFlame(arrays, mixing, _embedding(arrays["f"], rng, n_embedded))


def _embedding(faces: np.ndarray, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """`n` mediapipe landmarks, each at its demo-face vertex: a corner of one triangle."""
    chosen = np.sort(rng.choice(N_LANDMARKS, size=n, replace=False))
    face_idx, bary = [], []
    for i in chosen:
        f = int(np.flatnonzero((faces == i).any(axis=1))[0])
        b = np.zeros(3)
        b[list(faces[f]).index(i)] = 1.0
        face_idx.append(f)
        bary.append(b)
    return {
        "lmk_face_idx": np.array(face_idx, dtype=np.int64),
        "lmk_b_coords": np.array(bary),
        "landmark_indices": chosen.astype(np.int64),
    }


def write_flame_pickle(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Pickle `arrays` the way FLAME files are: protocol 2, `shapedirs`/`v_template`/`posedirs`
    inside chumpy-like `chumpy.ch.Ch` objects (a class defined here, in a temporary module, only
    to produce the pickle), `J_regressor` as a scipy.sparse CSC matrix when scipy is present."""

    class Ch:  # what chumpy's Ch looks like to pickle: module chumpy.ch, state {"x": array}
        def __init__(self, x: np.ndarray) -> None:
            self.x = x

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    chumpy = types.ModuleType("chumpy")
    ch = types.ModuleType("chumpy.ch")
    ch.Ch = Ch  # type: ignore[attr-defined]
    chumpy.ch = ch  # type: ignore[attr-defined]
    data: dict[str, object] = dict(arrays)
    for key in ("v_template", "shapedirs", "posedirs"):
        if key in arrays:
            data[key] = Ch(arrays[key])
    try:
        import scipy.sparse

        data["J_regressor"] = scipy.sparse.csc_matrix(arrays["J_regressor"])
    except (ImportError, KeyError):
        pass
    data["bs_style"], data["bs_type"] = "lbs", "lrotmin"
    saved = {name: sys.modules.get(name) for name in ("chumpy", "chumpy.ch")}
    sys.modules["chumpy"], sys.modules["chumpy.ch"] = chumpy, ch
    try:
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=2)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return Path(path)


def write_embedding(path: str | Path, embedding: dict[str, np.ndarray]) -> Path:
    with open(path, "wb") as f:
        np.savez(f, **embedding)
    return Path(path)
