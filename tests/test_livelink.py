"""Live Link Face CSV: exact header and timecodes, exact round trips, iPhone files by name."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.exporters.livelink import read_livelink_csv, timecode, write_livelink_csv
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS, ROTATION_NAMES, pascal


def random_curves(frames: int = 100, fps: float = 30.0, seed: int = 0) -> FaceCurves:
    rng = np.random.default_rng(seed)
    values = rng.random((frames, len(CHANNELS))).astype(np.float32)
    values[:, 52:] = (values[:, 52:] - 0.5) * 0.6
    values[3, 5] = 1e-9  # tiny numbers must survive too
    return FaceCurves(fps, values)


def iphone_header(spelling: str = "BlendshapeCount") -> list[str]:
    names = [pascal(n) for n in ARKIT_NAMES]  # already the app's order (JawRight, JawLeft, …)
    return ["Timecode", spelling, *names, *(pascal(n) for n in ROTATION_NAMES)]


def write_iphone_csv(path, values: np.ndarray, header: list[str], stamps: list[str]) -> None:
    """Rows as the app writes them: 61 in the count column, values with 8 decimals."""
    with open(path, "w", newline="") as f:
        f.write(",".join(header) + "\r\n")
        for stamp, row in zip(stamps, values, strict=True):
            f.write(",".join([stamp, "61", *(f"{v:.8f}" for v in row)]) + "\r\n")


def iphone_stamps(n: int, start_s: int = 18 * 3600 + 42 * 60 + 9, start_f: int = 26) -> list[str]:
    out = []
    for i in range(n):
        s, f = divmod(start_f + i, 60)
        sec = start_s + s
        h, rest = divmod(sec, 3600)
        frac = (i * 37) % 1000  # the app's sub-frame part wanders
        out.append(f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}:{f:02d}.{frac // 10:03d}")
    return out


def test_header_and_columns(tmp_path):
    curves = random_curves()
    path = write_livelink_csv(curves, tmp_path / "take.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header == ["Timecode", "BlendShapeCount", *iphone_header()[2:]]
    assert header.index("JawRight") < header.index("JawLeft")
    assert header.index("MouthRight") < header.index("MouthLeft")
    assert len(rows) == 101 and all(r[1] == "61" and len(r) == 63 for r in rows[1:])
    col = header.index("JawLeft")
    got = np.array([float(r[col]) for r in rows[1:]], np.float32)
    np.testing.assert_array_equal(got, curves.channel("jawLeft"))
    assert rows[66][0] == "00:00:02:05.000"


def test_timecode_format():
    assert timecode(0, 60) == "00:00:00:00.000"
    assert timecode(61, 60) == "00:00:01:01.000"
    assert timecode(60 * 3661 + 59, 60) == "01:01:01:59.000"
    assert timecode(1, 29.97) == "00:00:00:01.000"
    assert timecode(30, 29.97) == "00:00:01:00.030"  # frame 30 lands 0.03 frames past 1 s


@pytest.mark.parametrize("fps", [24.0, 30.0, 60.0])
def test_round_trip_is_exact(tmp_path, fps):
    curves = random_curves(frames=150, fps=fps)
    back = read_livelink_csv(write_livelink_csv(curves, tmp_path / "rt.csv"))
    assert back.fps == fps and back.channels == CHANNELS
    assert np.abs(back.values - curves.values).max() <= 1e-6
    assert back.metadata["warnings"] == []


def test_reads_iphone_export(tmp_path):
    rng = np.random.default_rng(7)
    # the app's column order: shuffle our channel values into its header by name
    header = iphone_header()
    values = rng.random((90, 61)).astype(np.float32)
    path = tmp_path / "MySlate_3_iPhone.csv"
    write_iphone_csv(path, values, header, iphone_stamps(90))
    curves = read_livelink_csv(path)
    assert curves.fps == 60.0 and curves.n_frames == 90
    for j, name in enumerate(header[2:]):
        np.testing.assert_allclose(
            curves.channel(name[0].lower() + name[1:]), values[:, j], atol=6e-9
        )
    assert curves.metadata["timecode_start"].startswith("18:42:09:26")


def test_any_order_extra_columns_and_51_names(tmp_path):
    header = iphone_header("BlendShapeCount")
    header.remove("TongueOut")
    header = [header[0], "Extra", *reversed(header[1:])]
    rng = np.random.default_rng(1)
    n = len(header) - 1  # everything but the timecode
    data = rng.random((40, n)).astype(np.float32)
    with open(tmp_path / "odd.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i, row in enumerate(data):
            w.writerow([timecode(i, 30), *(f"{v:.9g}" for v in row)])
    curves = read_livelink_csv(tmp_path / "odd.csv")
    assert curves.fps == 30.0
    np.testing.assert_array_equal(
        curves.channel("mouthLeft"), data[:, header.index("MouthLeft") - 1]
    )
    np.testing.assert_array_equal(curves.channel("headRoll"), data[:, header.index("HeadRoll") - 1])
    assert (curves.channel("tongueOut") == 0).all()
    assert "tongueOut" in curves.metadata["warnings"][0]


def test_dropped_frame_is_resampled_and_fps_override(tmp_path):
    values = np.zeros((60, 61), np.float32)
    values[:, 17] = np.arange(60) / 60  # jawOpen ramps
    stamps = [timecode(i, 30) for i in range(60)]
    keep = [i for i in range(60) if i != 20]
    path = tmp_path / "drop.csv"
    write_iphone_csv(path, values[keep], iphone_header(), [stamps[i] for i in keep])
    curves = read_livelink_csv(path)
    assert curves.fps == 30 and curves.n_frames == 60
    np.testing.assert_allclose(curves.channel("jawOpen"), values[:, 17], atol=1e-6)
    assert any("resampled" in w for w in curves.metadata["warnings"])
    # a 20-frame 25 fps clip is ambiguous from its timecodes alone: the caller can say
    short = random_curves(frames=20, fps=25)
    p = write_livelink_csv(short, tmp_path / "short.csv")
    assert read_livelink_csv(p, fps=25).n_frames == 20
    np.testing.assert_array_equal(read_livelink_csv(p, fps=25).values, short.values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a,b,c\n1,2,3\n", "no Timecode column"),
        ("Timecode,Foo\n00:00:00:00.000,1\n", "no blendshape columns"),
        ("Timecode,BlendshapeCount,JawOpen\n", "no data rows"),
        ("Timecode,BlendshapeCount,JawOpen\n00:00:00:00.000,61,abc\n", "bad number 'abc'"),
        ("Timecode,BlendshapeCount,JawOpen\nyesterday,61,0.5\n", "bad timecode"),
        ("Timecode,BlendshapeCount,JawOpen\n00:00:00:00.000,61\n", "line 2: 2 fields"),
        ("Timecode,JawOpen\n00:00:01:00.000,1\n00:00:00:00.000,1\n", "goes backwards"),
        ("Timecode,JawOpen\n00:00:00:00.000,nan\n", "non-finite"),
    ],
)
def test_bad_csv_is_one_line_input_error(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_livelink_csv(path)
    assert "\n" not in str(info.value) and "bad.csv" in str(info.value)


def test_unreadable_inputs(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_livelink_csv(tmp_path / "nope.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(InputError, match="cannot read"):
        read_livelink_csv(tmp_path / "bin.csv")


def test_write_refuses_overwrite_and_non_arkit(tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("mine")
    with pytest.raises(InputError, match="exists"):
        write_livelink_csv(random_curves(), out)
    assert out.read_text() == "mine"
    vrm = FaceCurves(30, np.zeros((5, 2)), channels=("aa", "ih"))
    with pytest.raises(InputError, match="ARKit"):
        write_livelink_csv(vrm, tmp_path / "v.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


def test_60fps_rows_on_30fps_timecode(tmp_path):
    """Some takes stamp 60 rows a second on a 30 fps timecode: FF.000, FF.500, FF+1.000 …"""
    stamps = [f"10:00:{i // 60:02d}:{(i % 60) // 2:02d}.{500 * (i % 2):03d}" for i in range(150)]
    values = np.random.default_rng(2).random((150, 61)).astype(np.float32)
    write_iphone_csv(tmp_path / "half.csv", values, iphone_header(), stamps)
    curves = read_livelink_csv(tmp_path / "half.csv")
    assert curves.fps == 60.0 and curves.n_frames == 150
    assert curves.metadata["timecode_rate"] == 30 and curves.metadata["warnings"] == []
