"""A Live Link Face UDP decoder written for the tests from the packet layout in STANDARDS.md (and
PyLiveLinkFace's decoder), independent of exporters/live_livelink.py, so a test can catch the
encoder and the add-on's decoder agreeing on the same mistake."""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Apple's ARKit order (STANDARDS.md): jawLeft before jawRight, mouthLeft before mouthRight.
PACKET_NAMES = (
    "eyeBlinkLeft eyeLookDownLeft eyeLookInLeft eyeLookOutLeft eyeLookUpLeft eyeSquintLeft "
    "eyeWideLeft eyeBlinkRight eyeLookDownRight eyeLookInRight eyeLookOutRight eyeLookUpRight "
    "eyeSquintRight eyeWideRight jawForward jawLeft jawRight jawOpen mouthClose mouthFunnel "
    "mouthPucker mouthLeft mouthRight mouthSmileLeft mouthSmileRight mouthFrownLeft "
    "mouthFrownRight mouthDimpleLeft mouthDimpleRight mouthStretchLeft mouthStretchRight "
    "mouthRollLower mouthRollUpper mouthShrugLower mouthShrugUpper mouthPressLeft mouthPressRight "
    "mouthLowerDownLeft mouthLowerDownRight mouthUpperUpLeft mouthUpperUpRight browDownLeft "
    "browDownRight browInnerUp browOuterUpLeft browOuterUpRight cheekPuff cheekSquintLeft "
    "cheekSquintRight noseSneerLeft noseSneerRight tongueOut "
    "headYaw headPitch headRoll leftEyeYaw leftEyePitch leftEyeRoll "
    "rightEyeYaw rightEyePitch rightEyeRoll"
).split()
assert len(PACKET_NAMES) == 61


@dataclass
class Packet:
    version: int
    device_id: str
    subject: str
    frame: int
    subframe: float
    rate_num: int
    rate_den: int
    count: int
    values: dict[str, float]  # by name


def decode(data: bytes) -> Packet:
    pos = 0

    def take(fmt: str):
        nonlocal pos
        size = struct.calcsize(fmt)
        out = struct.unpack(fmt, data[pos : pos + size])
        pos += size
        return out

    (version,) = take("<i")
    device_id = data[pos : pos + 37].decode("ascii")
    pos += 37
    (name_length,) = take(">i")
    subject = data[pos : pos + name_length].decode("utf-8")
    pos += name_length
    frame, subframe = take(">if")
    rate_num, rate_den = take(">ii")
    (count,) = take(">B")
    floats = take(f">{count}f")
    assert pos == len(data), f"{len(data) - pos} bytes left over"
    return Packet(
        version, device_id, subject, frame, subframe, rate_num, rate_den, count,
        dict(zip(PACKET_NAMES, floats, strict=True)),
    )  # fmt: skip
