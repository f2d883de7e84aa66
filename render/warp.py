"""The photo warped by a triangulated mesh: the face landmarks, a ring around the head that
follows its turns in part, and a fixed ring (and the frame's corners) where the background stays.

Each output pixel finds its triangle in an id image (cv2.fillConvexPoly, far triangles first),
the triangle's affine map from the frame back to the photo gives the pixel's source position,
and one cv2.remap samples the photo there. Outside the fixed ring nothing moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emosync.rigs import face_landmarks as lm

INNER_RING = 1.35  # × the face oval's half extents: hair, ears and the neck's top
OUTER_RING = 2.1  # × the half extents: fixed from here on
RING_POINTS = 24
SUBPIXEL = 4  # fillConvexPoly's fractional bits
MIN_AREA = 0.05  # twice a frame triangle's area in pixels below which it is not drawn
SQUEEZED = 2.0  # a frame triangle this many times smaller than in the photo is drawn first


@dataclass(frozen=True)
class WarpMesh:
    """Control points in the photo and their triangles."""

    source: np.ndarray  # float64 [N, 2]: the face's points first, then the rings and frame
    triangles: np.ndarray  # int64 [T, 3]
    n_face: int  # the first n_face points are the tracked landmarks
    ring: np.ndarray  # float64 [R, 2]: the inner ring, points n_face … n_face + R - 1
    ring_follow: np.ndarray  # float64 [R]: how much of the head's turn each ring point takes
    box: tuple[int, int, int, int]  # x0, y0, x1, y1: the only pixels that can change


def build_mesh(points: np.ndarray, width: int, height: int) -> WarpMesh:
    """The mesh for tracked landmarks `points` [n, 2+] (pixels) in a `width` × `height` photo."""
    face = np.asarray(points, dtype=np.float64)[:, :2]
    oval = face[list(lm.FACE_OVAL)]
    centre = 0.5 * (oval.min(axis=0) + oval.max(axis=0))
    half = 0.5 * (oval.max(axis=0) - oval.min(axis=0))
    angle = np.linspace(0.0, 2 * np.pi, RING_POINTS, endpoint=False)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    inner = centre + INNER_RING * half * circle
    outer = centre + OUTER_RING * half * circle
    follow = np.clip(0.7 - 0.5 * circle[:, 1], 0.25, 1.0)  # the top turns fully, the neck little
    # the frame's edge stays where it is (16 points), but where the head's ring reaches it
    t = np.linspace(0.0, 1.0, 5)
    edge = [(a, b) for a in t for b in (0.0, 1.0)] + [(b, a) for a in t[1:-1] for b in (0.0, 1.0)]
    frame = np.array(edge) * [width + 1, height + 1] - 1
    radius = np.sqrt((((frame - centre) / half) ** 2).sum(axis=1))
    source = np.concatenate([face, inner, outer, frame[radius > 1.1 * INNER_RING]])
    box_lo = np.floor(np.maximum(outer.min(axis=0) - 1, 0)).astype(int)
    box_hi = np.ceil(np.minimum(outer.max(axis=0) + 2, [width, height])).astype(int)
    return WarpMesh(
        source=source,
        triangles=delaunay(source),
        n_face=len(face),
        ring=inner,
        ring_follow=follow,
        box=(int(box_lo[0]), int(box_lo[1]), int(box_hi[0]), int(box_hi[1])),
    )


def delaunay(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles [T, 3] of 2-D `points` as indices (OpenCV's Subdiv2D)."""
    import cv2

    lo = np.floor(points.min(axis=0)) - 2
    hi = np.ceil(points.max(axis=0)) + 2
    subdiv = cv2.Subdiv2D((int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1])))
    for p in points:
        subdiv.insert((float(p[0]), float(p[1])))
    corners = np.asarray(subdiv.getTriangleList()).reshape(-1, 3, 2)
    inside = ((corners >= lo) & (corners <= hi)).all(axis=(1, 2))
    corners = corners[inside]
    dist = np.linalg.norm(corners.reshape(-1, 1, 2) - points[None], axis=2)
    tri = dist.argmin(axis=1).reshape(-1, 3)
    keep = (tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])
    return tri[keep].astype(np.int64)


class Warper:
    """Warps one photo by a WarpMesh whose points move per frame."""

    def __init__(self, image: np.ndarray, mesh: WarpMesh) -> None:
        self.image = image
        self.mesh = mesh
        x0, y0, x1, y1 = mesh.box
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        self._grid = (xs, ys)
        self._source_area = _signed_areas(mesh.source[mesh.triangles])
        self._orientation = np.sign(self._source_area)

    def __call__(self, dest: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The photo with the mesh points at `dest` [N, 2] (`depth` [N] orders overlaps, larger
        is farther), and the triangle of each pixel in the box (-1 for none)."""
        import cv2

        x0, y0, x1, y1 = self.mesh.box
        out = self.image.copy()
        ids = self.triangle_ids(dest, depth)
        if ids.size:
            map_x, map_y = self.interpolate(ids, dest, self.mesh.source).transpose(2, 0, 1)
            out[y0:y1, x0:x1] = cv2.remap(
                self.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
        return out, ids

    def triangle_ids(self, dest: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """int32 [h, w] over the box: the nearest triangle at each pixel, -1 for none."""
        import cv2

        x0, y0, x1, y1 = self.mesh.box
        ids = np.full((max(y1 - y0, 0), max(x1 - x0, 0)), -1, dtype=np.int32)
        if not ids.size:
            return ids
        tri = self.mesh.triangles
        corners = np.round((dest[tri] - [x0, y0]) * (1 << SUBPIXEL)).astype(np.int32)
        # a triangle squeezed to a line or folded over (turned the other way round than in the
        # photo) is left out: its neighbours cover its pixels, as a surface folding away would.
        # Squeezed ones go first: the pixels on their edges that fillConvexPoly adds would read
        # the photo far outside them, so their neighbours draw over those. Then far to near.
        area = _signed_areas(dest[tri])
        kept = (np.sign(area) == self._orientation) & (np.abs(area) >= MIN_AREA)
        squeezed = np.abs(self._source_area) > SQUEEZED * np.abs(area)
        order = np.lexsort((-depth[tri].mean(axis=1), ~squeezed))
        for t in order[kept[order]]:
            cv2.fillConvexPoly(ids, corners[t], (int(t),), cv2.LINE_8, SUBPIXEL)
        return ids

    def interpolate(
        self, ids: np.ndarray, dest: np.ndarray, values: np.ndarray, step: int = 1
    ) -> np.ndarray:
        """float32 [h, w, 2]: per-point `values` [N, 2] interpolated linearly over the triangle
        of each pixel of the box (every `step`-th pixel when step > 1, with `ids` given at
        that step); pixels with no triangle get their own coordinates."""
        affine = _affines(self.mesh.triangles, dest, values)  # [T, 6]
        identity = np.array([[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]])  # for pixels with no triangle
        table = np.concatenate([affine, identity]).astype(np.float32).T  # [6, T + 1]
        xs, ys = (g[::step, ::step] for g in self._grid)
        index = np.where(ids >= 0, ids, len(affine))
        out = np.empty((*ids.shape, 2), np.float32)
        for k in range(2):
            a, b, c = (np.take(table[3 * k + j], index) for j in range(3))
            out[..., k] = a * xs + b * ys + c
        return out


def _signed_areas(corners: np.ndarray) -> np.ndarray:
    """Twice the signed area [T] of triangles `corners` [T, 3, 2]."""
    e1, e2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    return e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]


def _affines(tri: np.ndarray, dest: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per triangle, the affine map [T, 6] from frame positions to the corners' `values`."""
    d = np.concatenate([dest[tri], np.ones((len(tri), 3, 1))], axis=2)  # [T, 3, 3] rows
    s = np.asarray(values, dtype=np.float64)[tri]  # [T, 3, 2]
    det = np.linalg.det(d)
    good = np.abs(det) > 1e-6
    out = np.zeros((len(tri), 2, 3))
    out[:, :, 2] = s.mean(axis=1)  # a degenerate triangle (a line of pixels): its mean value
    if good.any():
        # value = A @ [x, y, 1] at the three corners: A = S^T (D^T)^-1
        inv = np.linalg.inv(np.transpose(d[good], (0, 2, 1)))
        out[good] = np.einsum("tki,tij->tkj", np.transpose(s[good], (0, 2, 1)), inv)
    return out.reshape(len(tri), 6)
