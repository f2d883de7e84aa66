"""Emotion over time: segments of emotion states on a base, sampled per frame with smooth
transitions.

A timeline file is `{"segments": [{"start": 0.0, "end": 2.5, "emotion": "happy",
"intensity": 0.8}, ...]}` (or the bare list). `emotion` is a prompt ("0.6 happy + 0.3
surprised") or a mapping (`{"happy": 0.6}`). Outside every segment the face shows the base.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emosync.errors import InputError
from emosync.rigs.emotions import (
    N_EMOTIONS,
    clip_state,
    describe,
    emotion_to_dict,
    from_mapping,
    parse_intensity,
)

DEFAULT_TRANSITION = 0.4  # seconds for a change of emotion, centred on the segment border


@dataclass
class Segment:
    start: float  # seconds
    end: float  # seconds
    emotion: np.ndarray  # [7]
    label: str = ""
    expression: np.ndarray | None = None  # [52], a photo's pose to copy ("copy_expression")

    def __post_init__(self) -> None:
        self.emotion = clip_state(np.asarray(self.emotion, dtype=np.float64).reshape(N_EMOTIONS))
        if not self.label:
            self.label = describe(self.emotion)


@dataclass
class EmotionTimeline:
    segments: list[Segment] = field(default_factory=list)
    base: np.ndarray = field(default_factory=lambda: np.zeros(N_EMOTIONS))

    def __post_init__(self) -> None:
        self.base = clip_state(np.asarray(self.base, dtype=np.float64).reshape(N_EMOTIONS))
        self.segments = sorted(self.segments, key=lambda s: s.start)
        _check_segments(self.segments)

    @classmethod
    def constant(cls, state: np.ndarray) -> EmotionTimeline:
        """One emotion for the whole clip."""
        return cls([], base=state)

    @classmethod
    def from_json(
        cls,
        path: str | Path,
        base: np.ndarray | None = None,
        intensity: float = 1.0,
        clip: str | Path | None = None,
    ) -> EmotionTimeline:
        """Read a timeline file; every problem is an InputError naming the file. `clip`: a CLIP
        folder that reads its prompts and photos (default: $EMOSYNC_CLIP, if set)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"timeline file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise InputError(f"cannot read timeline {path}: {reason}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"timeline {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg})"
            ) from None
        try:
            return cls.from_data(data, base, intensity, root=path.parent, clip=clip)
        except InputError as exc:
            raise InputError(f"timeline {path}: {exc}") from None

    @classmethod
    def from_data(
        cls,
        data: Any,
        base: np.ndarray | None = None,
        intensity: float = 1.0,
        root: Path | None = None,
        clip: str | Path | None = None,
    ) -> EmotionTimeline:
        """Build from parsed JSON: a dict with "segments" (and optionally "base") or a list.
        A segment's "image" or "audio" path is relative to `root` (the timeline's folder)."""
        if isinstance(data, dict):
            if "segments" not in data:
                raise InputError('expected an object with a "segments" list')
            _known_keys(data, FILE_KEYS, "the timeline")
            items = data["segments"]
            if base is None and data.get("base") is not None:
                base = _emotion_value(data["base"], "base", clip)
        else:
            items = data
        if not isinstance(items, list):
            raise InputError('"segments" must be a list of {"start", "end", "emotion"} objects')
        if not items and base is None:
            raise InputError('has no segments; give at least one, or a "base" emotion')
        gain = parse_intensity(intensity)
        segments = [_segment(item, i + 1, gain, root, clip) for i, item in enumerate(items)]
        return cls(segments, base=np.zeros(N_EMOTIONS) if base is None else base)

    def frames(
        self, n_frames: int, fps: float, transition: float = DEFAULT_TRANSITION
    ) -> np.ndarray:
        """Per-frame states [n_frames × 7] at times i / fps.

        Each change of value is a raised-cosine ramp `transition` seconds wide centred on the
        border. The result is a convex mix of neighbouring values, so a segment shorter than
        the transition does not quite reach its full value; there are never steps.
        """
        n = int(n_frames)
        t = np.arange(n, dtype=np.float64) / float(fps)
        half = max(float(transition), 0.0) / 2.0
        # Full steps after each ramp go into a difference array; only the ramps are computed
        # frame by frame, so long clips with many segments stay cheap.
        jumps = np.zeros((n + 1, N_EMOTIONS))
        jumps[0] = self.base
        out = np.zeros((n, N_EMOTIONS))
        for border, delta in self._steps():
            lo = int(np.searchsorted(t, border - half, side="left"))
            hi = int(np.searchsorted(t, border + half, side="left"))
            out[lo:hi] += _ramp(t[lo:hi] - border, half)[:, None] * delta
            jumps[hi] += delta
        return clip_state(out + np.cumsum(jumps, axis=0)[:n])

    def at(self, time: float) -> np.ndarray:
        """The state a time falls in, without transitions."""
        for seg in self.segments:
            if seg.start <= time < seg.end:
                return seg.emotion.copy()
        return self.base.copy()

    def past_end_warning(self, duration: float) -> str | None:
        """One warning when segments reach past the clip's end (that part never shows)."""
        late = [s for s in self.segments if s.end > duration + 1e-6]
        if not late:
            return None
        unused = sum(s.start >= duration for s in late)
        what = (
            f"{len(late)} timeline segments reach"
            if len(late) > 1
            else "a timeline segment reaches"
        )
        tail = f" ({unused} entirely)" if unused else ""
        return f"{what} past the clip's end ({duration:.2f} s){tail}; that part is not used"

    def change_times(self) -> list[float]:
        """Times where the emotion changes (segment borders whose two sides differ)."""
        return [border for border, _ in self._steps()]

    def to_metadata(self) -> list[dict[str, Any]]:
        """JSON-ready description for FaceCurves metadata; the base comes first as "base"."""
        out: list[dict[str, Any]] = [{"base": emotion_to_dict(self.base)}]
        for seg in self.segments:
            out.append(
                {
                    "start": round(seg.start, 6),
                    "end": round(seg.end, 6),
                    "emotion": emotion_to_dict(seg.emotion),
                    "label": seg.label,
                }
            )
        return out

    def _steps(self) -> list[tuple[float, np.ndarray]]:
        """(time, change of state) at every border where the state changes."""
        steps: list[tuple[float, np.ndarray]] = []
        value = self.base
        for seg in self.segments:
            for border, new in ((seg.start, seg.emotion), (seg.end, self.base)):
                delta = new - value
                if np.abs(delta).max() > 1e-9:
                    steps.append((border, delta))
                value = new
        # Abutting segments give (end, base) then (start, next): merge equal times.
        merged: list[tuple[float, np.ndarray]] = []
        for border, delta in steps:
            if merged and abs(merged[-1][0] - border) < 1e-9:
                merged[-1] = (border, merged[-1][1] + delta)
            else:
                merged.append((border, delta))
        return [(b, d) for b, d in merged if np.abs(d).max() > 1e-9]


def _ramp(x: np.ndarray, half: float) -> np.ndarray:
    """0 before -half, 1 after +half, raised cosine between (a step when half is 0)."""
    if half <= 0.0:
        return (x >= 0.0).astype(np.float64)
    u = np.clip((x + half) / (2.0 * half), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * u)


SOURCES = ("emotion", "image", "audio")
SEGMENT_KEYS = ("start", "end", *SOURCES, "intensity", "label", "copy_expression")
FILE_KEYS = ("segments", "base")


def _known_keys(item: dict, allowed: tuple[str, ...], where: str) -> None:
    """Refuse a misspelt key ("emotoin", "stat") instead of silently ignoring it."""
    unknown = [str(k) for k in item if k not in allowed]
    if unknown:
        raise InputError(
            f"{where} has unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)}; known: {', '.join(allowed)}"
        )


def _segment(
    item: Any, index: int, gain: float, root: Path | None = None, clip: str | Path | None = None
) -> Segment:
    where = f"segment {index}"
    if not isinstance(item, dict):
        raise InputError(f"{where} must be an object with start, end and emotion")
    _known_keys(item, SEGMENT_KEYS, where)
    for key in ("start", "end"):
        if key not in item:
            raise InputError(f'{where} has no "{key}"')
    sources = [key for key in SOURCES if key in item]
    if not sources:
        raise InputError(f'{where} has no "emotion" (or "image" / "audio")')
    if len(sources) != 1:
        raise InputError(f'{where} needs exactly one of "emotion", "image" or "audio"')
    start, end = _time(item["start"], where, "start"), _time(item["end"], where, "end")
    if end <= start:
        raise InputError(f"{where} ends ({end:g} s) before it starts ({start:g} s)")
    local = parse_intensity(item.get("intensity", 1.0), what=f"{where} intensity")
    copy = item.get("copy_expression", False)
    if not isinstance(copy, bool) or (copy and sources[0] != "image"):
        raise InputError(f'{where}: "copy_expression" is true or false, and only for an image')
    label = item.get("label")
    expression = None
    if sources[0] == "emotion":
        emotion = _emotion_value(item["emotion"], where, clip)
        if label is None and isinstance(item["emotion"], str):
            label = item["emotion"].strip()
    else:
        emotion, expression = _media_value(item[sources[0]], sources[0], where, root, copy, clip)
        label = label or f"{sources[0]} {Path(str(item[sources[0]])).name}"
    return Segment(
        start, end, emotion * local * gain, str(label or ""), expression if copy else None
    )


def _media_value(
    value: Any,
    kind: str,
    where: str,
    root: Path | None,
    copy: bool = False,
    clip: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    from emosync.inference.emotion_condition import read_emotion  # reads photos and voices

    if not isinstance(value, str) or not value.strip():
        raise InputError(f'{where} "{kind}" must be a file path')
    path = Path(value)
    if root is not None and not path.is_absolute():
        path = root / path
    try:
        if kind == "image":
            reading = read_emotion(image=path, expression=copy, clip=clip)
        else:
            reading = read_emotion(audio=path, expression=copy)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    return reading.state, reading.expression


def _time(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where} {key} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{where} {key} must be a non-negative number of seconds, got {value}")
    return float(value)


def _emotion_value(value: Any, where: str, clip: str | Path | None = None) -> np.ndarray:
    from emosync.inference.emotion_text import check_feeling, text_emotion

    try:
        if isinstance(value, str):
            reading = text_emotion(value, clip=clip)
            check_feeling(value, reading.confidence)
            return reading.state
        if isinstance(value, dict):
            return from_mapping(value)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    raise InputError(f'{where} "emotion" must be a prompt or an {{"emotion": weight}} object')


def _check_segments(segments: Sequence[Segment]) -> None:
    for i, seg in enumerate(segments):
        if not (math.isfinite(seg.start) and math.isfinite(seg.end)) or seg.start < 0:
            raise InputError(f"segment at {seg.start:g} s has a negative or invalid time")
        if seg.end <= seg.start:
            raise InputError(f"segment at {seg.start:g} s ends ({seg.end:g} s) before it starts")
        if i and seg.start < segments[i - 1].end - 1e-9:
            prev = segments[i - 1]
            raise InputError(
                f"segments overlap: {prev.start:g}-{prev.end:g} s and {seg.start:g}-{seg.end:g} s"
            )
