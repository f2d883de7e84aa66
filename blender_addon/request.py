"""The panel's settings turned into what the runtime and the writer take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from emosync.errors import InputError
from emosync.inference.emotion_text import text_emotion
from emosync.inference.life import LifeSettings
from emosync.inference.pipeline import AnimateOptions
from emosync.inference.timeline import EmotionTimeline, Segment

from . import audio_source
from .apply import Target, scene_fps


@dataclass
class Request:
    audio_path: str
    start_frame: int
    options: AnimateOptions
    target: Target
    name: str


def emotion_text(settings) -> str | None:
    """The preset and the prompt together ("happy + slightly surprised")."""
    parts = []
    if settings.preset != "NONE":
        parts.append(settings.preset.lower())
    if settings.prompt.strip():
        parts.append(settings.prompt.strip())
    return " + ".join(parts) or None


def marker_segments(scene: bpy.types.Scene, start_frame: int) -> list[Segment]:
    """Each marker named with an emotion starts a segment that lasts until the next marker."""
    fps = scene_fps(scene)
    markers = sorted(scene.timeline_markers, key=lambda m: m.frame)
    segments = []
    for i, marker in enumerate(markers):
        if not marker.name.strip():
            continue
        start = max(0.0, (marker.frame - start_frame) / fps)
        end = (markers[i + 1].frame - start_frame) / fps if i + 1 < len(markers) else 1e6
        if end <= start:
            continue
        try:
            state = text_emotion(marker.name).state
        except InputError as exc:
            raise InputError(f"marker '{marker.name}' at frame {marker.frame}: {exc}") from None
        segments.append(Segment(start, end, state, marker.name))
    return segments


def list_segments(settings) -> list[Segment]:
    out = []
    for i, item in enumerate(settings.segments):
        if item.end <= item.start:
            raise InputError(f"segment {i + 1} ends before it starts")
        try:
            state = text_emotion(item.emotion).state
        except InputError as exc:
            raise InputError(f"segment {i + 1}: {exc}") from None
        out.append(Segment(item.start, item.end, state, item.emotion))
    return out


def transcript(settings) -> str | None:
    if settings.transcript.strip():
        return settings.transcript.strip()
    if settings.transcript_path.strip():
        path = Path(bpy.path.abspath(settings.transcript_path))
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            raise InputError(f"cannot read transcript file {path}") from None
    return None


def custom_map(obj: bpy.types.Object | None) -> dict[str, str]:
    if obj is None:
        return {}
    return {entry.name: entry.source for entry in obj.emosync.custom_map if entry.name}


def build(context: bpy.types.Context) -> Request:
    """Read the scene's settings; InputError names the first thing that is wrong."""
    scene = context.scene
    settings = scene.emosync
    if settings.audio_source == "STRIP":
        path, start = audio_source.strip_file(scene, settings.strip_name)
    else:
        path, start = settings.audio_path, settings.start_frame
        if not path.strip():
            raise InputError("choose an audio file")
        path = bpy.path.abspath(path)
    segments: list[Segment] = []
    if settings.timeline_source == "MARKERS":
        segments = marker_segments(scene, start)
    elif settings.timeline_source == "LIST":
        segments = list_segments(settings)
    text = emotion_text(settings)
    options = AnimateOptions(
        transcript=transcript(settings),
        engine=settings.engine.lower(),
        emotion=text,
        intensity=settings.intensity,
        timeline=EmotionTimeline(segments, base=np.zeros(7)) if segments else None,
        fps=scene_fps(scene),
        life=LifeSettings(settings.blink, settings.gaze, settings.head_motion),
    )
    return Request(path, start, options, build_target(context), Path(path).stem or "EmoSync")


def build_target(context: bpy.types.Context) -> Target:
    """The active mesh (if it is one) and the scene's rig settings."""
    settings = context.scene.emosync
    mesh = context.active_object
    if mesh is not None and mesh.type != "MESH":
        mesh = None
    return Target(
        mesh=mesh,
        scheme=settings.scheme,
        custom=custom_map(mesh),
        armature=settings.armature,
        jaw_bone=settings.jaw_bone if settings.armature else "",
        jaw_axis=settings.jaw_axis,
        jaw_max_angle=settings.jaw_max_angle,
        head=settings.head,
        head_bone=settings.head_bone,
    )
