"""Rig presets: FaceCurves in ARKit channels → the channel vocabulary a rig is built with."""

from __future__ import annotations

import numpy as np

from emosync.errors import InputError
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ROTATION_NAMES
from emosync.rigs.retarget import OCULUS_VISEMES, VRM_EXPRESSIONS, to_visemes, to_vrm

RIGS = ("arkit", "vrm", "visemes")
# Visemes are named as Ready Player Me avatars name their morph targets (viseme_aa, …).
VISEME_CHANNELS = tuple(f"viseme_{v}" for v in OCULUS_VISEMES)


def apply_rig(curves: FaceCurves, rig: str) -> FaceCurves:
    """The same animation in the rig's channels; head and eye rotations are kept as they are.
    Frame by frame, so it works on a piece of a clip as well."""
    if rig == "arkit":
        return curves
    if rig not in RIGS:
        raise InputError(f"unknown rig '{rig}'; choose one of: {', '.join(RIGS)}")
    convert, names = (to_vrm, VRM_EXPRESSIONS) if rig == "vrm" else (to_visemes, VISEME_CHANNELS)
    rotations = curves.values[:, [curves.channels.index(n) for n in ROTATION_NAMES]]
    values = np.concatenate([convert(curves.blendshapes()), rotations], axis=1)
    metadata = {**curves.metadata, "rig": rig}
    channels = names + ROTATION_NAMES
    return FaceCurves(curves.fps, values, channels, metadata, curves.start, curves.total)
