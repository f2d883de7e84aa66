"""FaceCurves JSON/NPZ files and the suffix dispatcher."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.exporters.curves_file import read_curves, write_curves
from emosync.exporters.dispatch import SUFFIXES, export, read
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import CHANNELS


def curves(frames: int = 50, fps: float = 30.0) -> FaceCurves:
    values = np.random.default_rng(5).random((frames, len(CHANNELS))).astype(np.float32)
    meta = {"name": "line_042", "engine": "phonetic", "emotion": {"happy": 0.8}}
    return FaceCurves(fps, values, metadata=meta)


def test_npz_round_trip_is_exact_and_pickle_free(tmp_path):
    c = curves()
    path = write_curves(c, tmp_path / "c.npz")
    with np.load(path, allow_pickle=False) as data:
        assert data["values"].dtype == np.float32
    back = read_curves(path)
    np.testing.assert_array_equal(back.values, c.values)
    assert (back.fps, back.channels, back.metadata) == (c.fps, c.channels, c.metadata)


def test_json_round_trip(tmp_path):
    c = curves(fps=25.0)
    back = read_curves(write_curves(c, tmp_path / "c.json"))
    assert np.abs(back.values - c.values).max() <= 1e-6  # to_dict rounds to 6 decimals
    assert (back.fps, back.channels, back.metadata) == (25.0, CHANNELS, c.metadata)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_refuses_overwrite_leaves_no_partial(tmp_path, suffix):
    out = tmp_path / f"c{suffix}"
    out.write_bytes(b"mine")
    with pytest.raises(InputError, match="exists"):
        write_curves(curves(), out)
    assert out.read_bytes() == b"mine"
    write_curves(curves(), out, force=True)
    assert read_curves(out).n_frames == 50
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_corrupt_files_are_input_errors(tmp_path):
    bad_json = tmp_path / "a.json"
    bad_json.write_text('{"format": "emosync.facecurves", "fps": 30')
    other_json = tmp_path / "b.json"
    other_json.write_text('{"hello": 1}')
    shape_json = tmp_path / "c.json"
    shape_json.write_text(
        '{"format": "emosync.facecurves", "fps": 30, "channels": ["a", "b"], "frames": [1, 2, 3]}'
    )
    bad_npz = tmp_path / "d.npz"
    bad_npz.write_bytes(b"PK\x03\x04 broken")
    with zipfile.ZipFile(tmp_path / "e.npz", "w") as z:  # a valid zip that is not FaceCurves
        z.writestr("other.npy", b"")
    np.savez(tmp_path / "f.npz", values=np.array([{"x": 1}], dtype=object), fps=30.0)
    for path in [bad_json, other_json, shape_json, bad_npz, tmp_path / "e.npz", tmp_path / "f.npz"]:
        with pytest.raises(InputError) as info:
            read_curves(path)
        assert "\n" not in str(info.value) and path.name in str(info.value)
    with pytest.raises(InputError, match="does not exist"):
        read_curves(tmp_path / "missing.npz")


def test_dispatch_by_suffix(tmp_path):
    c = curves()
    assert SUFFIXES == (".glb", ".gltf", ".csv", ".json", ".npz")
    for suffix in (".csv", ".json", ".npz"):
        path = export(c, tmp_path / f"out{suffix.upper()}")
        back = read(path)
        assert back.n_frames == c.n_frames and back.fps == c.fps
        assert np.abs(back.values - c.values).max() <= 1e-6
    with pytest.raises(InputError, match=r"\.glb, \.gltf, \.csv, \.json, \.npz"):
        export(c, tmp_path / "out.fbx")
    with pytest.raises(InputError, match=r"\.csv, \.json, \.npz, \.glb, \.gltf"):
        read(tmp_path / "out.fbx")
    with pytest.raises(InputError, match="mesh"):
        export(c, tmp_path / "x.csv", mesh=tmp_path / "user.glb")
