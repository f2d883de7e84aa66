"""Animate options from plain values, as typed on a command line or written in a manifest row.

One place checks them and builds inference's AnimateOptions: `emosync animate`, `emosync batch`
and the Blender batch entry point all call `animate_options`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from emosync.errors import InputError
from emosync.inference.emotion_clip import clip_folder
from emosync.inference.life import LifeSettings
from emosync.inference.pipeline import AnimateOptions
from emosync.inference.timeline import EmotionTimeline
from emosync.rigs.emotions import parse_intensity

GLTF_SUFFIXES = (".glb", ".gltf")


def animate_options(
    *,
    transcript: str | None = None,
    transcript_text: str | None = None,
    emotion: str | None = None,
    emotion_image: str | None = None,
    emotion_audio: str | None = None,
    copy_expression: bool = False,
    intensity: str | float = "1.0",
    timeline: str | None = None,
    fps: str | float = "60",
    engine: str = "auto",
    blink: str | float = 1.0,
    gaze: str | float = 1.0,
    head: str | float = 1.0,
    seed: int = 0,
    clip: str | None = None,
) -> AnimateOptions:
    """Check the values and build AnimateOptions; every problem is one InputError line.
    `transcript` is the text or a .txt file (as typed on a command line), `transcript_text`
    only ever text (a manifest cell); `timeline` is a timeline JSON file; `clip` a CLIP
    folder that reads prompts and photos (default: $EMOSYNC_CLIP, if set)."""
    if sum(bool(v) for v in (emotion, emotion_image, emotion_audio)) > 1:
        raise InputError("give one of --emotion, --emotion-image, --emotion-audio")
    if copy_expression and not emotion_image:
        raise InputError("--copy-expression needs --emotion-image")
    clip_dir = clip_folder(clip)
    return AnimateOptions(
        transcript=transcript_text if transcript_text is not None else read_transcript(transcript),
        emotion=emotion,
        emotion_image=emotion_image,
        emotion_audio=emotion_audio,
        copy_expression=copy_expression,
        intensity=parse_intensity(intensity),
        timeline=EmotionTimeline.from_json(timeline, clip=clip_dir) if timeline else None,
        fps=parse_fps(fps),
        engine=engine,
        life=LifeSettings(
            blink=gain(blink, "blink"), gaze=gain(gaze, "gaze"), head=gain(head, "head")
        ),
        seed=int(seed),
        clip=str(clip_dir) if clip_dir else None,
    )


def read_transcript(value: str | None) -> str | None:
    """A transcript is text, or a file when the value names one (or looks like a .txt path)."""
    if value is None:
        return None
    path = Path(value)
    looks_like_path = path.suffix.lower() == ".txt" or ("/" in value and "\n" not in value)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read transcript {path}: {exc}") from None
    if looks_like_path:
        raise InputError(f"transcript file {path} not found")
    return value


def parse_fps(value: str | float) -> float:
    """A frame rate from text or a number, 1 to 240 fps; else an InputError."""
    return _number_in(value, "fps", 1.0, 240.0)


def gain(value: str | float, name: str) -> float:
    """A life-layer gain (`--blink`, `--gaze`, `--head`), 0 to 3; else an InputError."""
    return _number_in(value, f"--{name} gain", 0.0, 3.0)


def _number_in(value: str | float, what: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{what} must be a number, got '{value}'") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InputError(f"{what} must be between {low:g} and {high:g}, got '{value}'")
    return number


def check_rig_outputs(rig: str, outputs: Sequence[Path], mesh: str | None) -> None:
    """Live Link CSV and the demo face speak ARKit only; other rigs need JSON/NPZ or their mesh."""
    if rig == "arkit":
        return
    for out in outputs:
        suffix = out.suffix.lower()
        if suffix == ".csv" or (suffix in GLTF_SUFFIXES and not mesh):
            raise InputError(
                f"--rig {rig} cannot be written to {out.name}: Live Link CSV and the "
                "demo face use ARKit; write .json/.npz, or give --mesh"
            )
