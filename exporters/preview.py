"""Offline pictures of the demo face: a small numpy z-buffer rasteriser and a PNG writer.

Rotations follow the right-hand rule about the glTF axes, in radians: yaw about +Y (positive
turns toward the subject's left), pitch about +X (positive looks down), roll about +Z.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_bytes
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ROTATION_NAMES
from emosync.rigs.demo_face import (
    SKINLESS_UV,
    DemoFace,
    deform,
    load_demo_face,
    vertex_normals,
    wrinkle_darkening,
)

BACKGROUND_TOP = np.array([0.16, 0.17, 0.19])  # linear RGB
BACKGROUND_BOTTOM = np.array([0.05, 0.05, 0.06])
# Direction toward the light (normalised at use), linear intensity. A frontal key a little
# above and to the side, as portrait photographs (and FER2013's faces) are mostly lit: a key
# from higher up and further aside shades the cheeks and mouth corners so that every face
# looked like smiling to an outside expression classifier (docs/face.md).
LIGHTS = (
    (np.array([-0.3, 0.3, 1.0]), 0.9),
    (np.array([0.6, 0.1, 0.55]), 0.15),
)
AMBIENT = 0.16
SPECULAR = 0.10
SHININESS = 24.0


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Ry(yaw) @ Rx(pitch) @ Rz(roll)."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def posed_meshes(
    face: DemoFace, weights: np.ndarray | None, rotations: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Face and eyes in world space as one triangle list: positions, normals, colours, faces."""
    w = np.zeros(len(face.target_names)) if weights is None else np.asarray(weights)
    r = np.zeros(9) if rotations is None else np.asarray(rotations, dtype=np.float64)
    head = rotation_matrix(r[0], r[1], r[2])
    pivot = face.head_pivot.astype(np.float64)

    v = deform(face, w).astype(np.float64)
    positions = [(v - pivot) @ head.T + pivot]
    normals = [vertex_normals(v, face.faces) @ head.T]
    colors = [face.colors]
    faces = [face.faces.astype(np.int64)]
    offset = len(v)
    for eye, angles in zip(face.eyes, (r[3:6], r[6:9]), strict=True):
        rot = head @ rotation_matrix(*angles)
        centre = (eye.center - pivot) @ head.T + pivot
        positions.append(eye.vertices @ rot.T + centre)
        normals.append(eye.normals @ rot.T)
        colors.append(eye.colors)
        faces.append(eye.faces.astype(np.int64) + offset)
        offset += len(eye.vertices)
    return (
        np.concatenate(positions),
        np.concatenate(normals),
        np.concatenate(colors).astype(np.float64),
        np.concatenate(faces),
    )


def _camera(face: DemoFace, fov_deg: float) -> tuple[np.ndarray, float]:
    """Camera position looking down -Z at the face, which fills ~80 % of the view height."""
    v = face.vertices
    centre = 0.5 * (v.min(0) + v.max(0))
    height = float(v[:, 1].max() - v[:, 1].min())
    dist = 0.62 * height / np.tan(np.radians(fov_deg) / 2) + float(v[:, 2].max() - centre[2])
    return np.array([centre[0], centre[1], centre[2] + dist]), float(np.radians(fov_deg))


def _rasterise(
    screen: np.ndarray, inv_z: np.ndarray, faces: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: the nearest front-facing triangle (-1 for none) and its perspective-correct
    barycentric weights [H*W, 3]. Front-facing = counter-clockwise on screen (y down: area < 0)."""
    tri = screen[faces].astype(np.float32)  # [T, 3, 2]
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    lo = np.maximum(np.floor(tri.min(axis=1) - 0.5).astype(np.int64) + 1, 0)
    hi = np.minimum(np.floor(tri.max(axis=1) - 0.5).astype(np.int64), [width - 1, height - 1])
    span = hi - lo + 1
    count = np.where((span > 0).all(axis=1) & (area < -1e-9), span[:, 0] * span[:, 1], 0)
    keep = np.flatnonzero(count)
    count = count[keep]
    t = np.repeat(keep, count)
    local = np.arange(t.size) - np.repeat(np.cumsum(count) - count, count)
    cols = span[t, 0]
    px = lo[t, 0] + local % cols
    py = lo[t, 1] + local // cols
    x = px.astype(np.float32) + 0.5
    y = py.astype(np.float32) + 0.5

    tt = tri[t]
    ax, ay, bx, by, cx, cy = (tt[:, i, j] for i in range(3) for j in range(2))
    inv_area = 1.0 / area[t]
    w0 = ((bx - x) * (cy - y) - (by - y) * (cx - x)) * inv_area
    w1 = ((cx - x) * (ay - y) - (cy - y) * (ax - x)) * inv_area
    w2 = 1.0 - w0 - w1
    inside = (w0 >= -1e-6) & (w1 >= -1e-6) & (w2 >= -1e-6)
    t, w0, w1, w2 = t[inside], w0[inside], w1[inside], w2[inside]
    pix = py[inside] * width + px[inside]

    # Screen-space barycentrics interpolate 1/z linearly; turn them into perspective-correct ones.
    iz = inv_z[faces[t]].astype(np.float32)
    b0, b1, b2 = w0 * iz[:, 0], w1 * iz[:, 1], w2 * iz[:, 2]
    depth = b0 + b1 + b2
    zbuf = np.full(width * height, -np.inf, dtype=np.float32)
    np.maximum.at(zbuf, pix, depth)
    win = depth >= zbuf[pix]
    tri_id = np.full(width * height, -1, dtype=np.int64)
    weights = np.zeros((width * height, 3), dtype=np.float32)
    tri_id[pix[win]] = t[win]
    weights[pix[win]] = np.stack([b0[win], b1[win], b2[win]], axis=1) / depth[win, None]
    return tri_id, weights


def _shade(normal: np.ndarray, color: np.ndarray, view: np.ndarray) -> np.ndarray:
    """Lambert from a few lights plus a little Blinn specular; double-sided."""
    n = normal / np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    n = np.where((n * view).sum(axis=1, keepdims=True) < 0, -n, n)
    diffuse = np.full(len(n), AMBIENT)
    spec = np.zeros(len(n))
    for direction, power in LIGHTS:
        d = direction / np.linalg.norm(direction)
        diffuse += power * np.clip(n @ d, 0.0, None)
        h = d + view
        h = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
        spec += power * np.clip((n * h).sum(axis=1), 0.0, None) ** SHININESS
    return color * diffuse[:, None] + SPECULAR * spec[:, None]


def _to_srgb8(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0.0, 1.0)
    s = np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return np.round(s * 255).astype(np.uint8)


def render(
    face: DemoFace,
    weights: np.ndarray | None = None,
    rotations: np.ndarray | None = None,
    size: tuple[int, int] = (512, 512),
    supersample: int = 2,
    fov_deg: float = 22.0,
) -> np.ndarray:
    """The face with `weights` [52] and `rotations` [9] (ROTATION_NAMES order, radians) as an
    sRGB image, uint8 [H, W, 3]."""
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"bad image size {size}")
    ss = max(1, int(supersample))
    sw, sh = width * ss, height * ss
    positions, normals, colors, faces = posed_meshes(face, weights, rotations)

    eye, fov = _camera(face, fov_deg)
    rel = positions - eye
    z = np.maximum(-rel[:, 2], 1e-6)  # distance along the view axis (camera looks down -Z)
    focal = 0.5 * sh / np.tan(fov / 2)
    screen = np.stack([0.5 * sw + focal * rel[:, 0] / z, 0.5 * sh - focal * rel[:, 1] / z], 1)
    tri_id, bary = _rasterise(screen, 1.0 / z, faces, sw, sh)

    ramp = np.linspace(0.0, 1.0, sh)[:, None, None]
    image = (1 - ramp) * BACKGROUND_TOP + ramp * BACKGROUND_BOTTOM
    image = np.broadcast_to(image, (sh, sw, 3)).reshape(-1, 3).copy()
    hit = np.flatnonzero(tri_id >= 0)
    corners = faces[tri_id[hit]]  # [n, 3]
    b = bary[hit]
    point = np.einsum("nk,nkc->nc", b, positions[corners])
    normal = np.einsum("nk,nkc->nc", b, normals[corners])
    color = np.einsum("nk,nkc->nc", b, colors[corners])
    if face.uv is not None and face.wrinkle_targets:
        uv = np.full((len(positions), 2), SKINLESS_UV)
        uv[: len(face.uv)] = face.uv
        w = np.zeros(len(face.target_names)) if weights is None else weights
        color = (
            color
            * (1.0 - wrinkle_darkening(face, w, np.einsum("nk,nkc->nc", b, uv[corners])))[:, None]
        )
    view = eye - point
    view /= np.linalg.norm(view, axis=1, keepdims=True)
    image[hit] = _shade(normal, color, view)

    image = image.astype(np.float32).reshape(height, ss, width * ss * 3).sum(axis=1)
    image = image.reshape(height, width, ss, 3).sum(axis=2) / (ss * ss)
    return _to_srgb8(image)


def encode_png(img: np.ndarray) -> bytes:
    """An 8-bit RGB (or grey) PNG of `img` [H, W, 3] or [H, W]."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        raise ValueError("PNG images must be uint8")
    if a.ndim == 2:
        a, color_type = a[:, :, None], 0
    elif a.ndim == 3 and a.shape[2] == 3:
        color_type = 2
    else:
        raise ValueError(f"expected [H, W] or [H, W, 3], got {a.shape}")
    h, w = a.shape[:2]
    rows = np.concatenate([np.zeros((h, 1), np.uint8), a.reshape(h, -1)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def write_png(path: str | os.PathLike, img: np.ndarray, force: bool = False) -> Path:
    """Write `img` as a PNG atomically (refuses to overwrite unless `force`)."""
    return atomic_write_bytes(path, encode_png(img), force=force)


def contact_sheet(
    images: Sequence[np.ndarray], cols: int, pad: int = 4, background: int = 24
) -> np.ndarray:
    """Tile equally sized uint8 images [H, W, 3] into a grid `cols` wide."""
    if not images:
        raise ValueError("no images to tile")
    h, w = images[0].shape[:2]
    if any(im.shape[:2] != (h, w) for im in images):
        raise ValueError("contact_sheet needs images of one size")
    cols = max(1, min(int(cols), len(images)))
    rows = -(-len(images) // cols)
    sheet = np.full((pad + rows * (h + pad), pad + cols * (w + pad), 3), background, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        sheet[y : y + h, x : x + w] = im[:, :, :3] if im.ndim == 3 else im[:, :, None]
    return sheet


def render_strip(
    curves: FaceCurves,
    times: Sequence[float],
    size: int = 256,
    cols: int | None = None,
    face: DemoFace | None = None,
) -> np.ndarray:
    """Frames of `curves` at `times` (seconds) rendered on the demo face, tiled in a grid."""
    face = face or load_demo_face()
    shapes = curves.blendshapes()
    rot_index = [curves.channels.index(n) for n in ROTATION_NAMES]
    frames = []
    for t in times:
        i = min(curves.n_frames - 1, max(0, round(t * curves.fps)))
        frames.append(render(face, shapes[i], curves.values[i, rot_index], size=(size, size)))
    return contact_sheet(frames, cols or len(frames))
