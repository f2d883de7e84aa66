"""The animate pipeline: audio + emotion in, FaceCurves out (DESIGN.md's data flow)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from emosync import __version__
from emosync.errors import InputError
from emosync.inference.alignment import (
    TranscriptMismatch,
    align,
    align_stream,
    shutdown_workers,
)
from emosync.inference.articulation import Articulation
from emosync.inference.audio import (
    SAMPLE_RATE,
    Audio,
    AudioInfo,
    check_audible,
    load_audio,
    probe_audio,
    stream_audio,
    truncation_warning,
)
from emosync.inference.compose import compose
from emosync.inference.convertor import (
    MODEL_FPS,
    audio_blocks,
    model_available,
    neural_face_pieces,
)
from emosync.inference.emotion_condition import read_emotion
from emosync.inference.emotion_text import check_feeling
from emosync.inference.facecurves import FaceCurves, resample_rows
from emosync.inference.features import frame_energy
from emosync.inference.lexicon import transcript_words
from emosync.inference.life import LifeSettings, life_frames
from emosync.inference.phonetic import phonetic_layers
from emosync.inference.timed_phones import Alignment
from emosync.inference.timeline import EmotionTimeline
from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES
from emosync.rigs.emotion_poses import GAP_CHANNELS
from emosync.rigs.emotions import MAX_INTENSITY, N_EMOTIONS

ENGINES = ("auto", "phonetic", "neural")
ENERGY_RATE = 100.0  # frame_energy gives one value per 10 ms hop
COMPOSE_ROWS = 16384  # frames composed per step
STREAM_ABOVE_SECONDS = 120.0  # longer files are decoded and aligned piece by piece
SILENT_DB = -60.0
MISSING_MODEL = (
    "the neural engine's model (convertor.onnx) is not installed: reinstall EmoSync, give the "
    "transcript, or pass --engine phonetic (slow recognition)"
)
_GAP = [ARKIT_NAMES.index(n) for n in GAP_CHANNELS]
Progress = Callable[[float, float], None]  # (seconds done, seconds total)


@dataclass
class AnimateOptions:
    transcript: str | None = None
    emotion: str | None = None
    emotion_image: str | None = None
    emotion_audio: str | None = None
    copy_expression: bool = False
    intensity: float = 1.0
    timeline: EmotionTimeline | None = None
    fps: float = 60.0
    engine: str = "auto"
    life: LifeSettings = field(default_factory=LifeSettings)
    seed: int = 0
    clip: str | None = None  # a CLIP folder that reads prompts and photos (None: shipped)


def animate(
    source: str | Path | Audio, options: AnimateOptions, progress: Progress | None = None
) -> FaceCurves:
    """Animate one clip. Raises InputError for anything the user can fix."""
    return FaceCurves.join(animate_pieces(source, options, progress))


def animate_pieces(
    source: str | Path | Audio, options: AnimateOptions, progress: Progress | None = None
) -> Iterator[FaceCurves]:
    """`animate`'s clip as FaceCurves pieces (FaceCurves.start, .total) made a block of frames
    at a time, so a long clip is never held whole (exporters.dispatch.export_pieces writes
    them as they come). Every piece carries the clip's metadata. The work starts at the first
    piece, which raises InputError for anything the user can fix."""
    engine = resolve_engine(options.engine, options.transcript)
    if not 1.0 <= options.fps <= 240.0:
        raise InputError(f"fps must be between 1 and 240, got {options.fps:g}")
    info, audio_warnings = _check_source(source)
    timeline, expression, emotion_warnings = emotion_condition(options)
    emotion_warnings = [*audio_warnings, *emotion_warnings]
    emotion_warnings += input_warnings(timeline, source, info)
    if engine == "neural":
        yield from _animate_neural(
            source, info, options, timeline, expression, emotion_warnings, progress
        )
        return
    transcript = (options.transcript or "").strip() or None
    try:  # "auto" never runs recognition: a transcript that does not fit goes to the neural engine
        alignment, energy, duration, name = _align_source(
            source, transcript, progress, recognise_mismatch=options.engine != "auto"
        )
    except TranscriptMismatch as mismatch:
        if not model_available():
            raise InputError(
                f"{mismatch}, and the neural engine's model (convertor.onnx) is not installed; "
                "check the transcript or pass --engine phonetic (slow recognition)"
            ) from None
        warnings = [*emotion_warnings, f"{mismatch}; used the neural engine, which hears the audio"]
        neural = replace(options, transcript=None)
        yield from _animate_neural(source, info, neural, timeline, expression, warnings, progress)
        return

    n_frames = max(1, round(duration * options.fps))
    emotion = emotion_track(timeline, options.intensity, n_frames, options.fps)
    art, pose = phonetic_layers(alignment, emotion, options.fps, seed=options.seed)
    pose = _blend_expressions(pose, expression, timeline, options.fps)
    energy_frames = _resample_track(energy, ENERGY_RATE, n_frames, options.fps)
    life = life_frames(
        n_frames, options.fps, energy_frames, art.seal, emotion, options.life, seed=options.seed
    )
    del energy_frames, emotion
    source_audio = str(source) if not isinstance(source, Audio) else (source.path or "")
    metadata = _clip_metadata(
        name,
        source_audio,
        timeline,
        options,
        [*emotion_warnings, *alignment.warnings],
        duration=round(duration, 6),
        engine=engine,
        transcript=transcript,
        alignment=alignment.method,
        model_version=f"phonetic-{__version__}",
    )
    for a in range(0, n_frames, COMPOSE_ROWS):  # compose works frame by frame
        b = min(n_frames, a + COMPOSE_ROWS)
        blend, rotations = life.rows(a, b)
        weights = _compose_rows(art, pose, blend, a, b)
        values = np.concatenate([weights, rotations], axis=1)
        yield FaceCurves(float(options.fps), values, metadata=metadata, start=a, total=n_frames)


def _clip_metadata(
    name: str,
    source_audio: str,
    timeline: EmotionTimeline,
    options: AnimateOptions,
    warnings: list[str],
    **engine_keys: Any,
) -> dict[str, Any]:
    """What every engine's FaceCurves says about the clip and the request; `engine_keys`: what
    the engine itself says (duration, engine, transcript, model)."""
    return {
        "name": name,
        "source_audio": source_audio,
        "emotion_timeline": timeline.to_metadata(),
        "intensity": options.intensity,
        "warnings": warnings,
        "emosync_version": __version__,
        "seed": options.seed,
        **engine_keys,
    }


def input_warnings(
    timeline: EmotionTimeline, source: str | Path | Audio, info: AudioInfo | None
) -> list[str]:
    """What a user should hear about before the work: timeline segments that reach past the
    clip's end."""
    duration = source.duration if isinstance(source, Audio) else info.duration if info else None
    late = timeline.past_end_warning(duration) if duration is not None else None
    return [late] if late else []


def resolve_engine(engine: str, transcript: str | None = None) -> str:
    """The engine to run. "auto": phonetic (forced alignment) when the transcript has words,
    else neural. It never picks the phonetic engine's recognition (no transcript): that runs
    at ~4-9x real time, under the 17x target, and seals fewer P/B/M on held-out voices
    (docs/performance.md, "Engine choice"); without the neural model it is an error."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine '{engine}'; choose one of: {', '.join(ENGINES)}")
    if engine == "auto":
        engine = "phonetic" if transcript_words(transcript or "") else "neural"
    if engine == "neural" and not model_available():
        raise InputError(MISSING_MODEL)
    return engine


def _check_source(source: str | Path | Audio) -> tuple[AudioInfo | None, list[str]]:
    """A file's header, checked, and what to warn about it; silent files are refused here, by
    a scan that stops at the first sound, before any slow work (seconds for 10 hours)."""
    if isinstance(source, Audio):
        return None, []
    info = probe_audio(source)
    check_audible(source)
    truncated = truncation_warning(source)
    return info, [truncated] if truncated else []


def _animate_neural(
    source: str | Path | Audio,
    info: AudioInfo | None,
    options: AnimateOptions,
    timeline: EmotionTimeline,
    expression: np.ndarray | None,
    warnings: list[str],
    progress: Progress | None = None,
) -> Iterator[FaceCurves]:
    """The ONNX convertor hears the audio itself: no alignment, and a transcript is not used.
    A file is decoded block by block into the model (memory does not hold the waveform)."""
    if isinstance(source, Audio) or info is None:
        audio = source if isinstance(source, Audio) else load_audio(source)
        n_model = max(1, round(audio.duration * MODEL_FPS))
        blocks, path, report = audio_blocks(audio), audio.path, None
    else:
        # the 16 kHz length stream_audio will give, from the header: ceil(frames · 16k / rate)
        frames = round(info.duration * info.source_rate)
        n16 = -(-frames * SAMPLE_RATE // info.source_rate)
        n_model = max(1, round(n16 / SAMPLE_RATE * MODEL_FPS))
        total = n16 / SAMPLE_RATE
        report = (lambda done: progress(min(done, total), total)) if progress else None
        if report:
            report(0.0)
        blocks, path = stream_audio(source), str(source)
    rows = n_model if timeline.segments else 1  # a held emotion: one row, read for every frame
    emotion = emotion_track(timeline, options.intensity, rows, MODEL_FPS)
    pieces = neural_face_pieces(
        blocks, emotion, options.life, options.seed, options.fps, progress=report
    )
    if options.transcript:
        warnings = [*warnings, "the neural engine hears the audio; the transcript was not used"]
    name = Path(path).stem if path else "clip"
    copied = expression is not None or any(s.expression is not None for s in timeline.segments)
    metadata: dict[str, Any] | None = None
    for piece in pieces:
        if metadata is None:  # neural_face's own metadata says duration, engine, model, …
            metadata = _clip_metadata(name, path or "", timeline, options, warnings,
                                      **piece.metadata)  # fmt: skip
        if copied:
            piece.values[:, :N_BLENDSHAPES] = _blend_expressions(
                piece.values[:, :N_BLENDSHAPES], expression, timeline, options.fps, piece.start
            )
        piece.metadata = metadata
        yield piece


def _blend_expressions(
    pose: np.ndarray,
    expression: np.ndarray | None,
    timeline: EmotionTimeline,
    fps: float,
    start: int = 0,
) -> np.ndarray:
    """Copied expressions (a whole-clip one and per-segment ones) on top of the pose, whose
    first row is clip frame `start`."""
    if expression is not None:
        pose = blend_expression(pose, expression)
    for seg in timeline.segments:
        if seg.expression is not None:
            lo = min(len(pose), max(0, round(seg.start * fps) - start))
            hi = min(len(pose), max(0, round(seg.end * fps) - start))
            pose[lo:hi] = blend_expression(pose[lo:hi], seg.expression)
    return pose


def emotion_condition(
    options: AnimateOptions,
) -> tuple[EmotionTimeline, np.ndarray | None, list[str]]:
    """The emotion timeline, the photo's expression to copy (or None) and what to warn about."""
    base, expression, warnings = np.zeros(N_EMOTIONS), None, []
    if options.emotion is not None or options.emotion_image or options.emotion_audio:
        reading = read_emotion(
            options.emotion,
            options.emotion_image,
            options.emotion_audio,
            expression=options.copy_expression,
            clip=options.clip,
        )
        if reading.modality == "text":
            check_feeling(options.emotion or "", reading.details["confidence"])
        base, warnings = reading.state, list(reading.warnings)
        if options.copy_expression:
            expression = reading.expression
    if options.copy_expression and expression is None:
        raise InputError("copying an expression needs an emotion image")
    if options.timeline is None:
        return EmotionTimeline.constant(base), expression, warnings
    return EmotionTimeline(options.timeline.segments, base=base), expression, warnings


def blend_expression(pose: np.ndarray, expression: np.ndarray) -> np.ndarray:
    """The emotion pose with a copied expression [52] on top (the larger of the two per
    channel); the lip-parting channels stay with articulation so lip sync wins."""
    copied = np.clip(np.asarray(expression, dtype=np.float32).reshape(-1), 0.0, 1.0).copy()
    copied[_GAP] = 0.0
    return np.maximum(pose, copied[None, :]).astype(np.float32)


def emotion_track(
    timeline: EmotionTimeline, intensity: float, n_frames: int, fps: float
) -> np.ndarray:
    """Per-frame emotion state [frames × 7]; the global intensity scales the whole track."""
    return np.clip(timeline.frames(n_frames, fps) * intensity, 0.0, MAX_INTENSITY).astype(
        np.float32
    )


def _align_source(
    source: str | Path | Audio,
    transcript: str | None,
    progress: Progress | None,
    recognise_mismatch: bool = True,
) -> tuple[Alignment, np.ndarray, float, str]:
    """Phones of a clip; a long file is aligned piece by piece (pieces whose words cannot be
    placed are recognised whatever `recognise_mismatch` says)."""
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
    alignment = align(audio.samples, transcript, recognise_mismatch=recognise_mismatch)
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
    try:
        alignment = align_stream(blocks(), transcript, progress=report)
    finally:  # the recognition workers (a recogniser each, ~125 MB) go before the face is
        shutdown_workers()  # made, so theirs and its memory are not held at once
    energy = np.concatenate(energies) if energies else np.zeros(0, np.float32)
    if energy.size == 0 or float(energy.max()) < SILENT_DB:
        raise InputError(f"{path} is silent")
    return alignment, energy, n_samples / SAMPLE_RATE, path.stem


def _compose_rows(
    art: Articulation, pose: np.ndarray, blend: np.ndarray, a: int, b: int
) -> np.ndarray:
    """compose() on frames a..b-1 (`blend`: life's rows for them): [b - a × 52] float32."""
    rows = slice(a, b)
    speech = None if art.speech is None else art.speech[rows]
    part = Articulation(art.weights[rows], art.seal[rows], art.labiodental[rows], speech)
    return compose(part, pose[rows], blend)


def _resample_track(track: np.ndarray, rate: float, n_frames: int, fps: float) -> np.ndarray:
    if track.size == 0:
        return np.zeros(n_frames, np.float32)
    return resample_rows(track, rate, n_frames, fps)
