"""Emotion from a photo: mediapipe face mesh, the ARKit fit, then the emotion read-out.

mediapipe (and the OpenCV it brings) is optional at run time and imported only here, lazily;
Blender's bundled runtime does not ship it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from emosync.errors import InputError
from emosync.inference.expression_fit import (
    ExpressionFitter,
    TrackerCalibration,
    emotion_from_features,
    emotion_from_pose,
    landmarks_to_model_space,
)
from emosync.inference.quiet import quiet_native_logging, quiet_stderr

MIN_FACE_PX = 64  # a face smaller than this (its landmarks' box) is too coarse to read
MAX_SIDE_PX = 2048  # larger photos are scaled down first
MIN_IMAGE_PX = 32
MAX_FACES = 5
CALIBRATION_FILE = "image_calibration.npz"
INSTALL_HINT = "reading emotion from a photo needs mediapipe 0.10.21: pip install 'emosync[image]'"


@dataclass
class ImageReading:
    state: np.ndarray  # [7]
    expression: np.ndarray  # [52], the fitted ARKit pose
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackedFace:
    landmarks: np.ndarray  # [478 × 3], mediapipe's normalised image coordinates
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the image that was read

    @property
    def size(self) -> int:
        return max(self.bbox[2] - self.bbox[0], self.bbox[3] - self.bbox[1])


def image_emotion(path: str | Path, intensity: float = 1.0) -> ImageReading:
    """Read the emotion (and the expression) of the largest face in a photo."""
    image, notes = load_image(path)
    faces = detect_faces(image)
    index, warning = largest_face(faces, path)
    warnings = [*notes, *([warning] if warning else [])]
    return read_face(faces[index], image.shape, intensity, warnings, len(faces), index)


def largest_face(faces: list[TrackedFace], path: str | Path) -> tuple[int, str | None]:
    """The index of the largest of `faces` found in `path`, and a warning naming it when there
    were several; InputError when there is none or it is smaller than MIN_FACE_PX."""
    if not faces:
        raise InputError(f"no face found in {path}")
    index = max(range(len(faces)), key=lambda i: faces[i].size)
    face = faces[index]
    if face.size < MIN_FACE_PX:
        raise InputError(
            f"the face in {path} is {face.size} px across; it needs at least {MIN_FACE_PX} px"
        )
    if len(faces) == 1:
        return index, None
    return index, (
        f"{len(faces)} faces in {Path(path).name}; used face {index} (the largest, "
        f"box {list(face.bbox)})"
    )


def read_face(
    face: TrackedFace,
    shape: tuple[int, ...],
    intensity: float,
    warnings: list[str],
    n_faces: int = 1,
    index: int = 0,
) -> ImageReading:
    """Fit the ARKit pose to one tracked face and read its emotion."""
    calibration = load_calibration()
    if calibration is None:
        warnings.append(f"no tracker calibration ({CALIBRATION_FILE}); readings are weaker")
    points = landmarks_to_model_space(face.landmarks, width=shape[1], height=shape[0])
    fit = fitter(calibration is not None).fit(points)
    if calibration is not None and calibration.prototypes is not None:
        state = emotion_from_features(fit.weights, calibration)
    else:
        gain = calibration.gain if calibration is not None else 1.0
        state = emotion_from_pose(fit.weights) / gain
    state = np.clip(state * float(intensity), 0.0, 1.5)
    details = {
        "faces": n_faces,
        "face_index": index,
        "face_bbox": list(face.bbox),
        "image_size": [int(shape[1]), int(shape[0])],
        "head_yaw": round(fit.yaw, 4),
        "fit_residual_mm": round(fit.residual * 1000.0, 3),
    }
    return ImageReading(state, fit.weights, warnings, details)


def load_image(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """An RGB uint8 image [H, W, 3], scaled down when its longer side exceeds MAX_SIDE_PX."""
    cv2 = _cv2()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image not found: {path}")
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise InputError(f"cannot read image {path}: {exc.strerror or exc}") from None
    try:
        with quiet_stderr():  # libpng/libjpeg print their complaints on fd 2
            bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error:  # OpenCV refuses to decode more than 2^30 pixels
        raise InputError(f"image {path} is too large to read (over 2^30 pixels)") from None
    if bgr is None:
        raise InputError(f"{path} is not an image that can be read (PNG, JPEG, BMP, WebP, TIFF)")
    bgr, notes = sized_for_tracking(bgr, f"image {path}")
    return np.ascontiguousarray(bgr[:, :, ::-1]), notes


def sized_for_tracking(image: np.ndarray, label: str) -> tuple[np.ndarray, list[str]]:
    """`image` [H, W, C], InputError when it is too small to find a face in (MIN_IMAGE_PX),
    scaled down when its longer side exceeds MAX_SIDE_PX (with a note that says so)."""
    height, width = image.shape[:2]
    if min(height, width) < MIN_IMAGE_PX:
        raise InputError(f"{label} is {width}×{height} px; too small to find a face in")
    longest = max(height, width)
    if longest <= MAX_SIDE_PX:
        return image, []
    scale = MAX_SIDE_PX / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    cv2 = _cv2()
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image, [f"image scaled down from {width}×{height} to {size[0]}×{size[1]} px"]


def detect_faces(image: np.ndarray) -> list[TrackedFace]:
    """Every face mediapipe finds in an RGB uint8 image, in its order."""
    mesh = _face_mesh()
    with quiet_stderr():  # TFLite's and absl's own lines on every call
        result = mesh.process(np.ascontiguousarray(image))
    faces = []
    height, width = image.shape[:2]
    for found in result.multi_face_landmarks or []:
        lm = np.array([(p.x, p.y, p.z) for p in found.landmark], dtype=np.float64)
        x, y = lm[:, 0] * width, lm[:, 1] * height
        box = (
            int(max(0, np.floor(x.min()))),
            int(max(0, np.floor(y.min()))),
            int(min(width, np.ceil(x.max()))),
            int(min(height, np.ceil(y.max()))),
        )
        faces.append(TrackedFace(lm, box))
    return faces


@functools.cache
def load_calibration() -> TrackerCalibration | None:
    """The shipped tracker calibration of the image read-out, or None if absent."""
    ref = resources.files("emosync.inference").joinpath("data", CALIBRATION_FILE)
    if not ref.is_file():
        return None
    with ref.open("rb") as f, np.load(f, allow_pickle=False) as data:
        readout = {
            key: data[key].astype(np.float64)
            for key in ("feature_mean", "feature_spread", "prototypes")
            if key in data.files
        }
        return TrackerCalibration(
            yaws=data["yaws"].astype(np.float64),
            neutrals=data["neutrals"].astype(np.float64),
            gain=float(data["gain"]),
            **readout,
        )


@functools.cache
def fitter(calibrated: bool = True) -> ExpressionFitter:
    """An ARKit expression fitter, with the shipped calibration unless told otherwise."""
    return ExpressionFitter(calibration=load_calibration() if calibrated else None)


@functools.cache
def _face_mesh() -> Any:
    mp = _mediapipe()
    with quiet_stderr():
        return mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=MAX_FACES
        )


def _mediapipe() -> Any:
    quiet_native_logging()
    try:
        with quiet_stderr():
            import mediapipe
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return mediapipe


def _cv2() -> Any:
    _mediapipe()  # OpenCV comes with mediapipe; name the package people need
    try:
        import cv2
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return cv2
