"""Emotion from a photo with the real mediapipe face mesh on rendered demo faces."""

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.exporters.preview import render, write_png
from emosync.inference.emotion_image import image_emotion
from emosync.rigs.demo_face import load_demo_face
from emosync.rigs.emotion_poses import pose_for
from emosync.rigs.emotions import EMOTIONS, dominant

pytest.importorskip("mediapipe")
SIZE = (320, 320)


def _face(emotion: str, size=SIZE) -> np.ndarray:
    state = np.eye(len(EMOTIONS))[EMOTIONS.index(emotion)]
    return render(load_demo_face(), pose_for(state), None, size)


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces")
    out = {}
    for emotion in ("happy", "surprised"):
        out[emotion] = _face(emotion)
        write_png(root / f"{emotion}.png", out[emotion])
    out["root"] = root
    return out


@pytest.mark.parametrize("emotion", ["happy", "surprised"])
def test_rendered_emotion_reads_back(faces, emotion):
    reading = image_emotion(faces["root"] / f"{emotion}.png")
    assert dominant(reading.state) == emotion
    assert reading.expression.shape == (52,) and reading.details["faces"] == 1
    assert not reading.warnings


def test_two_faces_use_the_largest_and_say_which(faces, tmp_path):
    small = faces["surprised"][::2, ::2]
    canvas = np.zeros((SIZE[1], SIZE[0] + small.shape[1], 3), np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small
    canvas[:, small.shape[1] :] = faces["happy"]
    write_png(tmp_path / "two.png", canvas)
    reading = image_emotion(tmp_path / "two.png")
    assert reading.details["faces"] == 2
    assert reading.details["face_bbox"][0] >= small.shape[1] - 1  # the big, right-hand face
    assert "2 faces" in reading.warnings[0] and "largest" in reading.warnings[0]
    assert dominant(reading.state) == "happy"


def test_huge_image_is_scaled_down(faces, tmp_path):
    big = np.kron(faces["happy"], np.ones((8, 8, 1), np.uint8))  # 2560 px
    write_png(tmp_path / "big.png", big)
    reading = image_emotion(tmp_path / "big.png")
    assert any("scaled down" in w for w in reading.warnings)
    assert reading.details["image_size"] == [2048, 2048]


def test_errors_are_one_line_input_errors(faces, tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    write_png(tmp_path / "blank.png", np.full((200, 200, 3), 90, np.uint8))
    tiny = np.zeros((400, 400, 3), np.uint8)
    tiny[:46, :46] = faces["happy"][::7, ::7]  # a 46 px face
    write_png(tmp_path / "tiny.png", tiny)
    write_png(tmp_path / "speck.png", faces["happy"][:20, :20])
    cases = {
        tmp_path / "missing.png": "not found",
        tmp_path / "notes.png": "not an image",
        tmp_path / "blank.png": "no face",
        tmp_path / "speck.png": "too small",
    }
    for path, words in cases.items():
        with pytest.raises(InputError, match=words) as err:
            image_emotion(path)
        assert "\n" not in str(err.value)
    with pytest.raises(InputError, match=r"no face|px across"):
        image_emotion(tmp_path / "tiny.png")


def test_astronaut_reads_happy(tmp_path):
    from skimage import data

    write_png(tmp_path / "astronaut.png", data.astronaut())
    assert dominant(image_emotion(tmp_path / "astronaut.png").state) == "happy"
