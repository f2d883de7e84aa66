"""exporters.dispatch.read on GLB/glTF: EmoSync's own output reads back to the same weights."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.exporters.dispatch import export, read
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import CHANNELS, N_BLENDSHAPES

sys.path.insert(0, str(Path(__file__).parent / "data"))
import user_mesh


def curves() -> FaceCurves:
    values = np.random.default_rng(1).random((25, len(CHANNELS))).astype(np.float32)
    return FaceCurves(50.0, values, metadata={"name": "clip"})


@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_own_output_reads_back(tmp_path, suffix):
    original = curves()
    back = read(export(original, tmp_path / f"face{suffix}"))
    assert back.fps == 50.0 and back.n_frames == 25
    np.testing.assert_allclose(back.values[:, :N_BLENDSHAPES], original.values[:, :N_BLENDSHAPES])
    assert not back.values[:, N_BLENDSHAPES:].any()  # rotations are not read back


def test_user_mesh_output_reads_back(tmp_path):
    src = user_mesh.write_glb(tmp_path / "user.glb")
    back = read(export(curves(), tmp_path / "out.glb", mesh=src))
    jaw = CHANNELS.index("jawOpen")
    np.testing.assert_allclose(back.values[:, jaw], curves().values[:, jaw])


def test_a_mesh_without_our_animation_is_refused(tmp_path):
    from emosync.exporters.gltf import serialise

    gltf, blob = user_mesh.build(names_on_primitive=False)
    gltf.animations = []
    (tmp_path / "still.glb").write_bytes(serialise(gltf, blob, ".glb"))
    with pytest.raises(InputError, match="no animation"):
        read(tmp_path / "still.glb")


def test_an_hour_long_clip_reads_back(tmp_path):
    """Float32 key times an hour in carry more rounding than 0.1 % of a 60 fps frame: still
    evenly spaced (this was refused for clips past about 5 minutes)."""
    n = 60 * 3600
    values = np.zeros((n, len(CHANNELS)), np.float32)
    values[:, CHANNELS.index("jawOpen")] = np.linspace(0.0, 1.0, n, dtype=np.float32)
    back = read(export(FaceCurves(60.0, values, metadata={"name": "hour"}), tmp_path / "h.glb"))
    assert back.n_frames == n and abs(back.fps - 60.0) < 1e-6


def test_uneven_keys_are_refused(tmp_path):
    from emosync.exporters.gltf_read import _fps

    times = np.arange(100, dtype=np.float64) / 50.0
    times[40] += 0.004  # a fifth of a frame
    with pytest.raises(InputError, match="not evenly spaced"):
        _fps(times, "clip.glb")
