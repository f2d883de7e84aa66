"""The live face's parts: emotion ramps shaped like a timeline's, causal frame resampling, the
causal life layer, and the whole face against the file path on the same clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emosync.inference.live_emotion import LiveEmotion
from emosync.inference.live_face import FrameResampler
from emosync.inference.timeline import DEFAULT_TRANSITION, EmotionTimeline, Segment
from emosync.rigs.channels import ARKIT_NAMES, ROTATION_NAMES
from emosync.rigs.emotions import EMOTIONS

ROOT = Path(__file__).resolve().parents[1]


def state(name: str, value: float = 1.0) -> np.ndarray:
    s = np.zeros(7)
    s[EMOTIONS.index(name)] = value
    return s


def test_a_start_timeline_plays_exactly_as_in_a_file():
    timeline = EmotionTimeline([Segment(1.0, 2.0, state("happy")), Segment(2.0, 3.0, state("sad"))])
    live = LiveEmotion(timeline, intensity=0.8)
    t = np.arange(200) / 50.0
    np.testing.assert_allclose(live.states(t), 0.8 * timeline.frames(200, 50.0), atol=1e-6)


def test_a_change_ramps_in_from_when_it_is_given():
    live = LiveEmotion(EmotionTimeline.constant(state("happy", 0.5)))
    live.change(state("angry"), at=2.0)
    t = np.array([1.99, 2.0, 2.0 + DEFAULT_TRANSITION / 2, 2.0 + DEFAULT_TRANSITION, 5.0])
    s = live.states(t)
    happy, angry = EMOTIONS.index("happy"), EMOTIONS.index("angry")
    np.testing.assert_allclose(s[:2, happy], 0.5)
    np.testing.assert_allclose(s[2, [happy, angry]], [0.25, 0.5], atol=1e-6)
    np.testing.assert_allclose(s[3:, angry], 1.0)
    np.testing.assert_allclose(s[3:, happy], 0.0, atol=1e-7)
    # a change replaces the rest of a start timeline; old ramps fold into the base
    live.change(state("sad"), at=100.0)
    assert live.states(np.array([200.0]))[0, EMOTIONS.index("sad")] == 1.0
    assert live._steps == []  # both ramps ended long before t = 200: folded into the base


@pytest.mark.parametrize("dst", [50.0, 60.0, 30.0, 29.97])
def test_resampler_is_linear_interpolation_and_counts_like_a_file(dst):
    rng = np.random.default_rng(0)
    src = rng.random((237, 3)).astype(np.float32)
    rs = FrameResampler(50.0, dst, 3)
    parts = [rs.push(src[a : a + 7]) for a in range(0, len(src), 7)]
    total = round(len(src) / 50.0 * dst)
    out = np.concatenate([*parts, rs.finish(total)])
    assert len(out) == total
    t = np.arange(total) / dst
    ref = np.stack([np.interp(t, np.arange(len(src)) / 50.0, src[:, c]) for c in range(3)], 1)
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_live_face_matches_the_file_path():
    from emosync.inference.audio import load_audio
    from emosync.inference.convertor import model_available, shipped_convertor
    from emosync.inference.live_face import LiveFace
    from emosync.inference.pipeline import AnimateOptions, animate

    if not model_available():
        pytest.skip("the neural model is not installed")
    audio = load_audio(ROOT / "examples" / "hello.wav")
    samples = audio.samples[: 16000 * 4]
    face = LiveFace(shipped_convertor(), fps=60.0)
    parts = [face.push(samples[a : a + 320]) for a in range(0, samples.size, 320)]
    live = np.concatenate([*parts, face.finish()])
    audio.samples = samples
    ref = animate(audio, AnimateOptions(fps=60.0, engine="neural")).values
    assert live.shape == ref.shape == (240, 61)
    jaw = ARKIT_NAMES.index("jawOpen")
    assert np.corrcoef(live[:, jaw], ref[:, jaw])[0, 1] > 0.95
    assert np.abs(live[:, jaw] - ref[:, jaw]).mean() < 0.05
    blinks = live[:, ARKIT_NAMES.index("eyeBlinkLeft")]
    assert blinks.max() > 0.9  # at least one full blink in 4 s (14 a minute at rest)
    eye = live[:, 52 + ROTATION_NAMES.index("leftEyeYaw")]
    assert 0 < np.abs(eye).max() <= 0.12 + 1e-6  # fixations within the gaze range
    assert np.all((live[:, :52] >= 0) & (live[:, :52] <= 1))
