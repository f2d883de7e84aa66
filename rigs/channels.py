"""The channel schema every FaceCurves uses: ARKit-52 weights in Live Link order, then rotations.

The order is the Live Link Face CSV's (DESIGN.md), which differs from Apple's documentation in two
places: jawRight comes before jawLeft and mouthRight before mouthLeft. Code indexes by name."""

from __future__ import annotations

import re

ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
    "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward",
    "jawRight", "jawLeft", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRight",
    "mouthLeft", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
    "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
    "noseSneerRight", "tongueOut",
)  # fmt: skip

ROTATION_NAMES: tuple[str, ...] = (
    "headYaw", "headPitch", "headRoll",
    "leftEyeYaw", "leftEyePitch", "leftEyeRoll",
    "rightEyeYaw", "rightEyePitch", "rightEyeRoll",
)  # fmt: skip

CHANNELS: tuple[str, ...] = ARKIT_NAMES + ROTATION_NAMES
N_BLENDSHAPES = len(ARKIT_NAMES)
N_CHANNELS = len(CHANNELS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(CHANNELS)}

assert N_BLENDSHAPES == 52 and N_CHANNELS == 61

_PREFIXES = re.compile(r"^(arkit|blendshape|bs|shape|key|face|a\d\d)[_.\-: ]*", re.IGNORECASE)
_CANON = {name.lower(): name for name in CHANNELS}


def pascal(name: str) -> str:
    """`eyeBlinkLeft` -> `EyeBlinkLeft` (Live Link Face spelling)."""
    return name[0].upper() + name[1:]


def canonical_name(name: str) -> str | None:
    """Map a rig's spelling (`EyeBlinkLeft`, `ARKit_eyeBlinkLeft`, `A01_BrowInnerUp`,
    `eye_blink_left`) to the ARKit channel name, or None when it is not one."""
    key = name.strip()
    for _ in range(2):  # prefixes can stack: "Key_ARKit_jawOpen"
        key = _PREFIXES.sub("", key)
    return _CANON.get(key.replace("_", "").replace(" ", "").replace("-", "").lower())


def blendshape_index(name: str) -> int:
    """The position of an ARKit name among the 52 blendshape channels."""
    return ARKIT_NAMES.index(name)
