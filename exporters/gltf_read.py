"""Read the animation of a GLB/glTF back as FaceCurves: the morph weights of its first animation
on a mesh with ARKit-named targets (EmoSync's own output, or a user's mesh it animated).

Only the 52 blendshape weights come back; head and eye rotations stay 0 (they were turned into
the model's own axes on export and are not undone here). Keys must be evenly spaced, as EmoSync
writes them; a clip with uneven keys is refused rather than resampled silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pygltflib import GLTF2

from emosync.errors import InputError
from emosync.exporters.gltf_user import load_user_gltf, morph_meshes
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS

_FLOAT = 5126
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def _floats(gltf: GLTF2, blob: bytes, index: int) -> np.ndarray:
    """A plain float32 accessor as [count, width] (no sparse data, no stride padding)."""
    acc = gltf.accessors[index]
    width = _WIDTH.get(acc.type or "")
    if acc.componentType != _FLOAT or width is None or acc.bufferView is None or acc.sparse:
        raise InputError("the animation's data is not plain float keys")
    view = gltf.bufferViews[acc.bufferView]
    if view.byteStride not in (None, 0, 4 * width):
        raise InputError("the animation's data is interleaved")
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    if start + acc.count * width * 4 > len(blob):
        raise InputError("the animation's data runs past the end of its buffer")
    return np.frombuffer(blob, "<f4", acc.count * width, start).reshape(acc.count, width)


def read_gltf_curves(path: str | Path) -> FaceCurves:
    """FaceCurves from the first animation's morph weights on an ARKit-named mesh."""
    path = Path(path)
    gltf, buffer = load_user_gltf(path)
    blob = bytes(buffer.data)
    meshes = {m.index: m for m in morph_meshes(gltf, ARKIT_NAMES) if any(m.channels)}
    if not gltf.animations or not meshes:
        raise InputError(f"{path.name} has no animation of ARKit-named morph targets")
    animation = gltf.animations[0]
    for channel in animation.channels:
        node = channel.target.node
        mesh = gltf.nodes[node].mesh if node is not None and node < len(gltf.nodes) else None
        if channel.target.path != "weights" or mesh not in meshes:
            continue
        sampler = animation.samplers[channel.sampler]
        if sampler.interpolation not in (None, "LINEAR", "STEP"):
            raise InputError(f"{path.name}: {sampler.interpolation} keys cannot be read back")
        times = _floats(gltf, blob, sampler.input)[:, 0].astype(np.float64)
        morph = meshes[mesh]
        weights = _floats(gltf, blob, sampler.output).reshape(len(times), len(morph.channels))
        return FaceCurves(_fps(times, path.name), _channels(weights, morph.channels), metadata={
            "name": animation.name or path.stem, "source": str(path), "read_from": "glTF",
        })  # fmt: skip
    raise InputError(f"{path.name}: its first animation moves no ARKit-named morph targets")


def _fps(times: np.ndarray, name: str) -> float:
    if len(times) < 2:
        raise InputError(f"{name}: the animation has fewer than two keys")
    step = (times[-1] - times[0]) / (len(times) - 1)
    fps = 1.0 / float(step) if step > 0 else float("nan")
    # keys are float32: at t seconds they carry about t x 6e-8 of rounding, beyond the 0.1 %
    # of a frame allowed
    grid = times[0] + step * np.arange(len(times))
    slack = 1e-3 * step + 4.0 * float(np.finfo(np.float32).eps) * np.abs(times)
    if not np.isfinite(fps) or (np.abs(times - grid) > slack + 1e-6).any():
        raise InputError(f"{name}: the animation's keys are not evenly spaced")
    return round(fps, 3)


def _channels(weights: np.ndarray, channels: list[str | None]) -> np.ndarray:
    values = np.zeros((len(weights), len(CHANNELS)), dtype=np.float32)
    for j, name in enumerate(channels):
        if name is not None:
            values[:, CHANNELS.index(name)] = weights[:, j]
    return values
