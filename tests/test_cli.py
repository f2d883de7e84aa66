"""The `emosync` command end to end: real audio, real alignment, real files."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emosync.cli.main import main
from emosync.exporters.dispatch import read

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hello.wav"
TRANSCRIPT = ROOT / "examples" / "hello.txt"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 3-second slice of the bundled example clip (keeps the suite quick)."""
    data, sr = sf.read(EXAMPLE, dtype="float32")
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, data[: 3 * sr], sr)
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("emosync: error: ")
    assert "Traceback" not in err


def test_animate_writes_every_format(tmp_path, capsys):
    outs = [tmp_path / f"hello.{s}" for s in ("glb", "csv", "json", "npz")]
    args = ["animate", EXAMPLE, "--transcript", TRANSCRIPT, "--emotion", "slightly sad"]
    code, out, err = run_cli(capsys, *args, *[a for o in outs for a in ("-o", o)])
    assert code == 0, err
    for o in outs:
        assert o.is_file() and o.stat().st_size > 0
        assert str(o) in out
    curves = read(tmp_path / "hello.json")
    assert curves.fps == 60 and curves.n_frames == pytest.approx(60 * 10.06, abs=2)
    assert curves.metadata["alignment"] == "forced"
    assert curves.metadata["emotion_timeline"]
    csv = read(tmp_path / "hello.csv")
    np.testing.assert_allclose(csv.values, curves.values, atol=1e-4)


def test_emotion_changes_the_face_but_not_the_timing(clip, tmp_path, capsys):
    for name, emotion in (("neutral", "neutral"), ("angry", "furious")):
        code, _, err = run_cli(
            capsys,
            "animate",
            clip,
            "--emotion",
            emotion,
            "--seed",
            "3",
            "-o",
            tmp_path / f"{name}.npz",
        )
        assert code == 0, err
    neutral, angry = read(tmp_path / "neutral.npz"), read(tmp_path / "angry.npz")
    assert neutral.n_frames == angry.n_frames
    brow = neutral.channels.index("browDownLeft")
    assert angry.values[:, brow].mean() > neutral.values[:, brow].mean() + 0.2


def test_refuses_to_overwrite_without_force(clip, tmp_path, capsys):
    out = tmp_path / "x.csv"
    out.write_text("mine")
    code, _, err = run_cli(capsys, "animate", clip, "-o", out)
    assert_one_line_error(code, err)
    assert out.read_text() == "mine"
    code, _, err = run_cli(capsys, "animate", clip, "-o", out, "--force")
    assert code == 0, err
    assert out.read_text().startswith("Timecode,")


def bad_audio(tmp_path: Path, kind: str) -> Path:
    p = tmp_path / f"{kind}.wav"
    if kind == "missing":
        return tmp_path / "nope.wav"
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "corrupt":
        p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage" + bytes(range(200)))
    elif kind == "silent":
        sf.write(p, np.zeros(16000, np.float32), 16000)
    elif kind == "one-sample":
        sf.write(p, np.array([0.5], np.float32), 16000)
    elif kind == "directory":
        p = tmp_path / "adir.wav"
        p.mkdir()
    elif kind == "text":
        p.write_text("this is not audio\n" * 50)
    return p


@pytest.mark.parametrize(
    "kind", ["missing", "empty", "corrupt", "silent", "one-sample", "directory", "text"]
)
def test_bad_audio(kind, tmp_path, capsys):
    out = tmp_path / "out.csv"
    code, _, err = run_cli(capsys, "animate", bad_audio(tmp_path, kind), "-o", out)
    assert_one_line_error(code, err)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def write_timeline(tmp_path: Path, segments) -> Path:
    p = tmp_path / "timeline.json"
    p.write_text(json.dumps({"segments": segments}))
    return p


@pytest.mark.parametrize(
    "extra",
    [
        ["--emotion", "the train leaves at noon"],
        ["--emotion", "0.5 zxqv wplk + 0.3 happy"],
        ["--intensity", "-1"],
        ["--intensity", "abc"],
        ["--intensity", "7"],
        ["--fps", "0"],
        ["--fps", "many"],
        ["--engine", "quantum"],
        ["--timeline", "OVERLAP"],
        ["--timeline", "REVERSED"],
        ["--timeline", "MISSING"],
        ["--transcript", "missing_transcript.txt"],
        ["--rig", "nosuchrig"],
    ],
)
def test_bad_options(extra, clip, tmp_path, capsys):
    if extra[-1] == "OVERLAP":
        extra = [
            extra[0],
            write_timeline(
                tmp_path,
                [
                    {"start": 0, "end": 2, "emotion": "happy"},
                    {"start": 1, "end": 3, "emotion": "sad"},
                ],
            ),
        ]
    elif extra[-1] == "REVERSED":
        extra = [extra[0], write_timeline(tmp_path, [{"start": 2, "end": 1, "emotion": "sad"}])]
    elif extra[-1] == "MISSING":
        extra = [extra[0], tmp_path / "none.json"]
    out = tmp_path / "out.json"
    code, _, err = run_cli(capsys, "animate", clip, "-o", out, *extra)
    assert_one_line_error(code, err)
    assert not out.exists()


@pytest.mark.parametrize("target", ["DIR", "NO_PARENT", "PROC", "SUFFIX"])
def test_unwritable_outputs(target, clip, tmp_path, capsys):
    out = {
        "DIR": tmp_path,
        "NO_PARENT": tmp_path / "no" / "such" / "dir" / "x.csv",
        "PROC": Path("/proc/emosync.csv"),
        "SUFFIX": tmp_path / "x.mp4",
    }[target]
    code, _, err = run_cli(capsys, "animate", clip, "-o", out)
    assert_one_line_error(code, err)


def test_usage_errors_are_one_line(capsys):
    code, _, err = run_cli(capsys, "animate")
    assert_one_line_error(code, err)
    code, _, err = run_cli(capsys, "frobnicate")
    assert_one_line_error(code, err)


def test_emotion_command_prints_json(capsys):
    code, out, _ = run_cli(capsys, "emotion", "0.6 happy + 0.3 surprised")
    assert code == 0
    state = json.loads(out)["emotion"]
    assert state["happy"] == pytest.approx(0.6) and state["surprised"] == pytest.approx(0.3)
    assert state["angry"] == 0
    # words that are not a feeling read as neutral, with a warning rather than a guess
    code, out, _ = run_cli(capsys, "emotion", "the train leaves at noon")
    assert code == 0
    reading = json.loads(out)
    assert not any(reading["emotion"].values()) and reading["warnings"]
    code, _, err = run_cli(capsys, "emotion")
    assert_one_line_error(code, err)


def test_installed_command_runs_as_a_process(clip, tmp_path):
    exe = shutil.which("emosync", path=str(Path(sys.executable).parent))
    assert exe, "the emosync console script is installed"
    ok = subprocess.run(
        [exe, "animate", clip, "-o", tmp_path / "a.json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [exe, "animate", tmp_path / "missing.wav", "-o", tmp_path / "b.json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("emosync: error:")


def test_preview_renders_frames_of_an_animation(clip, tmp_path, capsys):
    curves = tmp_path / "c.json"
    assert run_cli(capsys, "animate", clip, "-o", curves)[0] == 0
    png = tmp_path / "strip.png"
    code, out, err = run_cli(capsys, "preview", curves, "-o", png, "--frames", "3", "--size", "64")
    assert code == 0, err
    assert str(png) in out
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (4 + 3 * (64 + 4), 4 + 64 + 4)
    code, _, err = run_cli(capsys, "preview", curves, "-o", tmp_path / "x.gif")
    assert_one_line_error(code, err)
    code, _, err = run_cli(capsys, "preview", tmp_path / "none.json", "-o", tmp_path / "y.png")
    assert_one_line_error(code, err)


def test_rig_presets_write_their_own_channels(clip, tmp_path, capsys):
    code, _, err = run_cli(capsys, "animate", clip, "--rig", "visemes", "-o", tmp_path / "v.npz")
    assert code == 0, err
    curves = read(tmp_path / "v.npz")
    assert curves.channels[:2] == ("viseme_sil", "viseme_PP")
    assert curves.channels[-9:] == (
        "headYaw",
        "headPitch",
        "headRoll",
        "leftEyeYaw",
        "leftEyePitch",
        "leftEyeRoll",
        "rightEyeYaw",
        "rightEyePitch",
        "rightEyeRoll",
    )
    # the clip says "Hello! My name is Emma": lips close (PP) and the jaw opens (aa)
    assert curves.channel("viseme_PP").max() > 0.3
    assert curves.channel("viseme_aa").max() > 0.3
    code, _, err = run_cli(capsys, "animate", clip, "--rig", "vrm", "-o", tmp_path / "v.csv")
    assert_one_line_error(code, err)
