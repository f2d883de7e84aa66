"""The animation EmoSync adds to a glTF document: morph weights and node rotations, one clip."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pygltflib import GLTF2, Animation, AnimationChannel, AnimationChannelTarget, AnimationSampler

from emosync.errors import InputError
from emosync.exporters.gltf_buffer import BufferBuilder
from emosync.exporters.gltf_rotation import continuous_unit, euler_to_quaternions
from emosync.inference.facecurves import FaceCurves


def limit_active_targets(weights: np.ndarray, k: int | None) -> np.ndarray:
    """Keep the k largest weights of each frame and zero the rest.

    glTF clients only have to blend 8 morph targets at once and MAY drop all but the largest
    8; doing the selection here keeps what a limited engine shows identical to what we meant.
    """
    if k is None or k >= weights.shape[1]:
        return weights
    if k < 1:
        raise InputError(f"max_active_targets must be at least 1, got {k}")
    order = np.argsort(-np.abs(weights), axis=1, kind="stable")
    out = np.zeros_like(weights)
    rows = np.arange(len(weights))[:, None]
    out[rows, order[:, :k]] = weights[rows, order[:, :k]]
    return out


def channel_columns(curves: FaceCurves, names: Sequence[str | None]) -> np.ndarray:
    """curves' values for `names` as [frames × len(names)]; None or absent channels are 0."""
    out = np.zeros((curves.n_frames, len(names)), dtype=np.float32)
    where = {name: i for i, name in enumerate(curves.channels)}
    for j, name in enumerate(names):
        if name is not None and name in where:
            out[:, j] = curves.values[:, where[name]]
    return out


def angle_quaternions(curves: FaceCurves, prefix: str) -> np.ndarray | None:
    """Per-frame quaternions from the `<prefix>Yaw/Pitch/Roll` channels, None if absent."""
    names = [f"{prefix}Yaw", f"{prefix}Pitch", f"{prefix}Roll"]
    if not any(name in curves.channels for name in names):
        return None
    yaw, pitch, roll = channel_columns(curves, names).T
    return euler_to_quaternions(yaw, pitch, roll)


class AnimationBuilder:
    """Collects samplers and channels that share one time accessor, then adds the Animation."""

    def __init__(
        self, gltf: GLTF2, buffer: BufferBuilder, curves: FaceCurves, reserve: bool = False
    ) -> None:
        """With `reserve`, `curves` is the first piece of a clip: the accessors are laid out
        for the whole clip (FaceCurves.clip_frames) and their bytes are written later, at the
        offsets the reserve_* methods return (exporters.gltf_demo.DemoLayout)."""
        self.n_frames = curves.clip_frames if reserve else curves.n_frames
        if self.n_frames == 0:
            raise InputError("the animation has no frames")
        self.gltf = gltf
        self.buffer = buffer
        self.name = str(curves.metadata.get("name") or "EmoSync")
        self.times_offset = -1
        if reserve:  # the float32 times' min and max, as add_accessor would find them
            last = [float(np.float32((self.n_frames - 1) / curves.fps))]
            self.times, self.times_offset = buffer.reserve_accessor(self.n_frames, 1, [0.0], last)
        else:
            self.times = buffer.add_accessor(curves.times.astype(np.float32), min_max=True)
        self.animation = Animation(name=self.name, samplers=[], channels=[])

    def _channel(self, node: int, path: str, output: int) -> None:
        self.animation.samplers.append(
            AnimationSampler(input=self.times, output=output, interpolation="LINEAR")
        )
        target = AnimationChannelTarget(node=node, path=path)
        sampler = len(self.animation.samplers) - 1
        self.animation.channels.append(AnimationChannel(sampler=sampler, target=target))

    def add_weights(self, nodes: list[int], weights: np.ndarray) -> None:
        """Morph weights [frames × targets] on every node in `nodes` (one shared output)."""
        if not nodes:
            return
        output = self.buffer.add_accessor(np.ascontiguousarray(weights, np.float32).reshape(-1))
        for node in nodes:
            self._channel(node, "weights", output)

    def add_rotation(self, node: int, quaternions: np.ndarray) -> None:
        """Local rotations [frames × 4] (x, y, z, w) on `node`."""
        output = self.buffer.add_accessor(continuous_unit(quaternions))
        self._channel(node, "rotation", output)

    def reserve_weights(self, nodes: list[int], n_targets: int) -> int:
        """add_weights for bytes written later: their offset in the buffer."""
        output, offset = self.buffer.reserve_accessor(self.n_frames * n_targets, 1)
        for node in nodes:
            self._channel(node, "weights", output)
        return offset

    def reserve_rotation(self, node: int) -> int:
        """add_rotation for bytes written later: their offset in the buffer."""
        output, offset = self.buffer.reserve_accessor(self.n_frames, 4)
        self._channel(node, "rotation", output)
        return offset

    def finish(self) -> int | None:
        """Add the animation to the document (if it has channels); returns its index."""
        if not self.animation.channels:
            return None
        self.gltf.animations.append(self.animation)
        return len(self.gltf.animations) - 1
