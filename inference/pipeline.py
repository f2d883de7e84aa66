"""The animate pipeline: audio + emotion in, FaceCurves out (DESIGN.md's data flow)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emosync import __version__
from emosync.errors import InputError
from emosync.inference.alignment import align, align_stream
from emosync.inference.articulation import articulate
from emosync.inference.audio import SAMPLE_RATE, Audio, load_audio, probe_audio, stream_audio
from emosync.inference.compose import compose
from emosync.inference.emotion_layer import emotion_pose_frames
from emosync.inference.facecurves import FaceCurves
from emosync.inference.features import frame_energy
from emosync.inference.life import LifeSettings, life_frames
from emosync.inference.phones import Alignment
from emosync.inference.timeline import EmotionTimeline
from emosync.rigs.emotions import MAX_INTENSITY, N_EMOTIONS, parse_emotion

ENGINES = ("auto", "phonetic", "neural")
ENERGY_RATE = 100.0  # frame_energy gives one value per 10 ms hop
STREAM_ABOVE_SECONDS = 120.0  # longer files are decoded and aligned piece by piece
SILENT_DB = -60.0
Progress = Callable[[float, float], None]  # (seconds done, seconds total)


@dataclass
class AnimateOptions:
    transcript: str | None = None
    emotion: str | None = None
    intensity: float = 1.0
    timeline: EmotionTimeline | None = None
    fps: float = 60.0
    engine: str = "auto"
    life: LifeSettings = field(default_factory=LifeSettings)
    seed: int = 0


def animate(
    source: str | Path | Audio, options: AnimateOptions, progress: Progress | None = None
) -> FaceCurves:
    """Animate one clip. Raises InputError for anything the user can fix."""
    engine = resolve_engine(options.engine)
    if not 1.0 <= options.fps <= 240.0:
        raise InputError(f"fps must be between 1 and 240, got {options.fps:g}")
    timeline = emotion_timeline(options)
    transcript = (options.transcript or "").strip() or None
    alignment, energy, duration, name = _align_source(source, transcript, progress)

    n_frames = max(1, round(duration * options.fps))
    emotion = emotion_track(timeline, options.intensity, n_frames, options.fps)
    art = articulate(alignment, n_frames, options.fps, emotion)
    pose = emotion_pose_frames(emotion, options.fps, seed=options.seed)
    energy_frames = _resample_track(energy, ENERGY_RATE, n_frames, options.fps)
    life = life_frames(
        n_frames, options.fps, energy_frames, art.seal, emotion, options.life, seed=options.seed
    )
    weights = compose(art, pose, life.blend)
    values = np.concatenate([weights, life.rotations], axis=1)
    metadata = {
        "name": name,
        "source_audio": str(source) if not isinstance(source, Audio) else (source.path or ""),
        "duration": round(duration, 6),
        "engine": engine,
        "emotion_timeline": timeline.to_metadata(),
        "intensity": options.intensity,
        "transcript": transcript,
        "alignment": alignment.method,
        "warnings": list(alignment.warnings),
        "model_version": f"phonetic-{__version__}",
        "emosync_version": __version__,
        "seed": options.seed,
    }
    return FaceCurves(float(options.fps), values, metadata=metadata)


def resolve_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise InputError(f"unknown engine '{engine}'; choose one of: {', '.join(ENGINES)}")
    if engine == "neural":
        raise InputError("the neural engine has no model in this version; use --engine phonetic")
    return "phonetic"


def emotion_timeline(options: AnimateOptions) -> EmotionTimeline:
    base = parse_emotion(options.emotion) if options.emotion else np.zeros(N_EMOTIONS)
    if options.timeline is None:
        return EmotionTimeline.constant(base)
    return EmotionTimeline(options.timeline.segments, base=base)


def emotion_track(
    timeline: EmotionTimeline, intensity: float, n_frames: int, fps: float
) -> np.ndarray:
    """Per-frame emotion state [frames × 7]; the global intensity scales the whole track."""
    return np.clip(timeline.frames(n_frames, fps) * intensity, 0.0, MAX_INTENSITY).astype(
        np.float32
    )


def _align_source(
    source: str | Path | Audio, transcript: str | None, progress: Progress | None
) -> tuple[Alignment, np.ndarray, float, str]:
    if isinstance(source, Audio):
        audio = source
    else:
        info = probe_audio(source)
        if info.duration > STREAM_ABOVE_SECONDS:
            return _align_streamed(Path(source), info.duration, transcript, progress)
        audio = load_audio(source)
    name = Path(audio.path).stem if audio.path else "clip"
    if progress:
        progress(0.0, audio.duration)
    alignment = align(audio.samples, transcript)
    if progress:
        progress(audio.duration, audio.duration)
    return alignment, frame_energy(audio.samples), audio.duration, name


def _align_streamed(
    path: Path, duration: float, transcript: str | None, progress: Progress | None
) -> tuple[Alignment, np.ndarray, float, str]:
    """Decode and align a long file piece by piece; only the energy track is kept whole."""
    energies: list[np.ndarray] = []
    n_samples = 0

    def blocks() -> Iterator[np.ndarray]:
        nonlocal n_samples
        for block in stream_audio(path):
            energies.append(frame_energy(block))
            n_samples += len(block)
            yield block

    report = (lambda done: progress(min(done, duration), duration)) if progress else None
    alignment = align_stream(blocks(), transcript, progress=report)
    energy = np.concatenate(energies) if energies else np.zeros(0, np.float32)
    if energy.size == 0 or float(energy.max()) < SILENT_DB:
        raise InputError(f"{path} is silent")
    return alignment, energy, n_samples / SAMPLE_RATE, path.stem


def _resample_track(track: np.ndarray, rate: float, n_frames: int, fps: float) -> np.ndarray:
    if track.size == 0:
        return np.zeros(n_frames, np.float32)
    src = np.arange(track.size) / rate
    return np.interp(np.arange(n_frames) / fps, src, track).astype(np.float32)
