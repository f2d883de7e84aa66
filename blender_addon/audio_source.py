"""Decoding a clip with Blender's own `aud` library (any format Blender plays).

`aud.Sound.data()` aborts the whole process when the file cannot be decoded, so every file is
checked first: its header must give a sample rate, channels and a length.
"""

from __future__ import annotations

import os
from pathlib import Path

import aud
import bpy
import numpy as np

from emosync.errors import InputError
from emosync.inference.audio import SAMPLE_RATE, Audio, resample

MAX_SECONDS = 3 * 60 * 60


def check_file(path: str) -> tuple[float, int, int]:
    """(sample rate, channels, length in samples) of a file aud can decode; InputError if not."""
    p = Path(bpy.path.abspath(path)) if path.startswith("//") else Path(path)
    if not str(path).strip():
        raise InputError("choose an audio file")
    if not p.is_file():
        raise InputError(f"audio file not found: {p}")
    if p.stat().st_size == 0:
        raise InputError(f"audio file {p.name} is empty")
    if not os.access(p, os.R_OK):
        raise InputError(f"audio file {p.name} is not readable")
    sound = aud.Sound(str(p))
    try:
        rate, channels = sound.specs
        length = sound.length
    except Exception:  # aud raises its own `aud.error` with a multi-line text
        raise InputError(f"{p.name} is not an audio file Blender can decode") from None
    if rate <= 0 or channels <= 0 or length <= 0:
        raise InputError(f"{p.name} holds no audio")
    if length / rate > MAX_SECONDS:
        raise InputError(f"{p.name} is longer than {MAX_SECONDS // 3600} hours")
    return float(rate), int(channels), int(length)


def decode(path: str) -> Audio:
    """The clip as 16 kHz mono float32, after `check_file`."""
    rate, channels, _ = check_file(path)
    full = bpy.path.abspath(path) if path.startswith("//") else path
    # Mixing to mono inside aud halves the memory the samples take before they reach numpy.
    sound = aud.Sound(full).rechannel(1) if channels > 1 else aud.Sound(full)
    samples = np.asarray(sound.data(), dtype=np.float32).reshape(-1)
    return Audio(resample(samples, int(rate), SAMPLE_RATE), int(rate), channels, str(full))


def sound_strips(scene: bpy.types.Scene) -> list:
    editor = scene.sequence_editor
    if editor is None:
        return []
    everything = editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all
    return [s for s in everything if s.type == "SOUND"]


def strip_file(scene: bpy.types.Scene, name: str) -> tuple[str, int]:
    """(absolute file path, start frame) of the sound strip `name`."""
    strip = next((s for s in sound_strips(scene) if s.name == name), None)
    if strip is None:
        raise InputError(f"no sound strip named '{name}' in the sequencer")
    if strip.sound is None:
        raise InputError(f"sound strip '{name}' has no sound")
    if strip.sound.packed_file is not None:
        raise InputError(f"sound strip '{name}' is packed into the .blend; unpack it first")
    path = bpy.path.abspath(strip.sound.filepath, library=strip.sound.library)
    return path, int(strip.frame_start)
