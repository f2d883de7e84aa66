"""Does a talking portrait read? Emotion, lips and speed of one photo speaking one clip.

For one portrait and one emotion (intensity 1.0; "neutral": none), the clip is animated with
its transcript (inference.pipeline.animate, life on, 30 fps), rendered and encoded as the
user's MP4 is (render.video.write_video, H.264 + AAC), and the MP4 is decoded again and read
from outside:

- emotion: every `fer_every`-th frame by the FER2013 classifier (evaluation.fer_classifier), the
  share whose top-1 class is the emotion's (neutral: the neutral class, i.e. none of the six);
- lips: every frame re-tracked by mediapipe (evaluation.portrait_lips): the correlation of the
  inner-lip opening with the curves' rigs.mouth.lip_gap, and the P/B/M phones of the forced
  alignment on which the video's mouth closes;
- time: the photo's tracking (load_portrait) and write_video's wall time (draw + encode).

Development only: nothing in the runtime imports this module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emosync.evaluation.fer_classifier import LABELS, FerClassifier
from emosync.evaluation.metrics import score
from emosync.evaluation.portrait_lips import (
    bilabial_closures,
    correlation,
    frame_opening,
    video_frames,
)
from emosync.inference.facecurves import FaceCurves
from emosync.inference.timed_phones import Alignment
from emosync.rigs.emotions import EMOTIONS
from emosync.rigs.mouth import lip_gap

NEUTRAL = "neutral"
MEASURED = (NEUTRAL, *(e for e in EMOTIONS if e != "contempt"))  # FER2013 has no contempt
FPS = 30.0
SIZE = 512


def fer_class(emotion: str) -> str | None:
    """The FER2013 class an emotion should read as ("disgusted" -> "disgust"), None if none."""
    return next((label for label in LABELS if emotion.startswith(label)), None)


def emotion_curves(clip: Path, transcript: str, emotion: str, fps: float = FPS) -> FaceCurves:
    """The clip animated with `emotion` at intensity 1.0 (NEUTRAL: no emotion), life on."""
    from emosync.inference.pipeline import AnimateOptions, animate

    options = AnimateOptions(
        transcript=transcript,
        emotion=None if emotion == NEUTRAL else emotion,
        intensity=1.0,
        fps=fps,
    )
    return animate(clip, options)


def reference_alignment(clip: Path, transcript: str) -> Alignment:
    """The forced alignment of the transcript: the reference phones (as evaluation.compare)."""
    from emosync.inference.alignment import align
    from emosync.inference.audio import load_audio

    return align(load_audio(clip).samples, transcript)


@dataclass
class ClipResult:
    """One portrait speaking one clip with one emotion, as measured on its MP4."""

    portrait: str
    emotion: str
    video: Path  # the MP4 measured
    frame_rate: float  # of the curves and the video
    n_frames: int
    track_s: float  # load_portrait: reading and tracking the photo
    video_s: float  # write_video: drawing and encoding every frame
    cpu_s: float  # CPU seconds of both, ffmpeg's included (the load does not change it)
    tops: list[str | None]  # FER top-1 per read frame (None: no face found)
    openings: np.ndarray  # per video frame, the inner-lip opening (NaN: no face)
    curve_gap: np.ndarray  # per curve frame, rigs.mouth.lip_gap
    closures: tuple[int, int]  # (P/B/M phones the video closes on, P/B/M phones)
    curve_seal_rate: float | None  # the same phones scored on the curves (metrics.score)
    stills: dict[int, np.ndarray] = field(default_factory=dict)  # frames kept for pictures

    @property
    def share(self) -> float:
        """Share of read frames whose top-1 is the emotion's class (no face: a miss)."""
        target = fer_class(self.emotion)
        return sum(t == target for t in self.tops) / max(1, len(self.tops))

    @property
    def lip_correlation(self) -> float:
        return correlation(self.openings, self.curve_gap)

    @property
    def throughput(self) -> float:
        """Frames per second of the whole job: tracking the photo, drawing and encoding."""
        return self.n_frames / max(1e-9, self.track_s + self.video_s)

    def summary(self) -> dict[str, Any]:
        tops = [t or "no face" for t in self.tops]
        return {
            "portrait": self.portrait,
            "emotion": self.emotion,
            "frames": self.n_frames,
            "read": len(self.tops),
            "share": round(self.share, 3),
            "tops": {k: tops.count(k) for k in sorted(set(tops), key=lambda k: -tops.count(k))},
            "lip_correlation": round(self.lip_correlation, 3),
            "closures": list(self.closures),
            "curve_seal_rate": self.curve_seal_rate,
            "no_face_frames": int(np.isnan(self.openings).sum()),
            "track_s": round(self.track_s, 3),
            "video_s": round(self.video_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "fps": round(self.throughput, 1),
        }


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (ffmpeg)."""
    import resource

    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure_clip(
    image: np.ndarray,
    name: str,
    emotion: str,
    curves: FaceCurves,
    reference: Alignment,
    clip: Path,
    out: Path,
    judge: FerClassifier,
    fer_every: int = 10,
    keep: tuple[int, ...] = (),
    expression_gain: float | None = None,
) -> ClipResult:
    """Render `curves` on the photo `image` into `out` (an MP4, overwritten) with the clip's
    voice, decode it and measure it; `keep`: frame indices whose decoded frames are kept;
    `expression_gain`: the renderer's (default: its own default)."""
    from emosync.render.motion import EXPRESSION_GAIN
    from emosync.render.portrait import load_portrait
    from emosync.render.video import write_video

    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    portrait = load_portrait(image, name)
    track_s = time.perf_counter() - t0
    gain = EXPRESSION_GAIN if expression_gain is None else expression_gain
    result = write_video(
        curves, portrait, out, audio_path=clip, size=SIZE, force=True, expression_gain=gain
    )
    cpu_s = _cpu_seconds() - cpu0
    tops: list[str | None] = []
    openings, stills = [], {}
    for i, frame in enumerate(video_frames(out)):
        openings.append(frame_opening(frame))
        if i % fer_every == fer_every // 2:
            reading = judge.read(frame)
            tops.append(None if reading is None else reading.top)
        if i in keep:
            stills[i] = frame
    seal = score(curves, reference)["seal_rate"]
    opened = np.array(openings, dtype=np.float64)
    return ClipResult(
        portrait=name,
        emotion=emotion,
        video=out,
        frame_rate=float(curves.fps),
        n_frames=result.n_frames,
        track_s=track_s,
        video_s=result.seconds,
        cpu_s=cpu_s,
        tops=tops,
        openings=opened,
        curve_gap=lip_gap(curves.blendshapes()).astype(np.float64),
        closures=bilabial_closures(opened, reference, curves.fps),
        curve_seal_rate=None if seal is None else round(float(seal), 3),
        stills=stills,
    )
