"""The mouth on a rendered video, measured from outside: mediapipe re-tracks every frame.

The inner-lip opening of a frame is the distance between mediapipe's inner-lip midpoints
(landmarks 13, upper, and 14, lower) over the distance between the outer eye corners (33 and
263), which neither the jaw nor the lips move. Closed lips measure under 0.01 on still photos
(Grace Hopper 0.001, Joe Biden 0.002), a smile showing teeth 0.11 to 0.17; CLOSED = 0.03 lies
between. The curves' own opening is rigs.mouth.lip_gap; the bilabials (P, B, M) come from a
forced alignment of the transcript and are windowed as evaluation.metrics windows them.

Development only: nothing in the runtime imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from emosync.evaluation.metrics import EDGE_TOLERANCE, frames_between, normalised_phones
from emosync.inference.timed_phones import Alignment
from emosync.rigs.face_landmarks import EYE_L_UP, EYE_R_UP, LIP_INNER_LO, LIP_INNER_UP
from emosync.rigs.phonemes import BILABIAL

UPPER_LIP, LOWER_LIP = LIP_INNER_UP[5], LIP_INNER_LO[5]  # inner-lip midpoints, 13 and 14
EYE_CORNERS = (EYE_R_UP[0], EYE_L_UP[0])  # outer eye corners, 33 and 263 (the face's scale)
CLOSED = 0.03  # an opening under this (in eye-corner distances) is a closed mouth


def lip_opening(points: np.ndarray) -> float:
    """Inner-lip opening of one face: |13 - 14| / |33 - 263|, from landmarks in pixels [N, 2+]."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    scale = np.linalg.norm(p[EYE_CORNERS[0]] - p[EYE_CORNERS[1]])
    return float(np.linalg.norm(p[UPPER_LIP] - p[LOWER_LIP]) / scale) if scale > 0 else np.nan


def frame_opening(frame: np.ndarray) -> float:
    """The largest face's lip opening in an RGB frame; NaN when mediapipe finds no face."""
    from emosync.inference.emotion_image import detect_faces

    faces = detect_faces(frame)
    if not faces:
        return np.nan
    face = max(faces, key=lambda f: f.size)
    height, width = frame.shape[:2]
    return lip_opening(face.landmarks[:, :2] * (width, height))


def track_openings(frames: Iterable[np.ndarray]) -> np.ndarray:
    """Per frame, the lip opening (NaN where no face was found)."""
    return np.array([frame_opening(f) for f in frames], dtype=np.float64)


def video_frames(path: str | Path) -> Iterator[np.ndarray]:
    """The frames of a video file as RGB uint8 arrays, decoded by OpenCV's FFmpeg."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise OSError(f"cannot open video {path}")
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield np.ascontiguousarray(bgr[:, :, ::-1])
    finally:
        capture.release()


def correlation(video: np.ndarray, curves: np.ndarray) -> float:
    """Pearson correlation of the video's and the curves' openings over frames with a face."""
    video = np.asarray(video, dtype=np.float64)
    curves = np.asarray(curves, dtype=np.float64)[: video.size]
    ok = np.isfinite(video[: curves.size])
    a, b = video[: curves.size][ok], curves[ok]
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def bilabial_closures(
    openings: np.ndarray, reference: Alignment, fps: float, closed: float = CLOSED
) -> tuple[int, int]:
    """(closed, total): the reference's P/B/M phones during which the video's mouth closes on
    at least one frame (the phone ± EDGE_TOLERANCE, as evaluation.metrics scores the curves).
    Phones wholly after the video's last frame are not counted; a frame without a face is not
    a closed one."""
    openings = np.asarray(openings, dtype=np.float64)
    total = shut = 0
    for phone in normalised_phones(reference):
        if phone.label not in BILABIAL:
            continue
        window = openings[
            frames_between(
                fps, openings.size, phone.start - EDGE_TOLERANCE, phone.end + EDGE_TOLERANCE
            )
        ]
        if window.size == 0:
            continue
        total += 1
        shut += bool(np.any(window[np.isfinite(window)] < closed))
    return shut, total
