"""Where mediapipe's face-mesh landmarks sit on a FLAME surface.

The demo face's first 468 vertices are mediapipe landmarks in mediapipe's numbering
(rigs/demo_face.py), so a landmark correspondence ties each demo-face target to FLAME:

- the FLAME site's mediapipe landmark embedding (`mediapipe_landmark_embedding.npz`:
  `lmk_face_idx` [L] FLAME triangles, `lmk_b_coords` [L, 3] barycentric coordinates,
  `landmark_indices` [L] mediapipe indices; 105 landmarks), read with allow_pickle=False;
- without one, `nearest_landmarks` aligns the demo face's 468 landmarks to the FLAME template
  by a similarity transform (scale, rotation, translation: iterative closest points over the
  front of the face, started nose tip to nose tip) and takes each landmark's nearest FLAME
  vertex. Both meshes are neutral, metric, +Y up and facing +Z, so the alignment starts close;
  the result is coarser than the embedding (a vertex, not a point inside a triangle).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.checksum import file_sha256
from emosync.errors import InputError
from emosync.rigs.demo_face import N_LANDMARKS
from emosync.rigs.flame_model import FlameModel

NOSE_TIP = 1  # mediapipe's pronasale landmark
ICP_STEPS = 40
ICP_KEEP = 0.9  # fraction of closest pairs each step fits (trims the face outline)


@dataclass(frozen=True)
class FlameLandmarks:
    """Landmark i is at sum_k bary[i, k] * vertex[faces[face_idx[i], k]] of the FLAME mesh."""

    face_idx: np.ndarray  # int64 [L]
    bary: np.ndarray  # float64 [L, 3]
    mediapipe: np.ndarray  # int64 [L], indices into mediapipe's 468 (and the demo face)
    source: str  # file name, or "nearest vertices (no embedding given)"
    sha256: str  # of the embedding file; "" for the nearest-vertex correspondence

    def vertex_ids(self, model: FlameModel) -> np.ndarray:
        """The FLAME vertices the landmarks depend on, [L, 3]."""
        return model.faces[self.face_idx]

    def points(self, vertices: np.ndarray, model: FlameModel) -> np.ndarray:
        """Landmark positions [L, 3] on a posed mesh `vertices` [V, 3]."""
        corners = vertices[self.vertex_ids(model)]  # [L, 3, 3]
        return np.einsum("lk,lkc->lc", self.bary, corners)


def load_landmarks(path: str | Path, model: FlameModel) -> FlameLandmarks:
    """Read the FLAME mediapipe landmark embedding (NPZ, no pickles) and check it fits `model`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"landmark embedding {path} not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            face_idx = np.asarray(data["lmk_face_idx"]).astype(np.int64).reshape(-1)
            bary = np.asarray(data["lmk_b_coords"], dtype=np.float64)
            mediapipe = np.asarray(data["landmark_indices"]).astype(np.int64).reshape(-1)
    except KeyError as exc:
        raise InputError(f"{path.name} is not a mediapipe landmark embedding (no {exc})") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path.name} is not a readable landmark embedding ({reason})") from None
    n = len(face_idx)
    if bary.shape != (n, 3) or mediapipe.shape != (n,) or n == 0:
        raise InputError(f"{path.name}: lmk_face_idx, lmk_b_coords, landmark_indices disagree")
    if face_idx.min() < 0 or face_idx.max() >= len(model.faces):
        raise InputError(f"{path.name}: triangle indices do not fit {model.source}")
    if not np.isfinite(bary).all() or np.abs(bary.sum(axis=1) - 1.0).max() > 1e-3:
        raise InputError(f"{path.name}: barycentric coordinates must sum to 1")
    keep = (mediapipe >= 0) & (mediapipe < N_LANDMARKS)  # iris points are not on the demo face
    if keep.sum() < 10:
        raise InputError(f"{path.name}: fewer than 10 face-mesh landmarks")
    return FlameLandmarks(face_idx[keep], bary[keep], mediapipe[keep], path.name, file_sha256(path))


def similarity(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale s, rotation R, translation t minimising |s R source + t − target|² (Umeyama)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    a, b = source - mu_s, target - mu_t
    u, sing, vt = np.linalg.svd(b.T @ a)
    d = np.ones(3)
    d[2] = np.sign(np.linalg.det(u @ vt)) or 1.0
    rot = u @ np.diag(d) @ vt
    scale = float((sing * d).sum() / max((a**2).sum(), 1e-18))
    return scale, rot, mu_t - scale * rot @ mu_s


def _front_vertices(model: FlameModel) -> np.ndarray:
    """Candidate vertices for the correspondence: not the eyeballs, facing forward."""
    from emosync.rigs.demo_face import vertex_normals

    normals = vertex_normals(model.v_template, model.faces)
    not_eye = ~np.isin(model.weights.argmax(axis=1), (3, 4))
    return np.flatnonzero(not_eye & (normals[:, 2] > 0.1))


def nearest_landmarks(model: FlameModel, demo_landmarks: np.ndarray) -> FlameLandmarks:
    """The correspondence without an embedding: similarity ICP of the demo face's landmarks
    [468, 3] onto the FLAME template, then each landmark's nearest FLAME vertex."""
    candidates = _front_vertices(model)
    target = model.v_template[candidates]
    src = np.asarray(demo_landmarks, dtype=np.float64)
    scale, rot = 1.0, np.eye(3)
    shift = target[np.argmax(target[:, 2])] - src[NOSE_TIP]
    nearest = np.zeros(len(src), dtype=np.int64)
    for _ in range(ICP_STEPS):
        moved = scale * src @ rot.T + shift
        dist = ((moved[:, None, :] - target[None, :, :]) ** 2).sum(axis=2)
        nearest = dist.argmin(axis=1)
        err = dist[np.arange(len(src)), nearest]
        keep = err <= np.quantile(err, ICP_KEEP)
        scale, rot, shift = similarity(src[keep], target[nearest[keep]])
    moved = scale * src @ rot.T + shift
    dist = ((moved[:, None, :] - target[None, :, :]) ** 2).sum(axis=2)
    vertex = candidates[dist.argmin(axis=1)]
    # express each vertex as a corner of one triangle that uses it
    corner_face = np.full(model.n_vertices, -1, dtype=np.int64)
    corner_slot = np.zeros(model.n_vertices, dtype=np.int64)
    for slot in range(3):
        corner_face[model.faces[:, slot]] = np.arange(len(model.faces))
        corner_slot[model.faces[:, slot]] = slot
    ok = corner_face[vertex] >= 0
    bary = np.zeros((len(vertex), 3))
    bary[np.arange(len(vertex)), corner_slot[vertex]] = 1.0
    mediapipe = np.arange(len(src), dtype=np.int64)
    return FlameLandmarks(
        corner_face[vertex][ok],
        bary[ok],
        mediapipe[ok],
        "nearest vertices (no embedding given)",
        "",
    )
