"""Rebuild EmoSync's demo face (rigs/data/demo_face.npz) and its picture (docs/img/).

    .venv/bin/python training/build_demo_face.py [--force] [--no-picture]

The neutral shape is mediapipe's face mesh fitted to scikit-image's astronaut photograph, turned
into metres in the glTF frame, made mirror-symmetric, its lips closed, the portrait's smile taken
out (a neutral mouth width, level corners) and subdivided once. The 52 ARKit targets are
displacement fields authored on mediapipe landmark regions, each at its full FACS extent
(docs/face.md): handle vertices get a displacement, the rest of a region follows through a
harmonic extension on the mesh (so the fields respect the mouth and eye openings) weighted by a
smooth falloff that reaches zero at a geodesic radius. Paired targets are authored on the
subject's left and mirrored.
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import dijkstra
from scipy.sparse.linalg import splu

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.demo_face import SKINLESS_UV
from emosync.rigs.face_landmarks import (
    IRIS_L,
    IRIS_R,
    LIP_INNER_LO,
    LIP_INNER_UP,
    LIP_OUTER_LO,
    LIP_OUTER_UP,
)

ROOT = Path(__file__).resolve().parents[1]
OUT_NPZ = ROOT / "rigs" / "data" / "demo_face.npz"
OUT_PICTURE = ROOT / "docs" / "img" / "demo_face_targets.png"

FACE_WIDTH = 0.15  # metres between landmarks 234 and 454
MM = 0.001

# more mediapipe landmark indices (rigs/face_landmarks.py has the lips, eyes and irises),
# right = subject's right (image left, -X)
BROW_L = [300, 293, 334, 296, 336, 285, 295, 282, 283, 276]
NOSE_WING_L = [358, 279, 429, 420, 360, 344, 327, 294, 278]
CHEEK_L = 425  # malar fat pad, puffed by cheekPuff
MIDLINE = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 0, 13, 14, 17, 18, 200, 152]

SKIN = np.array([0.72, 0.42, 0.31])
LIPS = np.array([0.50, 0.17, 0.16])
BROWS = np.array([0.07, 0.04, 0.03])
CAVITY = np.array([0.10, 0.025, 0.025])
TONGUE = np.array([0.55, 0.16, 0.16])
TEETH = np.array([0.80, 0.76, 0.66])
GUMS = np.array([0.55, 0.18, 0.18])
SOCKET = np.array([0.30, 0.10, 0.09])
SCLERA = np.array([0.80, 0.76, 0.72])
IRIS = np.array([0.17, 0.085, 0.035])
LIMBUS = np.array([0.05, 0.03, 0.02])
PUPIL = np.array([0.008, 0.008, 0.008])


# --------------------------------------------------------------------------- landmarks & mesh


def detect_landmarks() -> np.ndarray:
    """The 478 refined mediapipe landmarks of the astronaut as pixels, [x right, y down, z]."""
    import skimage.data

    from emosync.inference.emotion_image import detect_faces

    image = skimage.data.astronaut()
    h, w = image.shape[:2]
    faces = detect_faces(image)
    if not faces:
        raise SystemExit("mediapipe found no face in the astronaut image")
    return faces[0].landmarks * [w, h, w]


def tessellation_triangles() -> np.ndarray:
    """The faces of mediapipe's tessellation: the 3-cycles of its edge graph, less the two
    separating triangles (3-cycles whose every edge already bounds two faces)."""
    import mediapipe as mp

    edges = {tuple(sorted(e)) for e in mp.solutions.face_mesh.FACEMESH_TESSELATION}
    neighbours = defaultdict(set)
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    cycles = {tuple(sorted((a, b, c))) for a, b in edges for c in neighbours[a] & neighbours[b]}
    uses = defaultdict(int)
    for t in cycles:
        for e in itertools.combinations(t, 2):
            uses[e] += 1
    faces = [t for t in cycles if not all(uses[e] == 3 for e in itertools.combinations(t, 2))]
    return np.array(sorted(faces), dtype=np.int64)


def orient(faces: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Consistent winding by flood fill over shared edges, then outward (+Z on average)."""
    faces = faces.copy()
    by_edge = defaultdict(list)
    for i, f in enumerate(faces):
        for k in range(3):
            by_edge[tuple(sorted((f[k], f[(k + 1) % 3])))].append(i)
    done = np.zeros(len(faces), bool)
    for seed in range(len(faces)):
        if done[seed]:
            continue
        done[seed] = True
        stack = [seed]
        while stack:
            i = stack.pop()
            f = faces[i]
            for k in range(3):
                a, b = f[k], f[(k + 1) % 3]
                for j in by_edge[tuple(sorted((a, b)))]:
                    if done[j]:
                        continue
                    g = faces[j]
                    same_direction = any(g[m] == a and g[(m + 1) % 3] == b for m in range(3))
                    if same_direction:
                        faces[j] = g[::-1]
                    done[j] = True
                    stack.append(j)
    n = np.cross(
        vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]]
    )
    return faces if n[:, 2].sum() > 0 else faces[:, ::-1].copy()


def to_gltf_metres(pixels: np.ndarray) -> np.ndarray:
    """Image pixels (x right, y down, z away) to metres with +X subject's left, +Y up, +Z out."""
    v = pixels * np.array([1.0, -1.0, -1.0])
    v *= FACE_WIDTH / np.linalg.norm(v[454] - v[234])
    return v - v[:468].mean(axis=0)


def mirror_map(v: np.ndarray) -> np.ndarray:
    """perm[i] = the vertex mirroring i across x = 0 (an optimal one-to-one assignment)."""
    reflected = v * np.array([-1.0, 1.0, 1.0])
    cost = np.linalg.norm(v[:, None, :] - reflected[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(v), dtype=np.int64)
    perm[rows] = cols
    return perm


def align_and_symmetrise(v: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate the face so its mirror plane is x = 0 and the forehead is up; average each vertex
    with its mirror image. Returns the vertices and the mirror permutation."""
    x_axis = (v[IRIS_L[0]] - v[IRIS_R[0]]) + (v[291] - v[61])  # iris centres
    for _ in range(3):
        x_axis /= np.linalg.norm(x_axis)
        y_axis = v[10] - v[152]
        y_axis -= x_axis * (y_axis @ x_axis)
        y_axis /= np.linalg.norm(y_axis)
        frame = np.stack([x_axis, y_axis, np.cross(x_axis, y_axis)])
        v = (v - v[MIDLINE].mean(axis=0)) @ frame.T
        perm = mirror_map(v)
        pairs = v - v[perm]
        x_axis = np.linalg.svd(pairs * np.sign(pairs[:, :1] + 1e-12), full_matrices=False)[2][0]
        x_axis *= np.sign(x_axis[0])
    assert (perm[perm] == np.arange(len(v))).all(), "mirror map is not an involution"
    v = 0.5 * (v + v[perm] * np.array([-1.0, 1.0, 1.0]))
    return v, perm


def edge_set(faces: np.ndarray) -> set[tuple[int, int]]:
    return {tuple(sorted((int(f[k]), int(f[(k + 1) % 3])))) for f in faces for k in range(3)}


def symmetric_topology(faces: np.ndarray, v: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """mediapipe's tessellation splits a few quads differently on the two sides: flip those
    diagonals on the subject's right so the mesh mirrors exactly."""
    faces = faces.copy()
    edges = edge_set(faces)
    for a, b in sorted(edges):
        if (min(perm[a], perm[b]), max(perm[a], perm[b])) in edges or v[[a, b], 0].mean() > 0:
            continue
        pair = [i for i, f in enumerate(faces) if a in f and b in f]
        (c,) = set(faces[pair[0]]) - {a, b}
        (d,) = set(faces[pair[1]]) - {a, b}
        f0 = list(faces[pair[0]])
        k = f0.index(c)  # keep the winding: (c, x, y) with x, y following c in f0
        x, y = f0[(k + 1) % 3], f0[(k + 2) % 3]
        faces[pair[0]] = (c, x, d)
        faces[pair[1]] = (d, y, c)
    edges = edge_set(faces)
    mapped = {tuple(sorted((int(perm[a]), int(perm[b])))) for a, b in edges}
    assert mapped == edges, "mirror map does not preserve the mesh"
    return faces


# --------------------------------------------------------------------------- mesh operators


def edge_list(faces: np.ndarray) -> np.ndarray:
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    return np.unique(np.sort(e, axis=1), axis=0)


def cotan_laplacian(v: np.ndarray, faces: np.ndarray) -> sp.csr_matrix:
    """Positive semi-definite cotangent Laplacian with weights clamped above zero."""
    rows, cols, vals = [], [], []
    for k in range(3):
        i, j, o = faces[:, k], faces[:, (k + 1) % 3], faces[:, (k + 2) % 3]
        a, b = v[i] - v[o], v[j] - v[o]
        cot = (a * b).sum(1) / np.maximum(np.linalg.norm(np.cross(a, b), axis=1), 1e-12)
        w = 0.5 * np.clip(cot, 0.05, 20.0)
        rows += [i, j]
        cols += [j, i]
        vals += [w, w]
    n = len(v)
    w = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (n, n))
    return sp.diags(np.asarray(w.sum(axis=1)).ravel()) - w


def graph_distances(v: np.ndarray, faces: np.ndarray, sources: list[int]) -> np.ndarray:
    """Shortest path along mesh edges from the nearest source, metres."""
    e = edge_list(faces)
    length = np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1)
    g = sp.csr_matrix((length, (e[:, 0], e[:, 1])), (len(v), len(v)))
    return dijkstra(g, directed=False, indices=sources, min_only=True)


def harmonic(lap: sp.csr_matrix, fixed: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Solve L x = 0 on the free vertices with x = values on `fixed` (values: [k] or [k, d])."""
    n = lap.shape[0]
    values = np.asarray(values, dtype=np.float64)
    x = np.zeros((n, *values.shape[1:]))
    x[fixed] = values
    free = np.setdiff1d(np.arange(n), fixed)
    if free.size:
        lff = lap[free][:, free].tocsc()
        rhs = -(lap[free][:, fixed] @ values)
        x[free] = splu(lff).solve(rhs)
    return x


def smoothstep(x: np.ndarray) -> np.ndarray:
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def boundary_loops(faces: np.ndarray) -> list[list[int]]:
    """Boundary loops, each ordered along the boundary."""
    directed = {(f[k], f[(k + 1) % 3]) for f in faces for k in range(3)}
    nxt = {a: b for a, b in directed if (b, a) not in directed}
    loops, seen = [], set()
    for start in nxt:
        if start in seen:
            continue
        loop, a = [], start
        while a not in seen:
            seen.add(a)
            loop.append(int(a))
            a = nxt[a]
        loops.append(loop)
    return loops


def subdivide(v: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split every edge once. Old vertices stay (landmark numbering is kept); an interior edge's
    new vertex is Phong-tessellated from the end normals, a boundary edge's follows the
    four-point curve so the lip and lid contours stay smooth."""
    from emosync.rigs.demo_face import vertex_normals

    n = vertex_normals(v, faces).astype(np.float64)
    e = edge_list(faces)
    index = {tuple(x): len(v) + i for i, x in enumerate(e)}
    directed = {(f[k], f[(k + 1) % 3]) for f in faces for k in range(3)}
    boundary_next = {a: b for a, b in directed if (b, a) not in directed}
    boundary_prev = {b: a for a, b in boundary_next.items()}
    new = np.empty((len(e), 3))
    for i, (a, b) in enumerate(e):
        m = 0.5 * (v[a] + v[b])
        if boundary_next.get(a) == b:
            new[i] = (9 * (v[a] + v[b]) - v[boundary_prev[a]] - v[boundary_next[b]]) / 16
        elif boundary_next.get(b) == a:
            new[i] = (9 * (v[a] + v[b]) - v[boundary_prev[b]] - v[boundary_next[a]]) / 16
        else:
            pa = m - ((m - v[a]) @ n[a]) * n[a]
            pb = m - ((m - v[b]) @ n[b]) * n[b]
            new[i] = 0.25 * m + 0.75 * 0.5 * (pa + pb)
    out = []
    for a, b, c in faces:
        ab, bc, ca = (index[tuple(sorted(x))] for x in ((a, b), (b, c), (c, a)))
        out += [(a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca)]
    return np.concatenate([v, new]), np.array(out, dtype=np.int64)


def split_loop(loop: list[int], corner_a: int, corner_b: int, v: np.ndarray) -> tuple:
    """The two chains of a hole loop between its corners, each running a -> b, upper first."""
    i = loop.index(corner_a)
    rolled = loop[i:] + loop[:i]
    k = rolled.index(corner_b)
    one, two = rolled[: k + 1], [corner_a, *rolled[k:][::-1]]
    if v[one[1:-1], 1].mean() < v[two[1:-1], 1].mean():
        one, two = two, one
    return one, two


def fix_mouth(v: np.ndarray, faces: np.ndarray, up: list[int], lo: list[int]) -> np.ndarray:
    """Close the astronaut's parted lips (her smile shows teeth) into a neutral sealed mouth."""
    lap = cotan_laplacian(v, faces)
    dist = graph_distances(v, faces, up + lo)
    far = np.flatnonzero(dist > 45 * MM)
    meet = v[up] + 0.3 * (v[lo] - v[up])
    meet[:, 2] = np.maximum(v[up, 2], v[lo, 2])
    shift = np.zeros((len(up) * 2, 3))
    shift[: len(up)] = meet - v[up]
    shift[len(up) :] = meet - v[lo]
    handles = np.array(up + lo)
    handles, first = np.unique(handles, return_index=True)
    fixed = np.concatenate([handles, np.setdiff1d(far, handles)])
    values = np.concatenate([shift[first], np.zeros((len(fixed) - len(handles), 3))])
    return v + harmonic(lap, fixed, values)


# The astronaut smiles: her mouth is 71 mm wide with its corners 5 mm above the lip line and
# pulled 22 mm back. A neutral mouth of a face this size is about 54 mm wide with level corners.
NEUTRAL_MOUTH_WIDTH = 54 * MM
# Lowers the corners from 5 mm above the lip line to level with it (0.5 mm above). Lowering them
# to 1.5 mm below (6.5 mm) made the image read-out's round trip fall from 14/14 to 12/14: the
# tracker then took the turned angry and contempt renders for disgusted and happy.
CORNER_DROP = 4.5 * MM
CORNER_FORWARD = 5 * MM  # the narrower mouth sits further forward on the arch of the teeth
RELAX_RADIUS = 42 * MM


def relax_smile(v: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Take the portrait's smile out of the neutral shape: the lip contours narrowed to a
    neutral width, their corners lowered and brought forward (more at the corners, t² along the
    mouth), the rest of the face following harmonically and still beyond RELAX_RADIUS."""
    lap = cotan_laplacian(v, faces)
    lips = np.unique(LIP_INNER_UP + LIP_INNER_LO + LIP_OUTER_UP + LIP_OUTER_LO)
    half = v[291, 0]
    t = v[lips, 0] / half
    shift = np.stack(
        [
            (0.5 * NEUTRAL_MOUTH_WIDTH / half - 1.0) * v[lips, 0],
            -CORNER_DROP * t**2,
            CORNER_FORWARD * t**2,
        ],
        axis=1,
    )
    dist = graph_distances(v, faces, list(lips))
    far = np.setdiff1d(np.flatnonzero(dist > RELAX_RADIUS), lips)
    fixed = np.concatenate([lips, far])
    return v + harmonic(lap, fixed, np.concatenate([shift, np.zeros((len(far), 3))]))


# --------------------------------------------------------------------------- the face surface


class Surface:
    """The subdivided face with what the target authoring needs to know about it."""

    def __init__(self, v: np.ndarray, faces: np.ndarray, base_perm: np.ndarray, base_faces):
        self.v, self.faces = v, faces
        self.lap = cotan_laplacian(v, faces)
        self.mirror = self._mirror(base_perm, base_faces)
        loops = boundary_loops(faces)
        mouth = next(lp for lp in loops if 13 in lp)
        eye_l = next(lp for lp in loops if 386 in lp)
        self.mouth_loop, self.eye_l_loop = mouth, eye_l
        self.eye_r_loop = next(lp for lp in loops if 159 in lp)
        self.lip_up, self.lip_lo = split_loop(mouth, 78, 308, v)
        self.lid_up, self.lid_lo = split_loop(eye_l, 263, 362, v)

    def _mirror(self, base_perm: np.ndarray, base_faces: np.ndarray) -> np.ndarray:
        """Old vertices mirror as the base mesh does; an edge's new vertex mirrors to the new
        vertex of the mirrored edge (positions alone are ambiguous where the lips touch)."""
        e = edge_list(base_faces)
        index = {tuple(x): len(base_perm) + i for i, x in enumerate(e)}
        perm = np.concatenate([base_perm, [index[tuple(sorted(base_perm[x]))] for x in e]])
        reflected = self.v * np.array([-1.0, 1.0, 1.0])
        assert np.abs(self.v[perm] - reflected).max() < 1e-9, "subdivided face is not symmetric"
        return perm

    def chain(self, landmarks: Sequence[int]) -> list[int]:
        """Landmarks plus the subdivision vertices on the edges between consecutive ones."""
        e = edge_list(self.faces)
        out = [landmarks[0]]
        for a, b in itertools.pairwise(landmarks):
            # the new vertex on edge (a, b) is the one joined to both a and b and lying between
            cand = set(e[e[:, 0] == a, 1]) | set(e[e[:, 1] == a, 0])
            cand &= set(e[e[:, 0] == b, 1]) | set(e[e[:, 1] == b, 0])
            mid = [c for c in cand if c >= 468 and np.allclose(self.v[c], self.v[c])]
            mid = sorted(
                mid, key=lambda c: np.linalg.norm(self.v[c] - 0.5 * (self.v[a] + self.v[b]))
            )
            out += [*mid[:1], b]
        return out

    def field(self, handles: list[int], disp: np.ndarray, radius: float) -> np.ndarray:
        """Displacement [V, 3]: `disp` [k, 3] at the handles, extended harmonically over the mesh
        and faded to zero (smoothstep of a harmonic falloff) at `radius` metres along the mesh."""
        handles = np.asarray(handles)
        handles, first = np.unique(handles, return_index=True)
        disp = (
            np.broadcast_to(np.asarray(disp, dtype=np.float64), (len(first), 3))
            if np.ndim(disp) == 1
            else np.asarray(disp, dtype=np.float64)[first]
        )
        dist = graph_distances(self.v, self.faces, list(handles))
        outside = np.setdiff1d(np.flatnonzero(dist > radius), handles)
        u = harmonic(
            self.lap,
            np.concatenate([handles, outside]),
            np.concatenate([np.ones(len(handles)), np.zeros(len(outside))]),
        )
        extended = harmonic(self.lap, handles, disp)
        return smoothstep(u)[:, None] * extended

    def mirrored(self, delta: np.ndarray) -> np.ndarray:
        """The right-side twin of a left-side displacement field."""
        return delta[self.mirror] * np.array([-1.0, 1.0, 1.0])


def left_side(x: np.ndarray, width: float = 6 * MM) -> np.ndarray:
    """0 on the subject's right, 1 on the left, smooth across the midline."""
    return 0.5 + 0.5 * np.tanh(x / width)


def rotation_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


JAW_OPEN_ANGLE = 0.34  # radians at jawOpen = 1
JAW_SHIFTS = {"jawForward": (0, 0, 5 * MM), "jawLeft": (7 * MM, 0, 0), "jawRight": (-7 * MM, 0, 0)}


def jaw_delta(name: str, points: np.ndarray, weight: np.ndarray, pivot: np.ndarray) -> np.ndarray:
    """How the jaw targets move `points` that follow the jaw by `weight` (0..1)."""
    if name == "jawOpen":
        moved = (points - pivot) @ rotation_x(JAW_OPEN_ANGLE).T + pivot
        return weight[:, None] * (moved - points)
    return weight[:, None] * np.asarray(JAW_SHIFTS[name])[None, :]


def jaw_weight(s: Surface) -> np.ndarray:
    """1 on the lower lip, chin and jaw line, 0 on the upper lip and above the nose base."""
    v = s.v
    corner_y = v[[61, 291], 1].mean()
    low = set(s.lip_lo[1:-1]) | set(np.flatnonzero(v[:, 1] < corner_y - 22 * MM))
    high = set(s.lip_up[1:-1]) | set(np.flatnonzero(v[:, 1] > v[2, 1] - 2 * MM))
    low, high = np.array(sorted(low)), np.array(sorted(high - low))
    u = harmonic(s.lap, np.concatenate([low, high]), np.r_[np.ones(len(low)), np.zeros(len(high))])
    return smoothstep(u)


def lid_targets(s: Surface) -> dict[str, np.ndarray]:
    """Left-eye lid targets (blink, squint, wide, look)."""
    v = s.v
    up, lo = s.lid_up, s.lid_lo
    a, b = v[up[0]], v[up[-1]]
    axis = (b - a) / np.linalg.norm(b - a) ** 2

    def along(idx: list[int]) -> np.ndarray:
        return (v[idx] - a) @ axis

    t_lo = along(lo)
    lower_at = np.stack([np.interp(along(up), t_lo, v[lo, k]) for k in range(3)], axis=1)
    upper_at = np.stack([np.interp(t_lo, along(up), v[up, k]) for k in range(3)], axis=1)
    bulge = np.sin(np.pi * np.clip(along(up), 0, 1))[:, None] * np.array([0, 0, 0.6 * MM])
    meet_up = lower_at + 0.2 * (v[up] - lower_at) + bulge
    meet_lo = v[lo] + 0.2 * (upper_at - v[lo])
    handles = up + lo
    blink = s.field(handles, np.concatenate([meet_up - v[up], meet_lo - v[lo]]), 15 * MM)
    blink[handles] = np.concatenate([meet_up - v[up], meet_lo - v[lo]])

    def lids(du: float, dl: float, radius: float, dx: float = 0.0) -> np.ndarray:
        shape_u = np.sin(np.pi * np.clip(along(up), 0, 1))[:, None]
        shape_l = np.sin(np.pi * np.clip(t_lo, 0, 1))[:, None]
        d = np.concatenate([shape_u * [dx, du, 0], shape_l * [dx, dl, 0]])
        return s.field(handles, d, radius)

    cheek = s.field(s.chain([346, 347, 348, 349]), [0, 2.5 * MM, 1.0 * MM], 16 * MM)
    return {
        "eyeBlinkLeft": blink,
        "eyeLookDownLeft": lids(-2.5 * MM, -1.2 * MM, 12 * MM),
        "eyeLookInLeft": lids(0, 0, 10 * MM, dx=-1.2 * MM),
        "eyeLookOutLeft": lids(0, 0, 10 * MM, dx=1.2 * MM),
        "eyeLookUpLeft": lids(1.8 * MM, 1.0 * MM, 12 * MM),
        "eyeSquintLeft": lids(-1.5 * MM, 3.4 * MM, 12 * MM) + cheek,
        "eyeWideLeft": lids(3.8 * MM, -1.0 * MM, 14 * MM),
    }


def brow_targets(s: Surface) -> dict[str, np.ndarray]:
    v = s.v
    brow = s.chain([300, 293, 334, 296, 336]) + s.chain([276, 283, 282, 295, 285])
    inner_w = np.clip((v[brow, 0] - v[300, 0]) / (v[336, 0] - v[300, 0]), 0, 1)[:, None]
    # AU4: the inner brows come down hard and together, the outer ends less (a V)
    down = s.field(brow, inner_w * [-3.5 * MM, -6.5 * MM, 1.5 * MM] + [0, -3 * MM, 0], 24 * MM)
    outer = s.field(brow, (1 - inner_w) * [0, 8 * MM, 0] + [0, 1 * MM, 0], 24 * MM)
    # AU1: the inner ends rise, the tails hardly (the oblique brow of sadness and fear)
    both = brow + [int(s.mirror[i]) for i in brow]
    lift = np.concatenate([inner_w, inner_w]) ** 1.5 * [0, 9 * MM, 0.5 * MM] + [0, 1 * MM, 0]
    inner_up = s.field([*both, 9], np.concatenate([lift, [[0, 6 * MM, 0.5 * MM]]]), 26 * MM)
    return {"browDownLeft": down, "browInnerUp": inner_up, "browOuterUpLeft": outer}


def mouth_targets(s: Surface, jaw: np.ndarray, pivot: np.ndarray) -> dict[str, np.ndarray]:
    v = s.v
    out: dict[str, np.ndarray] = {}
    for name in ("jawOpen", "jawForward", "jawLeft"):
        out[name] = jaw_delta(name, v, jaw, pivot)

    lips_up = s.lip_up + s.chain(LIP_OUTER_UP)
    lips_lo = s.lip_lo + s.chain(LIP_OUTER_LO)
    lips = lips_up + lips_lo
    x_half = v[291, 0]
    side = left_side(v[:, 0])

    lower_lip = s.field(s.lip_lo[1:-1] + s.chain(LIP_OUTER_LO)[1:-1], [1, 1, 1], 16 * MM)[:, 0]
    out["mouthClose"] = -lower_lip[:, None] * out["jawOpen"]

    corner_l = [291, 308, *s.chain([291, 409])[1:2], *s.chain([291, 375])[1:2]]
    out["mouthSmileLeft"] = s.field(corner_l, [6 * MM, 8 * MM, -5 * MM], 32 * MM)
    out["mouthFrownLeft"] = s.field(corner_l, [1.5 * MM, -10 * MM, 0.5 * MM], 26 * MM)
    out["mouthDimpleLeft"] = s.field(corner_l, [4 * MM, 0.5 * MM, -5 * MM], 20 * MM)
    out["mouthStretchLeft"] = s.field(corner_l, [10 * MM, -4 * MM, -3 * MM], 30 * MM)
    out["mouthLeft"] = s.field(lips, [7 * MM, 0, 0], 22 * MM)

    x = v[lips, 0] / x_half
    forward = (1 - 0.5 * x**2)[:, None] * [0, 0, 1]
    toward_middle = -x[:, None] * [1, 0, 0]
    out["mouthPucker"] = s.field(lips, 8 * MM * forward + 7 * MM * toward_middle, 24 * MM)
    n_up, n_lo = len(s.lip_up), len(s.lip_lo)
    part = np.zeros((len(lips), 3))

    def arch(idx: list[int]) -> np.ndarray:
        return np.sqrt(np.clip(1 - (v[idx, 0] / x_half) ** 2, 0, 1))

    part[:n_up, 1] = 3.5 * MM * arch(s.lip_up)
    part[len(lips_up) : len(lips_up) + n_lo, 1] = -4.5 * MM * arch(s.lip_lo)
    part[n_up : len(lips_up), 1] = 1.5 * MM * arch(lips_up[n_up:])
    part[len(lips_up) + n_lo :, 1] = -2 * MM * arch(lips_lo[n_lo:])
    funnel = 6 * MM * forward + 5 * MM * toward_middle + part
    out["mouthFunnel"] = s.field(lips, funnel, 24 * MM)

    up_outer, lo_outer = s.chain(LIP_OUTER_UP)[1:-1], s.chain(LIP_OUTER_LO)[1:-1]
    roll_lo = np.concatenate([
        np.tile([0, 0.8 * MM, -4 * MM], (n_lo - 2, 1)),
        v[s.lip_lo[1:-1]].mean(0) - v[lo_outer] + [0, 0, -2.5 * MM],
    ])  # fmt: skip
    roll_lo[n_lo - 2 :, 0] = 0
    out["mouthRollLower"] = s.field(s.lip_lo[1:-1] + lo_outer, roll_lo, 10 * MM)
    roll_up = np.concatenate([
        np.tile([0, -0.8 * MM, -4 * MM], (n_up - 2, 1)),
        v[s.lip_up[1:-1]].mean(0) - v[up_outer] + [0, 0, -2.5 * MM],
    ])  # fmt: skip
    roll_up[n_up - 2 :, 0] = 0
    out["mouthRollUpper"] = s.field(s.lip_up[1:-1] + up_outer, roll_up, 10 * MM)

    chin = s.chain([18, 200, 199, 175])
    out["mouthShrugLower"] = s.field(lips + chin, [0, 4.5 * MM, 2 * MM], 20 * MM)
    out["mouthShrugUpper"] = s.field(lips_up + s.lip_lo, [0, 3.5 * MM, 2 * MM], 16 * MM)

    press = np.zeros((len(lips), 3))
    press[n_up : len(lips_up), 1] = -2 * MM
    press[len(lips_up) + n_lo :, 1] = 2 * MM
    press[:, 2] = -0.8 * MM
    out["mouthPressLeft"] = s.field(lips, press, 12 * MM) * side[:, None]

    lower_down = s.field(lips_lo, [0, -7 * MM, 0.5 * MM], 18 * MM)
    out["mouthLowerDownLeft"] = lower_down * side[:, None]
    upper_up = s.field(lips_up, [0, 6 * MM, 0.5 * MM], 14 * MM)
    out["mouthUpperUpLeft"] = upper_up * side[:, None]
    return out


def cheek_nose_targets(s: Surface) -> dict[str, np.ndarray]:
    cheek_l = s.chain([425, 411, 416, 434, 432, 436, 426, 425])
    puff_l = s.field(cheek_l, [7 * MM, 0, 5 * MM], 26 * MM)
    puff = puff_l + s.mirrored(puff_l)
    lips = s.lip_up + s.lip_lo
    puff += s.field(lips, [0, 0, 2 * MM], 12 * MM)
    squint = s.field(s.chain([330, 347, 346, 340, 345]), [0, 5 * MM, 2.5 * MM], 22 * MM)
    sneer_handles = NOSE_WING_L + [int(i) for i in (357, 343, 412, 399, 437)]
    sneer = s.field(sneer_handles, [0, 5 * MM, 1.2 * MM], 18 * MM)
    return {"cheekPuff": puff, "cheekSquintLeft": squint, "noseSneerLeft": sneer}


# --------------------------------------------------------------------------- inner parts


class Part:
    """Extra geometry appended to the face mesh, with per-target deltas of its own."""

    def __init__(self, v: np.ndarray, faces: np.ndarray, colors: np.ndarray, attached=False):
        self.v, self.faces, self.colors, self.attached = v, faces, colors, attached
        self.deltas: dict[str, np.ndarray] = {}


def match_winding(pocket: np.ndarray, surface: np.ndarray) -> np.ndarray:
    """Wind a pocket like the surface it is sewn to: a shared edge runs opposite ways."""
    directed = {(int(f[k]), int(f[(k + 1) % 3])) for f in surface for k in range(3)}
    a, _, c = (int(x) for x in pocket[0])  # pocket[0] = (loop[i], ring[i], loop[i + 1])
    return pocket[:, ::-1].copy() if (c, a) in directed else pocket


def mouth_bag(
    s: Surface, deltas: dict[str, np.ndarray], jaw: np.ndarray, pivot: np.ndarray
) -> Part:
    """A dark cavity behind the lips: rings of an ellipsoid joined to the inner lip loop. Its
    upper half stays with the skull, its lower half follows the jaw."""
    v = s.v
    loop = s.mouth_loop
    if v[loop[1], 0] < v[loop[0], 0]:  # run counter-clockwise seen from the front
        loop = loop[::-1]
    i0 = loop.index(308)
    loop = loop[i0:] + loop[:i0]
    centre = v[[13, 14, 78, 308]].mean(0)
    half = v[308, 0]
    upper = set(s.lip_up)
    phi = np.array([
        np.arccos(np.clip(v[i, 0] / half, -1, 1)) * (1 if i in upper else -1) for i in loop
    ])  # fmt: skip
    phi[0], phi[loop.index(78)] = 0.0, np.pi
    rings = [(0.95, 8, 3), (0.92, 14, 12), (0.75, 13, 30), (0.4, 8, 44)]  # (width, height, depth)
    pts, cols = [], []
    for k, (a, b, d) in enumerate(rings):
        pts.append(
            centre
            + np.stack(
                [a * half * np.cos(phi), b * MM * np.sin(phi), np.full_like(phi, -d * MM)], 1
            )
        )
        cols.append(np.tile(CAVITY * (1.0 - 0.15 * k), (len(loop), 1)))
    pts.append((centre + np.array([0, 0, -48 * MM]))[None])
    cols.append(CAVITY[None] * 0.5)
    pv = np.concatenate(pts)
    n, base = len(loop), len(v)

    def ring(k: int) -> list[int]:
        return list(loop) if k == 0 else [base + (k - 1) * n + i for i in range(n)]

    faces = []
    for k in range(len(rings)):
        a, b = ring(k), ring(k + 1)
        for i in range(n):
            j = (i + 1) % n
            faces += [(a[i], b[i], a[j]), (a[j], b[i], b[j])]
    tip = base + len(rings) * n
    last = ring(len(rings))
    faces += [(last[i], tip, last[(i + 1) % n]) for i in range(n)]
    part = Part(pv, match_winding(np.array(faces), s.faces), np.concatenate(cols), attached=True)

    weight = np.concatenate([np.tile(smoothstep(0.5 - 2.0 * np.sin(phi)), len(rings)), [0.5]])
    decay = np.concatenate([np.repeat([0.55, 0.25, 0.08, 0.0], n), [0.0]])
    lip = np.concatenate([np.tile(loop, len(rings)), [loop[0]]])
    for name, d in deltas.items():
        if name in ("jawOpen", "jawForward", "jawLeft", "jawRight"):
            part.deltas[name] = jaw_delta(name, pv, weight, pivot)
        else:
            part.deltas[name] = decay[:, None] * d[lip]
    return part


def box_strip(path: np.ndarray, top: np.ndarray, bottom: np.ndarray, thick: float) -> tuple:
    """A closed arch-shaped bar along `path` [n, 3] (x, z used), `top`/`bottom` heights [n]."""
    n = len(path)
    tangent = np.gradient(path, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    inward = np.cross(tangent, [0, 1, 0])  # points to the back of the mouth for a left-going arch
    inward *= np.sign((inward[n // 2] @ [0, 0, -1]) or 1.0)
    corners = [
        path + np.outer(top, [0, 1, 0]),
        path + np.outer(bottom, [0, 1, 0]),
        path + np.outer(bottom, [0, 1, 0]) + thick * inward,
        path + np.outer(top, [0, 1, 0]) + thick * inward,
    ]
    pv = np.concatenate(corners)
    faces = []
    for c in range(4):
        a, b = c * n, ((c + 1) % 4) * n
        for i in range(n - 1):
            faces += [(a + i, a + i + 1, b + i), (b + i, a + i + 1, b + i + 1)]
    for end in (0, n - 1):
        q = [c * n + end for c in range(4)]
        tri = [(q[0], q[1], q[2]), (q[0], q[2], q[3])]
        faces += tri if end == n - 1 else [t[::-1] for t in tri]
    return pv, np.array(faces)


def outward(pv: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Flip a closed part's faces if they point inward."""
    c = pv.mean(0)
    n = np.cross(pv[faces[:, 1]] - pv[faces[:, 0]], pv[faces[:, 2]] - pv[faces[:, 0]])
    return faces if (n * (pv[faces].mean(1) - c)).sum() > 0 else faces[:, ::-1].copy()


def teeth(s: Surface, pivot: np.ndarray) -> list[Part]:
    v = s.v
    front_z = v[[13, 14], 2].mean() - 5 * MM
    lip_y = v[[13, 14], 1].mean()
    parts = []
    for lower in (False, True):
        x = np.linspace(-21 * MM, 21 * MM, 33)
        z = front_z - (2 * MM if lower else 0) - x**2 / (2 * 24 * MM)
        path = np.stack([x, np.full_like(x, lip_y), z], 1)
        if lower:
            top, bottom = np.full_like(x, -1.5 * MM), np.full_like(x, -11 * MM)
        else:
            top, bottom = np.full_like(x, 11 * MM), np.full_like(x, -0.8 * MM)
        pv, faces = box_strip(path, top, bottom, 5 * MM)
        faces = outward(pv, faces)
        gap = np.abs(np.cos(np.pi * x / (7 * MM if lower else 8.5 * MM) * 1.0)) ** 0.3
        h = pv[:, 1] - lip_y
        gum = smoothstep((np.abs(h) - 6 * MM) / (2 * MM))
        shade = np.tile(0.55 + 0.45 * gap, 4)[:, None]
        colors = (1 - gum)[:, None] * TEETH * shade + gum[:, None] * GUMS
        part = Part(pv, faces, colors)
        if lower:
            one = np.ones(len(pv))
            for name in ("jawOpen", "jawForward", "jawLeft", "jawRight"):
                part.deltas[name] = jaw_delta(name, pv, one, pivot)
        parts.append(part)
    return parts


def ellipsoid(centre: np.ndarray, radii: np.ndarray, rows: int, cols: int) -> tuple:
    theta = np.linspace(0, np.pi, rows + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, cols, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    unit = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], -1).reshape(-1, 3)
    pv = np.concatenate([[[0, 1, 0]], unit, [[0, -1, 0]]]) * radii + centre
    faces = []
    last = len(pv) - 1
    for j in range(cols):
        faces.append((0, 1 + (j + 1) % cols, 1 + j))
        b = 1 + (rows - 2) * cols
        faces.append((last, b + j, b + (j + 1) % cols))
    for i in range(rows - 2):
        for j in range(cols):
            a, b = 1 + i * cols + j, 1 + i * cols + (j + 1) % cols
            faces += [(a, b, a + cols), (b, b + cols, a + cols)]
    return pv, outward(pv, np.array(faces))


def tongue(s: Surface, pivot: np.ndarray) -> Part:
    v = s.v
    lip_y, lip_z = v[[13, 14], 1].mean(), v[[13, 14], 2].mean()
    centre = np.array([0.0, lip_y - 8.5 * MM, lip_z - 28 * MM])
    pv, faces = ellipsoid(centre, np.array([16, 5.5, 19]) * MM, 14, 24)
    shade = 0.8 + 0.2 * smoothstep((pv[:, 1] - centre[1]) / (5.5 * MM))
    part = Part(pv, faces, TONGUE * shade[:, None])
    one = np.ones(len(pv))
    for name in ("jawOpen", "jawForward", "jawLeft", "jawRight"):
        part.deltas[name] = jaw_delta(name, pv, one, pivot)
    reach = np.clip((pv[:, 2] - (centre[2] - 19 * MM)) / (38 * MM), 0, 1)
    part.deltas["tongueOut"] = np.stack(
        [np.zeros_like(reach), -5 * MM * reach, (14 + 18 * reach) * MM], 1
    )
    return part


def eye_socket(s: Surface, loop: list[int], deltas: dict[str, np.ndarray]) -> Part:
    v = s.v
    centre = v[loop].mean(0)
    n, base = len(loop), len(v)
    rings = [(0.92, 4), (0.65, 9), (0.25, 14)]
    pv = np.concatenate([centre + (v[loop] - centre) * a - [0, 0, d * MM] for a, d in rings])
    faces = []
    for k in range(len(rings)):
        a = loop if k == 0 else [base + (k - 1) * n + i for i in range(n)]
        b = [base + k * n + i for i in range(n)]
        for i in range(n):
            j = (i + 1) % n
            faces += [(a[i], b[i], a[j]), (a[j], b[i], b[j])]
    faces = match_winding(np.array(faces), s.faces)
    colors = np.tile(SOCKET, (len(pv), 1)) * np.repeat([1, 0.6, 0.3], n)[:, None]
    part = Part(pv, faces, colors, attached=True)
    decay = np.repeat([0.6, 0.2, 0.0], n)
    for name, d in deltas.items():
        part.deltas[name] = decay[:, None] * d[np.tile(loop, len(rings))]
    return part


def eyeball(s: Surface, iris_landmarks: np.ndarray, lid_points: np.ndarray) -> tuple:
    """A sphere behind the eye opening, pushed back until no lid point (open, half or fully
    closed) is inside it. Returns (vertices relative to the centre, faces, colours, centre)."""
    radius = 11.5 * MM
    iris_c = iris_landmarks[0]
    iris_r = np.linalg.norm(iris_landmarks[1:] - iris_c, axis=1).mean()
    centre = iris_c - [0, 0, radius]
    while np.linalg.norm(lid_points - centre, axis=1).min() < radius + 0.4 * MM:
        centre = centre - [0, 0, 0.1 * MM]
    pupil, limbus = np.arcsin(0.42 * iris_r / radius), np.arcsin(iris_r / radius)
    cuts = [0.0, 0.5 * pupil, pupil, pupil * 1.04, 0.5 * (pupil + limbus), limbus * 0.9]
    cuts += [limbus * 0.98, limbus * 1.03, limbus * 1.3, 0.9, 1.4, 1.9, 2.4, 2.8, np.pi]
    cols = 32
    rows = []
    colors = []
    for t in cuts[1:-1]:
        p = np.linspace(0, 2 * np.pi, cols, endpoint=False)
        rows.append(np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t) + 0 * p], 1))
        if t <= pupil:
            c = PUPIL
        elif t < limbus * 0.95:
            c = IRIS * (0.7 + 0.6 * (t - pupil) / (limbus - pupil))
        elif t < limbus * 1.01:
            c = LIMBUS
        else:
            c = SCLERA * (1.0 if t < 1.4 else 0.8)
        colors.append(np.tile(c, (cols, 1)))
    pv = np.concatenate([[[0, 0, 1]], *rows, [[0, 0, -1]]]) * radius
    colors = np.concatenate([[PUPIL], *colors, [SCLERA * 0.7]])
    faces = []
    nr = len(rows)
    last = len(pv) - 1
    for j in range(cols):
        faces.append((0, 1 + j, 1 + (j + 1) % cols))
        b = 1 + (nr - 1) * cols
        faces.append((last, b + (j + 1) % cols, b + j))
    for i in range(nr - 1):
        for j in range(cols):
            a, b = 1 + i * cols + j, 1 + i * cols + (j + 1) % cols
            faces += [(a, a + cols, b), (b, a + cols, b + cols)]
    faces = outward(pv, np.array(faces))
    return pv, faces, colors, centre


# --------------------------------------------------------------------------- wrinkle maps

WRINKLE_RES = 384  # texels across WRINKLE_HALF * 2 of the neutral face's frontal projection
WRINKLE_HALF = 96 * MM


def wrinkle_uv(points: np.ndarray) -> np.ndarray:
    """Neutral positions (metres) to wrinkle-map coordinates: u right, v down, [0, 1]."""
    return np.stack([(points[:, 0] + WRINKLE_HALF), (WRINKLE_HALF - points[:, 1])], axis=1) / (
        2 * WRINKLE_HALF
    )


Point = Sequence[float] | np.ndarray  # x, y in mm


class Canvas:
    """The wrinkle-map grid in millimetres of the neutral face (x right, y up)."""

    def __init__(self) -> None:
        g = ((np.arange(WRINKLE_RES) + 0.5) / WRINKLE_RES * 2 - 1) * WRINKLE_HALF / MM
        self.x, self.y = np.meshgrid(g, -g)

    def line(self, a: Point, b: Point, width: float) -> np.ndarray:
        """A Gaussian crease of `width` mm along the segment a-b (mm)."""
        a, b = np.asarray(a, float), np.asarray(b, float)
        ab = b - a
        t = np.clip(((self.x - a[0]) * ab[0] + (self.y - a[1]) * ab[1]) / (ab @ ab), 0, 1)
        d = np.hypot(self.x - a[0] - t * ab[0], self.y - a[1] - t * ab[1])
        return np.exp(-((d / width) ** 2))

    def curve(self, points: Sequence[Point], width: float) -> np.ndarray:
        return np.max([self.line(a, b, width) for a, b in itertools.pairwise(points)], axis=0)

    def spot(self, centre: Point, sigma: float) -> np.ndarray:
        return np.exp(-((self.x - centre[0]) ** 2 + (self.y - centre[1]) ** 2) / sigma**2)


def wrinkle_maps(s: Surface) -> dict[str, np.ndarray]:
    """Darkening (0..1 at weight 1) of each wrinkling target, left-side ones mirrored. The
    creases are where the muscles fold the skin (FACS manual's appearance changes)."""
    c = Canvas()

    def p(i: int) -> np.ndarray:
        return s.v[i, :2] / MM

    def off(point: np.ndarray, dx: float, dy: float) -> np.ndarray:
        return point + np.array([dx, dy])

    inner_brow, lid_low, corner, eye_corner = p(336), p(374), p(291), p(263)
    maps = {
        # AU4: vertical furrows between the brows, a line across the nose root, a darker lid
        "browDownLeft": np.maximum.reduce([
            1.1 * c.line(off(inner_brow, -9, -4), off(inner_brow, -10.5, 12), 1.3),
            0.7 * c.line(off(inner_brow, -5, -1), off(inner_brow, -6, 9), 1.1),
            0.7 * c.line([0, 36], [9, 37], 1.6),
            0.6 * c.spot(off(0.5 * (p(334) + p(386)), 0, -2), 6.0),
        ]),
        # AU2: lines across the forehead over the outer brow
        "browOuterUpLeft": np.maximum.reduce([
            0.8 * c.line([18, p(334)[1] + dy], [52, p(293)[1] + dy - 2], 1.1) for dy in (11, 18, 25)
        ]),
        # AU9: wrinkles across the side of the nose, the upper nasolabial fold, a lower-lid crease
        "noseSneerLeft": np.maximum.reduce([
            1.0 * c.line([2, 25], [11, 22], 1.0),
            0.9 * c.line([2, 19], [12, 16], 1.0),
            0.7 * c.line([3, 31], [10, 29], 1.0),
            0.9 * c.line(off(p(358), 3, 3), off(p(358), 8, -8), 1.6),
            0.6 * c.line(off(lid_low, -8, -6), off(lid_low, 8, -6), 1.8),
        ]),
        # AU10 and AU12: the nasolabial fold, from the nose wing past the mouth corner
        "mouthUpperUpLeft": 0.9 * c.curve(
            [off(p(358), 3, 3), off(p(358), 9, -10), off(p(287), 3, -2)], 1.6
        ),
        "mouthSmileLeft": 0.9 * c.curve(
            [off(p(358), 3, 3), off(p(358), 10, -10), off(p(287), 5, -6), off(p(287), 6, -16)], 1.8
        ),
        # AU6 and AU7: crow's feet and a crease under the lower lid
        "cheekSquintLeft": np.maximum.reduce([
            *(0.8 * c.line(off(eye_corner, 4, 0), off(eye_corner, 14, a), 1.0) for a in (-6, 0, 6)),
            0.7 * c.line(off(lid_low, -10, -5), off(lid_low, 10, -4), 1.6),
        ]),
        "eyeSquintLeft": 0.7 * c.line(off(lid_low, -9, -4), off(lid_low, 9, -3.5), 1.4),
        # AU15: lines down from the mouth corners
        "mouthFrownLeft": 0.9 * c.curve(
            [off(corner, 2, -2), off(corner, 5, -10), off(corner, 6, -20)], 1.6
        ),
        # AU20: a fold beside the stretched corner; AU14: the dimple; AU24: a crease at the corner
        "mouthStretchLeft": 0.7 * c.curve(
            [off(corner, 6, 8), off(corner, 9, 0), off(corner, 8, -10)], 1.6
        ),
        "mouthDimpleLeft": 0.8 * c.spot(off(corner, 5, 0), 2.0),
        "mouthPressLeft": 0.7 * c.line(off(corner, 3, 4), off(corner, 4, -5), 1.3),
    }  # fmt: skip
    # AU1: lines across the middle of the forehead, fading toward the temples
    rows = [
        0.9 * c.line([0, inner_brow[1] + dy], [26, inner_brow[1] + dy + 1.5 * (k - 1)], 1.1)
        for k, dy in enumerate((12, 19, 26))
    ]
    lines = np.maximum.reduce(rows) * np.clip(1.2 - c.x / 30, 0, 1)
    maps["browInnerUp"] = np.maximum(lines, lines[:, ::-1])
    # AU17: the chin dimples (orange-peel skin) and the crease under the lower lip deepens
    rng = np.random.default_rng(3)
    bumps = sum(
        0.4 * c.spot((x, y), 2.0)
        for x, y in zip(rng.uniform(-14, 14, 14), rng.uniform(-74, -60, 14), strict=True)
    )
    sulcus = c.curve([[-16, -52], [-8, -55], [0, -56], [8, -55], [16, -52]], 1.8)
    maps["mouthShrugLower"] = np.clip(np.maximum(0.9 * sulcus, bumps), 0, 1.2)
    for name in [n for n in maps if n.endswith("Left")]:
        maps[name[:-4] + "Right"] = maps[name][:, ::-1]
    return maps


# --------------------------------------------------------------------------- colours & assembly


def polygon_mask(
    points_xy: np.ndarray, polygon: np.ndarray, soft: float, grow: float = 0.0
) -> np.ndarray:
    """1 inside `polygon` (xy) grown by `grow` metres, 0 outside, blended over `soft` metres
    across its edge."""
    from matplotlib.path import Path as MplPath

    inside = MplPath(polygon).contains_points(points_xy)
    a, b = polygon, np.roll(polygon, -1, axis=0)
    ab = b - a
    t = np.clip(((points_xy[:, None] - a[None]) * ab[None]).sum(-1) / (ab * ab).sum(-1), 0, 1)
    d = np.linalg.norm(points_xy[:, None] - (a[None] + t[..., None] * ab[None]), axis=2).min(1)
    return smoothstep(0.5 + (np.where(inside, d, -d) + grow) / soft)


def skin_colors(s: Surface) -> np.ndarray:
    v = s.v
    xy = v[:, :2]
    lips = polygon_mask(xy, v[[*LIP_OUTER_UP, *LIP_OUTER_LO[-2:0:-1]], :2], 1.2 * MM)
    brow_l = polygon_mask(xy, v[BROW_L, :2], 1.6 * MM, grow=0.3 * MM)
    brows = np.maximum(brow_l, brow_l[s.mirror])
    cheek_c = v[[CHEEK_L, int(s.mirror[CHEEK_L])]]
    blush = np.exp(-((np.linalg.norm(v[:, None] - cheek_c[None], axis=2).min(1) / (16 * MM)) ** 2))
    colors = SKIN * (1 + 0.10 * blush[:, None] * np.array([0.2, -0.5, -0.5]))
    colors = (1 - lips)[:, None] * colors + lips[:, None] * LIPS
    return (1 - 0.92 * brows)[:, None] * colors + 0.92 * brows[:, None] * BROWS


def assemble(s: Surface, deltas: dict[str, np.ndarray], parts: list[Part]) -> tuple:
    verts, faces, colors = [s.v], [s.faces], [skin_colors(s)]
    offset = len(s.v)
    for p in parts:
        # attached parts (pockets) use the face's own loop vertices, numbering theirs from len(s.v)
        nf = len(s.v)
        faces.append(
            np.where(p.faces >= nf, p.faces - nf + offset, p.faces)
            if p.attached
            else p.faces + offset
        )
        verts.append(p.v)
        colors.append(p.colors)
        offset += len(p.v)
    targets = np.zeros((len(ARKIT_NAMES), offset, 3))
    for k, name in enumerate(ARKIT_NAMES):
        chunks = [deltas.get(name, np.zeros_like(s.v))]
        chunks += [p.deltas.get(name, np.zeros_like(p.v)) for p in parts]
        targets[k] = np.concatenate(chunks)
    return np.concatenate(verts), np.concatenate(faces), np.concatenate(colors), targets


def build() -> dict[str, np.ndarray]:
    pixels = detect_landmarks()
    v = to_gltf_metres(pixels)
    faces = orient(tessellation_triangles(), v[:468])
    v, perm = align_and_symmetrise(v, faces)
    faces = symmetric_topology(faces, v, perm)
    base = relax_smile(fix_mouth(v[:468], faces, list(LIP_INNER_UP), list(LIP_INNER_LO)), faces)
    iris = v[468:]
    sv, sfaces = subdivide(base, faces)
    s = Surface(sv, sfaces, perm[:468], faces)

    side_z = sv[[234, 454], 2].mean()
    jaw_pivot = np.array([0.0, sv[2, 1] - 12 * MM, side_z - 22 * MM])
    head_pivot = np.array([0.0, sv[152, 1] - 25 * MM, side_z - 45 * MM])
    jaw = jaw_weight(s)

    left: dict[str, np.ndarray] = {}
    left |= lid_targets(s)
    left |= brow_targets(s)
    left |= mouth_targets(s, jaw, jaw_pivot)
    left |= cheek_nose_targets(s)
    deltas: dict[str, np.ndarray] = {}
    for name, d in left.items():
        deltas[name] = d
        if name.endswith("Left") and name not in ("mouthLeft", "jawLeft"):
            deltas[name[:-4] + "Right"] = s.mirrored(d)
    deltas["mouthRight"] = s.mirrored(left["mouthLeft"])
    deltas["jawRight"] = jaw_delta("jawRight", sv, jaw, jaw_pivot)
    deltas["tongueOut"] = np.zeros_like(sv)
    missing = set(ARKIT_NAMES) - set(deltas)
    assert not missing, f"targets not authored: {sorted(missing)}"

    parts = [mouth_bag(s, deltas, jaw, jaw_pivot), *teeth(s, jaw_pivot), tongue(s, jaw_pivot)]
    parts += [eye_socket(s, s.eye_l_loop, deltas), eye_socket(s, s.eye_r_loop, deltas)]
    vertices, all_faces, colors, targets = assemble(s, deltas, parts)

    out = {
        "vertices": vertices.astype(np.float32),
        "faces": all_faces.astype(np.uint16),
        "colors": colors.astype(np.float16),
        "targets": targets.astype(np.float16),
        "target_names": np.array(ARKIT_NAMES),
        "head_pivot": head_pivot.astype(np.float32),
        "jaw_pivot": jaw_pivot.astype(np.float32),
        "uv": np.concatenate(
            [wrinkle_uv(sv), np.full((len(vertices) - len(sv), 2), SKINLESS_UV)]
        ).astype(np.float32),
    }
    maps = wrinkle_maps(s)
    out["wrinkle_targets"] = np.array(list(maps))
    # 8 bits a texel, 1.0 = 255 (none of the maps darkens more than MAX_DARKENING)
    out["wrinkle_maps"] = np.stack(
        [np.round(np.clip(m, 0, 1) * 255) for m in maps.values()]
    ).astype(np.uint8)
    blink = {"EyeLeft": "eyeBlinkLeft", "EyeRight": "eyeBlinkRight"}
    for name, iris_idx, loop in (("EyeLeft", 5, s.eye_l_loop), ("EyeRight", 0, s.eye_r_loop)):
        lid = sv[loop]
        d = deltas[blink[name]][loop]
        lid_points = np.concatenate([lid + f * d for f in np.linspace(0, 1, 11)])
        ring = iris[iris_idx : iris_idx + 5]
        ev, ef, ec, centre = eyeball(s, ring, lid_points)
        out |= {
            f"{name}_vertices": ev.astype(np.float32),
            f"{name}_faces": ef.astype(np.uint16),
            f"{name}_colors": ec.astype(np.float32),
            f"{name}_center": centre.astype(np.float32),
        }
    return out


# --------------------------------------------------------------------------- picture

SHEET = [
    ("neutral", {}),
    ("jawOpen", {"jawOpen": 1.0}),
    ("mouthSmile L+R", {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0}),
    ("mouthSmileLeft", {"mouthSmileLeft": 1.0}),
    ("mouthFrown L+R", {"mouthFrownLeft": 1.0, "mouthFrownRight": 1.0}),
    ("mouthPucker", {"mouthPucker": 1.0}),
    ("mouthFunnel", {"mouthFunnel": 1.0}),
    ("mouthRollLower", {"mouthRollLower": 1.0}),
    ("mouthStretch L+R", {"mouthStretchLeft": 1.0, "mouthStretchRight": 1.0}),
    ("mouthLeft", {"mouthLeft": 1.0}),
    ("jawOpen+mouthClose", {"jawOpen": 0.6, "mouthClose": 0.6}),
    ("tongueOut+jawOpen", {"tongueOut": 1.0, "jawOpen": 0.7}),
    ("eyeBlink L+R", {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}),
    ("eyeBlinkLeft", {"eyeBlinkLeft": 1.0}),
    ("eyeWide L+R", {"eyeWideLeft": 1.0, "eyeWideRight": 1.0}),
    ("eyeSquint L+R", {"eyeSquintLeft": 1.0, "eyeSquintRight": 1.0}),
    ("browInnerUp", {"browInnerUp": 1.0}),
    ("browDown L+R", {"browDownLeft": 1.0, "browDownRight": 1.0}),
    ("browOuterUp L+R", {"browOuterUpLeft": 1.0, "browOuterUpRight": 1.0}),
    ("cheekPuff", {"cheekPuff": 1.0}),
    ("noseSneer L+R", {"noseSneerLeft": 1.0, "noseSneerRight": 1.0}),
    ("mouthUpperUp+LowerDown", {"mouthUpperUpLeft": 1, "mouthUpperUpRight": 1,
                                "mouthLowerDownLeft": 1, "mouthLowerDownRight": 1}),
    ("head yaw 0.35, eyes left", {}),
    ("mouthShrugLower", {"mouthShrugLower": 1.0}),
]  # fmt: skip


def picture(path: Path, force: bool, size: int = 256, cols: int = 6) -> None:
    """A labelled grid of target renders (matplotlib only adds the labels)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emosync.atomic import atomic_write_bytes
    from emosync.exporters.preview import render
    from emosync.rigs.demo_face import load_demo_face, weights_from

    load_demo_face.cache_clear()
    face = load_demo_face()
    rows = -(-len(SHEET) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.2, rows * 2.4), dpi=size / 2.0)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (label, values) in zip(axes.ravel(), SHEET, strict=False):
        rot = np.zeros(9)
        if label.startswith("head"):
            rot[[0, 3, 6]] = [0.35, 0.3, 0.3]
        ax.imshow(render(face, weights_from(values), rot, size=(size, size)))
        ax.set_title(label, fontsize=8, color="white")
    fig.patch.set_facecolor("#18191c")
    fig.tight_layout(pad=0.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    atomic_write_bytes(path, buf.getvalue(), force=force)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="overwrite existing outputs")
    ap.add_argument("--no-picture", action="store_true", help="skip docs/img/demo_face_targets.png")
    args = ap.parse_args()
    import io

    from emosync.atomic import atomic_write_bytes

    data = build()
    buf = io.BytesIO()
    np.savez_compressed(buf, **data)
    atomic_write_bytes(OUT_NPZ, buf.getvalue(), force=args.force)
    print(f"wrote {OUT_NPZ} ({len(buf.getvalue()) / 1e6:.2f} MB, {len(data['vertices'])} vertices)")
    if not args.no_picture:
        OUT_PICTURE.parent.mkdir(parents=True, exist_ok=True)
        picture(OUT_PICTURE, args.force)
        print(f"wrote {OUT_PICTURE}")


if __name__ == "__main__":
    main()
