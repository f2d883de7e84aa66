"""Unreal Live Link Face over UDP: the packet the iPhone app streams (STANDARDS.md), one per frame.

Layout (checked against JimWest's PyLiveLinkFace encoder and decoder):
  int32 version (6, little-endian) · device id: '$' + a 36-character UUID ·
  int32 subject name length (big-endian) + the UTF-8 name ·
  frame time: int32 frame number + float32 sub-frame (big-endian; Unreal's FFrameTime) ·
  frame rate: int32 numerator + int32 denominator (big-endian; FFrameRate) ·
  uint8 value count (61) · 61 big-endian float32: the 52 ARKit weights in Apple's order
  (jawLeft before jawRight and mouthLeft before mouthRight, unlike the CSV and EmoSync's own
  channel order), then head yaw, pitch, roll and left/right eye yaw, pitch, roll in radians.
"""

from __future__ import annotations

import datetime
import struct
import uuid
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from emosync.errors import InputError
from emosync.exporters.live_udp import UdpTarget
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS, ROTATION_NAMES

PACKET_VERSION = 6
DEFAULT_PORT = 11111
N_VALUES = 61


def _apple_order() -> tuple[str, ...]:
    names = list(ARKIT_NAMES)
    for a, b in (("jawRight", "jawLeft"), ("mouthRight", "mouthLeft")):
        i, j = names.index(a), names.index(b)
        names[i], names[j] = names[j], names[i]
    return tuple(names)


# The packet's value order, and where each value sits in a CHANNELS-ordered frame.
PACKET_CHANNELS: tuple[str, ...] = _apple_order() + ROTATION_NAMES
_FROM_CHANNELS = np.array([CHANNELS.index(n) for n in PACKET_CHANNELS])
_TO_CHANNELS = np.array([PACKET_CHANNELS.index(n) for n in CHANNELS])
_VALUES = struct.Struct(f">B{N_VALUES}f")
_HEAD = struct.Struct(">iiii")  # name length is packed separately
_TIME = struct.Struct(">ifii")


@dataclass
class LiveLinkFrame:
    """One decoded packet; `values` in EmoSync's channel order (CHANNELS)."""

    version: int
    device_id: str
    subject: str
    frame: int
    subframe: float
    rate: tuple[int, int]
    values: np.ndarray

    @property
    def fps(self) -> float:
        return self.rate[0] / self.rate[1]


def frame_rate(fps: float) -> tuple[int, int]:
    """(numerator, denominator) of a frame rate: 60 -> (60, 1), 29.97 -> (30000, 1001)."""
    for whole in (24, 30, 48, 60, 120):  # the NTSC rates, as timecode writes them
        if abs(fps - whole * 1000 / 1001) < 0.006:
            return whole * 1000, 1001
    exact = Fraction(float(fps)).limit_denominator(1001)
    return exact.numerator, exact.denominator


def device_id(value: str | None = None) -> str:
    """'$' + a 36-character UUID: the given one (checked) or a new random one."""
    text = (value or str(uuid.uuid4())).removeprefix("$")
    try:
        text = str(uuid.UUID(text))
    except ValueError:
        raise InputError(f"device id must be a UUID, got '{value}'") from None
    return "$" + text.upper()


def encode_packet(
    values: np.ndarray,
    frame: int,
    subject: str,
    device: str,
    rate: tuple[int, int],
    subframe: float = 0.0,
) -> bytes:
    """One Live Link Face packet for one frame of 61 values in CHANNELS order."""
    name = subject.encode("utf-8")
    dev = device.encode("ascii")
    ordered = np.asarray(values, dtype=np.float32).reshape(-1)[_FROM_CHANNELS]
    return b"".join(
        (
            struct.pack("<i", PACKET_VERSION),
            dev,
            struct.pack(">i", len(name)),
            name,
            _TIME.pack(int(frame), float(subframe), int(rate[0]), int(rate[1])),
            _VALUES.pack(N_VALUES, *ordered.tolist()),
        )
    )


def decode_packet(data: bytes) -> LiveLinkFrame:
    """Read one packet (ValueError for anything that is not a version-6 face packet)."""
    if len(data) < 4 + 37 + 4:
        raise ValueError(f"packet of {len(data)} bytes is too short")
    (version,) = struct.unpack_from("<i", data, 0)
    if version != PACKET_VERSION:
        raise ValueError(f"packet version {version}, expected {PACKET_VERSION}")
    device = data[4:41].decode("ascii", errors="replace")
    (n_name,) = struct.unpack_from(">i", data, 41)
    at = 45 + n_name
    if n_name < 0 or len(data) != at + _TIME.size + _VALUES.size:
        raise ValueError("packet length does not match its subject name and 61 values")
    subject = data[45:at].decode("utf-8", errors="replace")
    frame, subframe, num, den = _TIME.unpack_from(data, at)
    count, *packed = _VALUES.unpack_from(data, at + _TIME.size)
    if count != N_VALUES or den <= 0 or num <= 0:
        raise ValueError(f"packet holds {count} values at {num}/{den} fps")
    values = np.asarray(packed, dtype=np.float32)[_TO_CHANNELS]
    return LiveLinkFrame(version, device, subject, frame, subframe, (num, den), values)


def timecode_frame(fps: float, now: datetime.datetime | None = None) -> int:
    """The frame of the day at `fps` (the app numbers frames by its time-of-day timecode)."""
    now = now or datetime.datetime.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return int((now - midnight).total_seconds() * fps)


class LiveLinkSender:
    """Streams frames as Live Link Face packets to Unreal (or anything that reads them).
    Frame numbers run at the stream's fps from the time-of-day frame at the start."""

    def __init__(
        self, host: str, port: int, subject: str, fps: float, device: str | None = None
    ) -> None:
        if not subject or len(subject.encode("utf-8")) > 255:
            raise InputError("--subject must be a name of 1 to 255 bytes")
        self.target = UdpTarget(host, port, "--livelink")
        self.subject = subject
        self.device = device_id(device)
        self.rate = frame_rate(fps)
        self.start_frame = timecode_frame(self.rate[0] / self.rate[1])

    def send(self, first_frame: int, frames: np.ndarray) -> None:
        for i, row in enumerate(np.asarray(frames, dtype=np.float32)):
            number = self.start_frame + first_frame + i
            self.target.send(encode_packet(row, number, self.subject, self.device, self.rate))

    def close(self) -> None:
        self.target.close()
