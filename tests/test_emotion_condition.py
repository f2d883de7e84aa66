"""One interface over prompt, photo and voice; the CLI end to end."""

import json
import subprocess
import sys

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.exporters.preview import render, write_png
from emosync.inference.emotion_condition import read_emotion
from emosync.rigs.demo_face import load_demo_face
from emosync.rigs.emotion_poses import pose_for

pytest.importorskip("mediapipe")
CLI = [sys.executable, "-m", "emosync.cli.main"]


@pytest.fixture(scope="module")
def happy_png(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "happy.png"
    return write_png(path, render(load_demo_face(), pose_for(np.eye(7)[4]), None, (320, 320)))


def test_exactly_one_source():
    with pytest.raises(InputError, match="one emotion source"):
        read_emotion()
    with pytest.raises(InputError, match="text and image"):
        read_emotion("happy", image="x.png")


def test_text_and_image_readings(happy_png):
    assert read_emotion("happy").modality == "text"
    image = read_emotion(image=happy_png, intensity=0.5)
    assert image.modality == "image" and image.expression.shape == (52,)
    assert int(np.argmax(image.state)) == 4


def test_cli_emotion_image_and_animate_copy_expression(happy_png, tmp_path):
    out = subprocess.run([*CLI, "emotion", "--image", str(happy_png)], capture_output=True,
                         text=True, check=True)  # fmt: skip
    data = json.loads(out.stdout)
    assert data["modality"] == "image" and max(data["emotion"], key=data["emotion"].get) == "happy"
    wav = tmp_path / "hi.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "hello there"], check=True)
    result = tmp_path / "hi.json"
    subprocess.run([*CLI, "animate", str(wav), "-o", str(result), "--emotion-image",
                    str(happy_png), "--copy-expression", "-q"], check=True)  # fmt: skip
    assert result.is_file()
    bad = subprocess.run([*CLI, "emotion", "--image", str(tmp_path / "nope.png")],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_empty_prompt_reads_neutral_with_a_warning(tmp_path):
    """The issue: an empty prompt comes back neutral with a warning, not as "no source"."""
    out = subprocess.run([*CLI, "emotion", ""], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert max(data["emotion"].values()) == 0.0 and data["warnings"]
    assert "empty" in data["warnings"][0]
    with pytest.raises(InputError, match="text and image"):
        read_emotion("", image="x.png")
    # animating needs a feeling: an empty prompt is refused like any text that names none,
    # where it was taken silently as neutral before
    wav = tmp_path / "hi.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "hello"], check=True)
    bad = subprocess.run([*CLI, "animate", str(wav), "-o", str(tmp_path / "hi.json"),
                          "--emotion", "", "-q"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 2 and "does not describe a feeling" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "hi.json").exists()
