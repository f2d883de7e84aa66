"""OSC senders: the VMC protocol (VSeeFace, Warudo, VNyan, VirtualMotionCapture) and plain OSC
with one address per channel. Messages are built with python-osc (the `live` extra); each frame
goes out as OSC bundles of at most MAX_DATAGRAM bytes, so no datagram is fragmented on a LAN.

VMC, per frame: `/VMC/Ext/Blend/Val` (name, value) for every expression, then one
`/VMC/Ext/Blend/Apply`, then `/VMC/Ext/OK 1` and `/VMC/Ext/T` (seconds since the start). With
rig "arkit" the names are ARKit's own (eyeBlinkLeft), "arkit-pascal" the PascalCase spelling
(EyeBlinkLeft) that many "perfect sync" avatars give their clips; "vrm" sends VRM 1.0
expressions and "vrm0" the VRM 0 presets (A I U E O, Joy, Sorrow, …) that VSeeFace models use,
both through the same retarget as `animate --rig vrm`.
"""

from __future__ import annotations

import functools
import struct

import numpy as np

from emosync.errors import InputError
from emosync.exporters.live_udp import UdpTarget
from emosync.exporters.rig_presets import apply_rig
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS, ROTATION_NAMES, pascal

VMC_PORT = 39539
VMC_RIGS = ("arkit", "arkit-pascal", "vrm", "vrm0")
MAX_DATAGRAM = 1400
# VRM 1.0 expression -> VRM 0.x preset blend shape clip (the names VSeeFace receives).
VRM0_NAMES = {
    "happy": "Joy", "angry": "Angry", "sad": "Sorrow", "relaxed": "Fun",
    "surprised": "Surprised", "aa": "A", "ih": "I", "ou": "U", "ee": "E", "oh": "O",
    "blink": "Blink", "blinkLeft": "Blink_L", "blinkRight": "Blink_R", "lookUp": "LookUp",
    "lookDown": "LookDown", "lookLeft": "LookLeft", "lookRight": "LookRight",
    "neutral": "Neutral",
}  # fmt: skip


def _osc():
    try:
        from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
        from pythonosc.osc_message_builder import OscMessageBuilder
    except ImportError:
        raise InputError(
            "OSC and VMC output need python-osc: pip install 'emosync[live]'"
        ) from None
    return IMMEDIATELY, OscBundleBuilder, OscMessageBuilder


def osc_message(address: str, *args: str | float | int) -> bytes:
    """One OSC message as bytes (floats as float32, ints as int32, str as OSC strings)."""
    _, _, builder_type = _osc()
    builder = builder_type(address=address)
    for arg in args:
        kind = "s" if isinstance(arg, str) else ("i" if isinstance(arg, int) else "f")
        builder.add_arg(float(arg) if kind == "f" else arg, kind)
    return builder.build().dgram


class FloatMessages:
    """Messages whose last argument is one float32 and all else is fixed (`/VMC/Ext/Blend/Val
    name value`, `/prefix/name value`): python-osc builds each once with 0.0, and a frame only
    replaces the last four bytes (a float32 is the OSC encoding's final, big-endian word), which
    is about fifty times cheaper than building every message anew."""

    def __init__(self, heads: list[tuple[str, tuple[str, ...]]]) -> None:
        self.templates = [osc_message(address, *args, 0.0)[:-4] for address, args in heads]

    def build(self, values: np.ndarray) -> list[bytes]:
        packed = np.asarray(values, dtype=">f4").tobytes()
        return [t + packed[4 * i : 4 * i + 4] for i, t in enumerate(self.templates)]


def pack_bundles(messages: list[bytes], limit: int = MAX_DATAGRAM) -> list[bytes]:
    """Messages in order, grouped into as few OSC bundles (immediate time tag) of at most
    `limit` bytes as fit: a bundle is its header, then each element as int32 size + bytes."""
    header = _bundle_header()
    out: list[bytes] = []
    group: list[bytes] = []
    size = len(header)
    for msg in messages:
        if group and size + 4 + len(msg) > limit:
            out.append(b"".join(group))
            group, size = [], len(header)
        if not group:
            group.append(header)
        group.append(struct.pack(">i", len(msg)) + msg)
        size += 4 + len(msg)
    if group:
        out.append(b"".join(group))
    return out


@functools.cache
def _bundle_header() -> bytes:
    immediately, bundle_type, _ = _osc()
    return bundle_type(immediately).build().dgram  # an empty bundle is just its header


class _Frames:
    """Frames in CHANNELS order -> values in the receiver's vocabulary (`names`)."""

    def __init__(self, rig: str) -> None:
        if rig not in VMC_RIGS:
            raise InputError(f"unknown VMC rig '{rig}'; choose one of: {', '.join(VMC_RIGS)}")
        self.arkit = rig.startswith("arkit")
        if self.arkit:
            names = ARKIT_NAMES
            self.names = tuple(map(pascal, names)) if rig == "arkit-pascal" else names
        else:
            names = apply_rig(FaceCurves(50.0, np.zeros((1, len(CHANNELS)))), "vrm").channels
            names = names[: len(names) - len(ROTATION_NAMES)]
            self.names = tuple(VRM0_NAMES[n] for n in names) if rig == "vrm0" else tuple(names)

    def convert(self, frames: np.ndarray) -> np.ndarray:
        curves = FaceCurves(50.0, frames)
        if self.arkit:
            return curves.values[:, : len(ARKIT_NAMES)]
        return apply_rig(curves, "vrm").values[:, : len(self.names)]


class VmcSender:
    """Expressions over the VMC protocol, one Val per expression and one Apply per frame."""

    def __init__(self, host: str, port: int, rig: str, fps: float) -> None:
        _osc()
        self.frames = _Frames(rig)
        self.fps = float(fps)
        self.target = UdpTarget(host, port, "--vmc")
        self._apply = osc_message("/VMC/Ext/Blend/Apply")
        self._ok = osc_message("/VMC/Ext/OK", 1)
        self._values = FloatMessages([("/VMC/Ext/Blend/Val", (n,)) for n in self.names])

    @property
    def names(self) -> tuple[str, ...]:
        return self.frames.names

    def send(self, first_frame: int, frames: np.ndarray) -> None:
        for i, row in enumerate(self.frames.convert(frames)):
            messages = self._values.build(row)
            t = (first_frame + i) / self.fps
            messages += [self._apply, self._ok, osc_message("/VMC/Ext/T", t)]
            for datagram in pack_bundles(messages):
                self.target.send(datagram)

    def close(self) -> None:
        self.target.close()


class OscSender:
    """Plain OSC: `<prefix><channel> value` for each of the 61 channels (52 ARKit weights, then
    head and eye rotations in radians), one frame per bundle group."""

    def __init__(self, host: str, port: int, prefix: str = "/emosync/") -> None:
        _osc()
        if not prefix.startswith("/") or any(c in prefix for c in " #*,?[]{}"):
            raise InputError(f"--osc-prefix must start with '/' and hold no spaces, got '{prefix}'")
        self.addresses = tuple(prefix + name for name in CHANNELS)
        self._values = FloatMessages([(a, ()) for a in self.addresses])
        self.target = UdpTarget(host, port, "--osc")

    def send(self, first_frame: int, frames: np.ndarray) -> None:
        for row in np.asarray(frames, dtype=np.float32):
            for datagram in pack_bundles(self._values.build(row)):
                self.target.send(datagram)

    def close(self) -> None:
        self.target.close()
