"""Photo and voice emotion through the `emosync` command: real espeak-ng speech, real renders of
the demo face read by the real mediapipe face mesh, real alignment, real output files."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emosync.cli.main import main
from emosync.exporters.dispatch import read
from emosync.exporters.preview import render, write_png
from emosync.rigs.channels import INDEX
from emosync.rigs.demo_face import load_demo_face
from emosync.rigs.emotion_poses import pose_for
from emosync.rigs.emotions import EMOTIONS

pytest.importorskip("mediapipe")
ESPEAK = shutil.which("espeak-ng")
pytestmark = pytest.mark.skipif(ESPEAK is None, reason="needs espeak-ng")
SAID = "we found the key"
SIZE = (320, 320)


def _speak(path: Path, text: str) -> Path:
    subprocess.run([ESPEAK, "-w", str(path), text], check=True, capture_output=True)
    return path


def _face_png(path: Path, emotion: str | None) -> Path:
    state = np.zeros(len(EMOTIONS))
    if emotion:
        state[EMOTIONS.index(emotion)] = 1.0
    return write_png(path, render(load_demo_face(), pose_for(state), None, SIZE))


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("media")
    return {
        "clip": _speak(root / "clip.wav", SAID),
        "voice": _speak(root / "voice.wav", "this is wonderful, I love it"),
        "surprised": _face_png(root / "surprised.png", "surprised"),
        "neutral": _face_png(root / "neutral.png", None),
        "root": root,
    }


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def animate(capsys, media, out: Path, *extra) -> tuple[int, str]:
    code, _, err = run_cli(
        capsys, "animate", media["clip"], "--transcript", SAID, "--engine", "phonetic",
        "-q", "-o", out, *extra,
    )  # fmt: skip
    return code, err


def test_emotion_image_prints_json_with_the_dominant_emotion(media, capsys):
    code, out, err = run_cli(capsys, "emotion", "--image", media["surprised"])
    assert code == 0, err
    reading = json.loads(out)
    assert reading["modality"] == "image"
    weights = reading["emotion"]
    assert max(weights, key=weights.get) == "surprised" and weights["surprised"] > 0.3
    assert reading["details"]["faces"] == 1
    assert reading["expression"]["browInnerUp"] > 0.1  # the fitted pose comes with it


def test_copy_expression_puts_the_photo_on_the_face(media, tmp_path, capsys):
    code, out, err = run_cli(capsys, "emotion", "--image", media["surprised"])
    assert code == 0, err
    fitted = json.loads(out)["expression"]
    surprised, off = ["--emotion-image", media["surprised"]], ["--intensity", "0"]
    runs = {
        "surprised": surprised,
        "neutral": ["--emotion-image", media["neutral"]],
        # intensity 0 switches the emotion off: what is left on the brows is the copy
        "copy only": [*surprised, "--copy-expression", *off],
        "no copy": [*surprised, *off],
    }
    curves = {}
    for name, extra in runs.items():
        code, err = animate(capsys, media, tmp_path / f"{name}.json", *extra)
        assert code == 0, err
        curves[name] = read(tmp_path / f"{name}.json")
    assert len({c.n_frames for c in curves.values()}) == 1
    brows = ("browInnerUp", "browOuterUpLeft", "browOuterUpRight")
    level = {n: {b: np.median(c.values[:, INDEX[b]]) for b in brows} for n, c in curves.items()}
    for b in brows:
        assert fitted[b] > 0.2
        assert level["surprised"][b] > level["neutral"][b] + 0.2
        assert level["copy only"][b] == pytest.approx(fitted[b], abs=0.03)
        assert level["no copy"][b] < 0.05


def test_emotion_audio_animates(media, tmp_path, capsys):
    out = tmp_path / "voice.json"
    code, err = animate(capsys, media, out, "--emotion-audio", media["voice"])
    assert code == 0, err
    curves = read(out)
    assert curves.n_frames > 30 and np.isfinite(curves.values).all()


def test_timeline_with_image_and_audio_segments(media, capsys):
    folder = media["root"]
    timeline = folder / "timeline.json"
    segments = [
        {"start": 0.0, "end": 0.6, "image": "surprised.png", "copy_expression": True},
        {"start": 0.6, "end": 5.0, "audio": "voice.wav"},
    ]
    timeline.write_text(json.dumps({"segments": segments}))
    out = folder / "timeline_out.json"
    code, err = animate(capsys, media, out, "--timeline", timeline)
    assert code == 0, err
    curves = read(out)
    labels = json.dumps(curves.metadata["emotion_timeline"])
    assert "surprised.png" in labels and "voice.wav" in labels
    brow = curves.values[:, INDEX["browInnerUp"]]
    early, late = brow[: int(0.2 * curves.fps)], brow[int(1.2 * curves.fps) :]
    assert early.mean() > late.mean() + 0.2  # the copied surprise, then the voice's emotion


def test_image_errors_are_one_line(media, tmp_path, capsys):
    write_png(tmp_path / "blank.png", np.full((200, 200, 3), 90, np.uint8))
    (tmp_path / "notes.png").write_text("not a picture")
    cases = {
        tmp_path / "blank.png": "no face",
        tmp_path / "notes.png": "not an image",
        tmp_path / "missing.png": "not found",
    }
    for path, words in cases.items():
        for argv in (
            ["emotion", "--image", path],
            ["animate", media["clip"], "-o", tmp_path / "x.json", "--emotion-image", path],
        ):
            code, out, err = run_cli(capsys, *argv)
            lines = err.strip().splitlines()
            assert code == 2 and len(lines) == 1, err
            assert lines[0].startswith("emosync: error: ") and words in lines[0]
            assert "Traceback" not in err and out == ""
    assert not (tmp_path / "x.json").exists()
