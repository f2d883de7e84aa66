"""A portrait: one photo, its face tracked once with mediapipe's face mesh.

Reading and tracking are inference/emotion_image's (the same decoding, EXIF orientation, grey
and alpha handling, size limits and face choice as a photo given as an emotion).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.errors import InputError
from emosync.inference.emotion_image import (
    detect_faces,
    fitter,
    landmarks_to_model_space,
    largest_face,
    load_calibration,
    load_image,
    sized_for_tracking,
)

N_TRACKED = 478  # mediapipe's 468 mesh landmarks and 10 iris points (refined landmarks)


@dataclass(frozen=True)
class Portrait:
    """The photo and its tracked face.

    `points` are the 478 landmarks in pixels of `image`: x to the right, y down, z away from the
    camera in the same pixel units (mediapipe's depth scaled by the image width).
    """

    image: np.ndarray  # uint8 [H, W, 3] RGB
    points: np.ndarray  # float64 [478, 3]
    name: str
    warnings: tuple[str, ...] = ()
    expression: np.ndarray | None = None  # [52] the photo's own ARKit pose, fitted

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def face_size(self) -> float:
        """The larger side of the landmarks' box, in pixels."""
        span = self.points[:, :2].max(axis=0) - self.points[:, :2].min(axis=0)
        return float(span.max())

    def scaled(self, width: int, height: int) -> Portrait:
        """The portrait resampled to `width` × `height` (landmarks follow)."""
        if (width, height) == (self.width, self.height):
            return self
        import cv2

        shrink = width < self.width
        image = cv2.resize(
            self.image,
            (width, height),
            interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC,
        )
        factor = np.array([width / self.width, height / self.height, width / self.width])
        return Portrait(image, self.points * factor, self.name, self.warnings, self.expression)


def load_portrait(source: str | Path | np.ndarray, name: str | None = None) -> Portrait:
    """Read a photo (a path, or an RGB/RGBA/grey uint8 array) and track its largest face.

    InputError (one line) when it is not an image, holds no face, or the face is smaller than
    emotion_image.MIN_FACE_PX; several faces: the largest is used and a warning names it.
    Photos larger than emotion_image.MAX_SIDE_PX on a side are scaled down first.
    """
    if isinstance(source, np.ndarray):
        label = name or "the image"
        image = _rgb_array(source, label)
    else:
        label = name or str(source)
        image, _ = load_image(source)  # scaled-down notes: the video is smaller still
    faces = detect_faces(image)
    index, warning = largest_face(faces, label)
    lm = faces[index].landmarks
    height, width = image.shape[:2]
    # mediapipe: x, y in [0, 1] of the width and height, z in units of the width
    points = np.asarray(lm[:N_TRACKED], dtype=np.float64) * [width, height, width]
    points[:, :2] -= 0.5  # normalised 0..1 spans the pixels' outer edges; OpenCV indexes centres
    space = landmarks_to_model_space(lm, width=width, height=height)
    expression = fitter(load_calibration() is not None).fit(space).weights
    return Portrait(image, points, label, (warning,) if warning else (), expression)


def _rgb_array(array: np.ndarray, label: str) -> np.ndarray:
    """An array as RGB uint8 [H, W, 3]: grey is repeated, alpha dropped, large ones shrunk."""
    a = np.asarray(array)
    if a.dtype != np.uint8:
        raise InputError(f"{label} must be uint8, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise InputError(f"{label} must be [H, W], [H, W, 3] or [H, W, 4], got {a.shape}")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    a, _ = sized_for_tracking(a[:, :, :3], label)
    return np.ascontiguousarray(a)
