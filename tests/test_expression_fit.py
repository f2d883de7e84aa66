"""The landmark fit and the emotion read-out, on exact demo-face geometry (no tracker)."""

import numpy as np
import pytest

from emosync.inference.expression_fit import (
    ExpressionFitter,
    box_least_squares,
    emotion_from_pose,
    similarity,
)
from emosync.rigs.demo_face import N_LANDMARKS, deform, load_demo_face
from emosync.rigs.emotion_poses import pose_for
from emosync.rigs.emotions import EMOTIONS, dominant


@pytest.fixture(scope="module")
def fitter():
    return ExpressionFitter()


def _rotation(yaw, pitch):
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    return np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]) @ np.array(
        [[1, 0, 0], [0, cp, -sp], [0, sp, cp]]
    )


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    rot = _rotation(0.4, -0.2)
    y = 2.5 * x @ rot.T + [1.0, -2.0, 0.5]
    r, s, t = similarity(x, y)
    assert np.allclose(r, rot, atol=1e-9) and s == pytest.approx(2.5)
    assert np.allclose(s * x @ r.T + t, y, atol=1e-9)


def test_box_least_squares_respects_bounds_and_matches_unconstrained_inside():
    q = np.array([[2.0, 0.5], [0.5, 1.0]])
    inside = box_least_squares(q, q @ np.array([0.3, 0.6]), iterations=2000)
    assert np.allclose(inside, [0.3, 0.6], atol=1e-6)
    outside = box_least_squares(q, q @ np.array([2.0, -1.0]))
    assert outside.min() >= 0.0 and outside.max() <= 1.0


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_fit_recovers_a_posed_face_under_a_similarity(fitter, emotion):
    face = load_demo_face()
    weights = pose_for(np.eye(len(EMOTIONS))[EMOTIONS.index(emotion)])
    shaped = deform(face, weights)[:N_LANDMARKS].astype(np.float64)
    moved = 830.0 * shaped @ _rotation(0.3, 0.1).T + [200.0, -300.0, 10.0]
    fit = fitter.fit(moved)
    assert fit.residual < 5e-4  # metres; the ridge leaves a fraction of a millimetre
    # the ridge and the left/right prior shrink weights a little; the pose must still read back
    assert dominant(emotion_from_pose(fit.weights)) == emotion
    assert np.corrcoef(fit.weights, weights)[0, 1] > 0.7


def test_readout_of_each_prototype_is_that_emotion_at_its_intensity():
    for i, emotion in enumerate(EMOTIONS):
        state = emotion_from_pose(pose_for(0.6 * np.eye(len(EMOTIONS))[i]))
        assert dominant(state) == emotion
        assert state[i] == pytest.approx(0.6, abs=0.08)
    assert not emotion_from_pose(np.zeros(52)).any()
