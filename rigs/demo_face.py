"""EmoSync's own demo face: a mediapipe-topology face mesh with all 52 ARKit morph targets.

The data lives in `rigs/data/demo_face.npz` and is rebuilt by `training/build_demo_face.py`.
Coordinates are metres in the glTF frame: +Y up, +Z toward the viewer, +X the subject's left.
The first `N_LANDMARKS` vertices are mediapipe face-mesh landmarks in mediapipe's numbering
(13/14 inner lips, 159/145 and 386/374 eyelids, ...), so the target fields can be read on any
tracked face with the same topology.

Expression wrinkles (furrows between lowered brows, forehead lines, the sneer's nose wrinkles,
nasolabial and marionette folds, chin dimpling, ...) are grey-scale maps in the neutral face's
frontal projection (`uv`), one per wrinkling target; a renderer darkens the skin's colour by the
frame's weights times the maps (`wrinkle_darkening`), as game engines blend wrinkle maps.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES

N_LANDMARKS = 468
DATA_FILE = "demo_face.npz"


@dataclass(frozen=True)
class EyeMesh:
    """An eyeball as its own mesh; `vertices` are relative to `center` so it can rotate."""

    name: str
    vertices: np.ndarray  # float32 [n, 3]
    faces: np.ndarray  # uint32 [t, 3]
    normals: np.ndarray  # float32 [n, 3]
    colors: np.ndarray  # float32 [n, 3], linear RGB
    center: np.ndarray  # float32 [3]


@dataclass(frozen=True)
class DemoFace:
    vertices: np.ndarray  # float32 [V, 3], neutral
    faces: np.ndarray  # uint32 [T, 3], counter-clockwise seen from outside
    normals: np.ndarray  # float32 [V, 3], smooth
    colors: np.ndarray  # float32 [V, 3], linear RGB
    target_names: tuple[str, ...]  # == ARKIT_NAMES
    targets: np.ndarray  # float32 [52, V, 3], vertex deltas at weight 1
    eyes: list[EyeMesh]  # EyeLeft, EyeRight
    head_pivot: np.ndarray  # float32 [3], the neck
    jaw_pivot: np.ndarray  # float32 [3], below the ears
    uv: np.ndarray | None = None  # float32 [V, 2] in [0, 1] on the skin, SKINLESS_UV elsewhere
    wrinkle_maps: np.ndarray | None = None  # float32 [M, R, R], darkening 0..1 at weight 1
    wrinkle_targets: tuple[int, ...] = ()  # [M] the target index of each map


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Smooth unit normals: the area-weighted sum of the normals of the faces around a vertex."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    face_n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, f[:, k], face_n)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return (n / np.maximum(length, 1e-12)).astype(np.float32)


def deform(face: DemoFace, weights: np.ndarray) -> np.ndarray:
    """Neutral vertices plus the weighted target deltas. `weights`: [52] (not clipped)."""
    w = np.asarray(weights, dtype=np.float32).reshape(-1)
    if w.shape[0] != len(face.target_names):
        raise ValueError(f"expected {len(face.target_names)} weights, got {w.shape[0]}")
    active = np.flatnonzero(w)
    if active.size == 0:
        return face.vertices.copy()
    delta = np.tensordot(w[active], face.targets[active], axes=1)
    return (face.vertices + delta).astype(np.float32)


MAX_DARKENING = 0.85  # the most a sum of wrinkles darkens the skin
# uv of vertices without skin (mouth, teeth, sockets, eyes): far enough outside [0, 1] that a
# triangle joining them to the skin interpolates to no wrinkle except right at the skin's edge
SKINLESS_UV = -10.0


def wrinkle_darkening(face: DemoFace, weights: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """How much the wrinkles of a frame with `weights` [52] darken the skin at points `uv` [n, 2]
    (0 = not at all, at most MAX_DARKENING); points outside [0, 1]² are skin-less (eyes, mouth)."""
    uv = np.asarray(uv, dtype=np.float32).reshape(-1, 2)
    dark = np.zeros(len(uv), dtype=np.float32)
    if face.wrinkle_maps is None or not face.wrinkle_targets:
        return dark
    w = np.asarray(weights, dtype=np.float32).reshape(-1)
    active = [m for m, k in enumerate(face.wrinkle_targets) if w[k] > 1e-3]
    if not active:
        return dark
    inside, rows, cols = _texels(uv, face.wrinkle_maps.shape[1])
    total = np.zeros(len(cols), dtype=np.float32)
    for m in active:
        total += w[face.wrinkle_targets[m]] * face.wrinkle_maps[m][rows, cols]
    dark[inside] = np.clip(total, 0.0, MAX_DARKENING)
    return dark


VERTEX_BLOCK = 6  # texels averaged per side when the maps are read at vertices (3 mm)


def vertex_wrinkles(face: DemoFace) -> np.ndarray:
    """The wrinkle maps read at the vertices: darkening [52, V] at weight 1, each map first
    averaged over VERTEX_BLOCK² texels (about the vertex spacing) so that a crease thinner than
    the mesh shows as a soft band rather than on whichever vertex it happens to touch. For
    formats that carry colour per vertex (glTF COLOR_0 morph targets)."""
    out = np.zeros((len(face.target_names), len(face.vertices)), dtype=np.float32)
    if face.uv is None or face.wrinkle_maps is None or not face.wrinkle_targets:
        return out
    m, res, _ = face.wrinkle_maps.shape
    n = res // VERTEX_BLOCK
    blocks = face.wrinkle_maps[:, : n * VERTEX_BLOCK, : n * VERTEX_BLOCK]
    blocks = blocks.reshape(m, n, VERTEX_BLOCK, n, VERTEX_BLOCK).mean(axis=(2, 4))
    inside, rows, cols = _texels(face.uv, n)
    for k, target in enumerate(face.wrinkle_targets):
        out[target, inside] = blocks[k][rows, cols]
    return out


def _texels(uv: np.ndarray, res: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which of the points `uv` [n, 2] are on the skin (inside [0, 1]²), and those points' row
    and column in a `res` × `res` map."""
    inside = (uv >= 0).all(axis=1) & (uv <= 1).all(axis=1)
    cols = np.clip((uv[inside, 0] * res).astype(np.int64), 0, res - 1)
    rows = np.clip((uv[inside, 1] * res).astype(np.int64), 0, res - 1)
    return inside, rows, cols


def weights_from(values: dict[str, float]) -> np.ndarray:
    """A [52] weight vector from `{"jawOpen": 0.5, ...}` (unknown names raise KeyError)."""
    w = np.zeros(len(ARKIT_NAMES), dtype=np.float32)
    for name, value in values.items():
        w[ARKIT_NAMES.index(name)] = value
    return w


def _read_npz() -> dict[str, np.ndarray]:
    path = resources.files("emosync.rigs").joinpath("data", DATA_FILE)
    with path.open("rb") as f, np.load(f, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@functools.cache
def load_demo_face() -> DemoFace:
    """The demo face (read once per process)."""
    d = _read_npz()
    names = tuple(str(n) for n in d["target_names"])
    if names != ARKIT_NAMES:
        raise ValueError(f"{DATA_FILE}: targets are not the 52 ARKit names in Live Link order")
    eyes = [
        EyeMesh(
            name=name,
            vertices=d[f"{name}_vertices"].astype(np.float32),
            faces=d[f"{name}_faces"].astype(np.uint32),
            normals=vertex_normals(d[f"{name}_vertices"], d[f"{name}_faces"]),
            colors=d[f"{name}_colors"].astype(np.float32),
            center=d[f"{name}_center"].astype(np.float32),
        )
        for name in ("EyeLeft", "EyeRight")
    ]
    vertices = d["vertices"].astype(np.float32)
    faces = d["faces"].astype(np.uint32)
    return DemoFace(
        vertices=vertices,
        faces=faces,
        normals=vertex_normals(vertices, faces),
        colors=d["colors"].astype(np.float32),
        target_names=names,
        targets=d["targets"].astype(np.float32),
        eyes=eyes,
        head_pivot=d["head_pivot"].astype(np.float32),
        jaw_pivot=d["jaw_pivot"].astype(np.float32),
        uv=d["uv"].astype(np.float32),
        wrinkle_maps=d["wrinkle_maps"].astype(np.float32) / 255.0,
        wrinkle_targets=tuple(names.index(str(n)) for n in d["wrinkle_targets"]),
    )
