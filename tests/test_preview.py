"""The offline renderer: real renders of the demo face, a PNG that real decoders read."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from emosync.errors import InputError
from emosync.exporters.preview import contact_sheet, render, write_png
from emosync.rigs.demo_face import load_demo_face, weights_from

SIZE = (160, 192)


@pytest.fixture(scope="module")
def face():
    return load_demo_face()


@pytest.fixture(scope="module")
def neutral(face):
    return render(face, size=SIZE)


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 12


def test_render_shows_a_face(neutral):
    assert neutral.shape == (192, 160, 3) and neutral.dtype == np.uint8
    corner = neutral[2, 2].astype(int)
    face_pixels = np.abs(neutral.astype(int) - corner).max(axis=2) > 30
    assert 0.25 < face_pixels.mean() < 0.8
    assert face_pixels[96, 80]  # the middle of the picture is face
    skin = neutral[110, 60].astype(int)
    assert skin[0] > skin[2] + 20  # skin is warm, not the grey background


def test_jaw_open_changes_the_mouth_only(face, neutral):
    opened = render(face, weights_from({"jawOpen": 0.8}), size=SIZE)
    diff = changed(neutral, opened)
    assert diff[120:175].mean() > 0.05  # mouth and chin
    assert diff[:80].mean() < 0.005  # forehead and eyes
    mouth = opened[128:140, 70:90].astype(int).mean()
    assert mouth < neutral[128:140, 70:90].astype(int).mean() - 20  # a dark open mouth


def test_blink_and_eye_rotation_touch_the_eyes_only(face, neutral):
    blink = changed(neutral, render(face, weights_from({"eyeBlinkLeft": 1.0}), size=SIZE))
    rows, cols = np.nonzero(blink)
    assert blink.any() and rows.max() < 100 and cols.min() > 80  # subject's left = image right
    look = np.zeros(9)
    look[[3, 6]] = 0.4
    gaze = changed(neutral, render(face, None, look, size=SIZE))
    rows, _ = np.nonzero(gaze)
    assert gaze.any() and rows.min() > 50 and rows.max() < 100


def test_head_rotation_turns_the_face(face, neutral):
    turned = render(face, None, np.array([0.4, 0, 0, 0, 0, 0, 0, 0, 0]), size=SIZE)
    assert changed(neutral, turned).mean() > 0.1


def test_png_round_trip_and_no_overwrite(tmp_path, neutral):
    path = tmp_path / "face.png"
    write_png(path, neutral)
    back = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(back, neutral)
    with pytest.raises(InputError):
        write_png(path, neutral)
    write_png(path, neutral[::2, ::2].copy(), force=True)
    assert Image.open(path).size == (80, 96)


def test_contact_sheet_tiles(neutral):
    sheet = contact_sheet([neutral] * 5, cols=3, pad=4)
    assert sheet.shape == (4 + 2 * (192 + 4), 4 + 3 * (160 + 4), 3)
    assert np.array_equal(sheet[4 : 4 + 192, 4 + 164 : 4 + 164 + 160], neutral)


def test_wrinkles_darken_the_skin_where_the_target_folds_it(face, neutral):
    frown = weights_from({"browDownLeft": 1.0, "browDownRight": 1.0})
    wrinkled = render(face, frown, size=SIZE).astype(int)
    smooth = render(dataclasses.replace(face, wrinkle_targets=()), frown, size=SIZE).astype(int)
    darker = (smooth - wrinkled).sum(axis=2) > 30
    assert darker.sum() > 20  # furrows show
    rows = np.flatnonzero(darker.any(axis=1))
    assert rows.max() < SIZE[1] * 0.55  # between the brows and around the eyes, not the mouth
    assert (wrinkled <= smooth + 1).all()  # wrinkles only darken
    assert (render(dataclasses.replace(face, wrinkle_targets=()), size=SIZE) == neutral).all()
