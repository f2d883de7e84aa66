"""The inside of the mouth where the lips part: a dark cavity, upper teeth fixed to the skull,
lower teeth that ride with the jaw, and the tongue behind them.

Painted in a small patch around the inner-lip polygon, supersampled and shaded: the lips shadow
what is near them, teeth darken toward the corners, a narrow opening is darker than a wide one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUPERSAMPLE = 4  # samples per pixel side for a mouth up to 60 px wide; fewer for wider ones
SEAM_DARKNESS = np.array([0.22, 0.32, 0.3])  # the lips' meeting line: 1 - this, per channel
MIN_GAP_PX = 0.6  # a thinner opening paints nothing
CAVITY = np.array([0.13, 0.045, 0.05])  # sRGB 0..1
CAVITY_EDGE = np.array([0.30, 0.11, 0.11])
TEETH = np.array([0.96, 0.91, 0.80])  # ivory: white teeth look blue beside warm skin
TONGUE = np.array([0.66, 0.31, 0.32])
UPPER_TOOTH = 0.13  # visible height of the upper incisors, × the mouth width
LOWER_TOOTH = 0.11
TOOTH_EDGES = (0.0, 0.17, 0.33, 0.47)  # gaps between teeth, × the half width


@dataclass(frozen=True)
class MouthShape:
    """Where the mouth is in a frame (pixels, [11, 2] each, corner to corner)."""

    upper_lip: np.ndarray  # inner upper lip
    lower_lip: np.ndarray  # inner lower lip
    upper_jaw: np.ndarray  # the upper lip line at rest, turned with the head: the upper teeth
    lower_jaw: np.ndarray  # the lower lip line at rest moved with the jaw: the lower teeth
    width: float  # mouth width at rest, pixels
    tongue_out: float = 0.0
    tint: np.ndarray | None = None  # [3] the photo's light on the face (max channel 1)


def mouth_axes(lip: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """For an inner-lip line `lip` [11, 2+] (corner to corner, pixels): the unit vector from its
    first corner to its last, the unit vector down the face across it (image y grows downwards)
    and the corners' distance."""
    axis = lip[-1, :2] - lip[0, :2]
    width = float(np.linalg.norm(axis))
    along = axis / max(width, 1e-6)
    return along, np.array([-along[1], along[0]]), width


def paint_mouth(frame: np.ndarray, shape: MouthShape) -> None:
    """Paint the mouth's inside into `frame` (RGB uint8, in place) where the lips are apart,
    and the seam where they meet."""
    paint_seam(frame, shape)
    polygon = np.concatenate([shape.upper_lip, shape.lower_lip[-2:0:-1]])
    along, down, width = mouth_axes(shape.upper_lip)
    half = max(width / 2, 1.0)
    gap = float(((shape.lower_lip[1:-1] - shape.upper_lip[1:-1]) @ down).max())
    if gap < MIN_GAP_PX:
        return
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 3
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame.shape[1]), min(y1, frame.shape[0])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    colour, alpha = _render_patch(shape, polygon, (x0, y0, x1, y1), along, down, half, gap)
    patch = frame[y0:y1, x0:x1].astype(np.float32) / 255.0
    blended = patch * (1.0 - alpha[..., None]) + colour
    frame[y0:y1, x0:x1] = np.clip(blended * 255.0 + 0.5, 0, 255).astype(np.uint8)


def paint_seam(frame: np.ndarray, shape: MouthShape) -> None:
    """Darken a thin anti-aliased line where the lips meet (between the inner contours)."""
    import cv2

    line = 0.5 * (shape.upper_lip + shape.lower_lip)
    x0, y0 = np.maximum(np.floor(line.min(axis=0)).astype(int) - 3, 0)
    x1, y1 = np.ceil(line.max(axis=0)).astype(int) + 4
    x1, y1 = min(x1, frame.shape[1]), min(y1, frame.shape[0])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    points = np.round((line - [x0, y0]) * 16).astype(np.int32)
    thickness = max(1, round(shape.width / 45))
    cv2.polylines(mask, [points[1:-1]], False, (255,), thickness, cv2.LINE_AA, 4)
    shade = 1.0 - SEAM_DARKNESS * mask.astype(np.float32)[..., None] / 255.0
    patch = frame[y0:y1, x0:x1].astype(np.float32) * shade
    frame[y0:y1, x0:x1] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)


def _render_patch(
    shape: MouthShape,
    polygon: np.ndarray,
    box: tuple[int, int, int, int],
    along: np.ndarray,
    down: np.ndarray,
    half: float,
    gap: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Premultiplied colour [h, w, 3] and coverage [h, w] of the mouth's inside in `box`."""
    import cv2

    x0, y0, x1, y1 = box
    ss = int(np.clip(round(SUPERSAMPLE * 60 / max(shape.width, 1.0)), 2, SUPERSAMPLE))
    h, w = (y1 - y0) * ss, (x1 - x0) * ss
    mask = np.zeros((h, w), np.uint8)
    pts = np.round(((polygon - [x0, y0]) * ss + (ss - 1) / 2) * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], (255,), cv2.LINE_AA, 4)
    inside = mask.astype(np.float32) / 255.0
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    px = x0 + (xs - (ss - 1) / 2) / ss
    py = y0 + (ys - (ss - 1) / 2) / ss
    centre = 0.5 * (shape.upper_lip[0] + shape.upper_lip[-1])
    u = ((px - centre[0]) * along[0] + (py - centre[1]) * along[1]) / half  # -1..1 corner-corner
    v = (px - centre[0]) * down[0] + (py - centre[1]) * down[1]  # pixels, down the face

    def line(points: np.ndarray) -> np.ndarray:
        """A lip or jaw line's v at each sample's u."""
        pu = ((points - centre) @ along) / half
        pv = (points - centre) @ down
        order = np.argsort(pu)
        return np.interp(u, pu[order], pv[order])

    width = shape.width
    bow = 1.0 - 0.45 * np.clip(u, -1, 1) ** 2  # teeth get shorter toward the corners
    upper_edge = line(shape.upper_jaw) + UPPER_TOOTH * width * bow
    lower_edge = line(shape.lower_jaw) - LOWER_TOOTH * width * bow
    lower_jaw = line(shape.lower_jaw)

    # the lips' shadow: coverage blurred inward
    blur = max(0.12 * min(gap, width * 0.3) * ss, 1.0)
    soft = cv2.GaussianBlur(inside, (0, 0), blur)
    depth = np.clip((soft - 0.5) * 2.0, 0.0, 1.0)  # 0 at the lips, 1 deep inside
    tint = np.ones(3) if shape.tint is None else 0.4 + 0.6 * shape.tint
    light = float(np.clip(gap / (0.2 * width), 0.85, 1.0)) * tint

    colour = CAVITY_EDGE * (1 - depth[..., None]) + CAVITY * depth[..., None]
    tongue_centre = lower_jaw - (0.06 - 0.08 * shape.tongue_out) * width
    tongue = ((u / 0.62) ** 2 + ((v - tongue_centre) / (0.16 * width)) ** 2) < 1.0
    tongue_shade = np.clip(0.55 + 0.45 * (v - tongue_centre + 0.16 * width) / (0.3 * width), 0.5, 1)
    colour = np.where(tongue[..., None], TONGUE * tongue_shade[..., None] * light, colour)

    gaps = sum(np.exp(-(((np.abs(u) - e) / 0.018) ** 2)) for e in TOOTH_EDGES)
    tooth = (
        TEETH
        * (np.clip(1.0 - 0.6 * u**2, 0.3, 1.0) * (1.0 - 0.08 * np.minimum(gaps, 1)))[..., None]
    )
    shade = (0.78 + 0.22 * depth)[..., None] * light
    lower = (v > lower_edge) & (np.abs(u) < 0.85)
    colour = np.where(lower[..., None], tooth * shade * 0.9, colour)
    upper = (v < upper_edge) & (np.abs(u) < 0.92)
    colour = np.where(upper[..., None], tooth * shade, colour)

    premult = colour.astype(np.float32) * inside[..., None]
    size = (x1 - x0, y1 - y0)
    return (
        cv2.resize(premult, size, interpolation=cv2.INTER_AREA),
        cv2.resize(inside, size, interpolation=cv2.INTER_AREA),
    )
