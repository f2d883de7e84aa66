import json

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import CHANNELS


def ramp_curves(fps: float = 30.0, seconds: float = 2.0) -> FaceCurves:
    n = int(fps * seconds)
    t = np.arange(n) / fps
    values = np.zeros((n, len(CHANNELS)), np.float32)
    values[:, CHANNELS.index("jawOpen")] = 0.5 + 0.4 * np.sin(2 * np.pi * 0.5 * t)
    values[:, CHANNELS.index("headYaw")] = 0.1 * t
    return FaceCurves(fps, values, metadata={"engine": "test", "emotion_timeline": []})


def test_rejects_wrong_shape_and_fps():
    with pytest.raises(ValueError):
        FaceCurves(30, np.zeros((10, 5)))
    with pytest.raises(ValueError):
        FaceCurves(0, np.zeros((10, len(CHANNELS))))


@pytest.mark.parametrize("fps", [24, 25, 30, 50, 60, 120])
def test_resample_keeps_duration_and_shape_of_signal(fps):
    src = ramp_curves(30.0)
    out = src.resample(fps)
    assert out.fps == fps
    assert out.n_frames == round(src.duration * fps)
    t = out.times
    expected = 0.5 + 0.4 * np.sin(2 * np.pi * 0.5 * t)
    inside = t <= src.times[-1]
    np.testing.assert_allclose(out.channel("jawOpen")[inside], expected[inside], atol=0.01)
    assert out.values.dtype == np.float32


def test_slice_and_concat_with_crossfade():
    c = ramp_curves(30.0, 2.0)
    a, b = c.slice(0.0, 1.0), c.slice(1.0)
    assert a.n_frames == 30 and b.n_frames == 30
    np.testing.assert_array_equal(a.concat(b).values, c.values)
    faded = a.concat(b, crossfade=0.2)
    assert faded.n_frames == 60 - 6
    # the crossfade lies between the two sides and has no step at its borders
    jaw = faded.channel("jawOpen")
    assert np.max(np.abs(np.diff(jaw))) < 0.2


def test_concat_resamples_other_fps_and_rejects_other_channels():
    a = ramp_curves(30.0, 1.0)
    b = ramp_curves(60.0, 1.0)
    assert a.concat(b).n_frames == 60
    other = FaceCurves(30, np.zeros((5, 3)), channels=("a", "b", "c"))
    with pytest.raises(ValueError):
        a.concat(other)


def test_json_and_npz_round_trip(tmp_path):
    c = ramp_curves()
    back = FaceCurves.from_json(c.to_json())
    np.testing.assert_allclose(back.values, c.values, atol=1e-6)
    assert back.metadata == c.metadata and back.channels == c.channels
    np.savez(tmp_path / "c.npz", **c.npz_arrays())
    with np.load(tmp_path / "c.npz", allow_pickle=False) as z:
        back = FaceCurves.from_npz_arrays(z)
    np.testing.assert_array_equal(back.values, c.values)
    assert back.fps == c.fps and back.metadata == c.metadata


def test_from_json_rejects_other_files():
    with pytest.raises(InputError):
        FaceCurves.from_json(json.dumps({"hello": 1}))
    with pytest.raises(InputError):
        FaceCurves.from_json("{not json")
