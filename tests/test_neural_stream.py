"""Streaming the neural engine (inference/neural.NeuralStream) through a real ONNX Runtime session:
frames equal the whole-clip run, arrive as soon as their look-ahead is there, and end complete."""

from __future__ import annotations

import numpy as np
import pytest
from test_neural_runtime import AHEAD_MEL, make_convertor, one_shot, speechlike

from emosync.inference.audio import SAMPLE_RATE
from emosync.rigs import mouth
from emosync.rigs.channels import N_BLENDSHAPES
from emosync.rigs.emotions import EMOTIONS

HOP, HALF_WINDOW = 160, 200  # samples: mel hop, half the 400-sample mel window


@pytest.fixture(scope="module")
def conv(tmp_path_factory):
    from emosync.inference.convertor import NeuralConvertor

    path = make_convertor(tmp_path_factory.mktemp("model"))
    return NeuralConvertor(path, providers=["CPUExecutionProvider"])


def pieces(samples: np.ndarray, seed: int):
    """Cut a signal at random points (1 sample to 0.3 s), as audio arrives from a device."""
    rng = np.random.default_rng(seed)
    a = 0
    while a < samples.size:
        b = min(samples.size, a + int(rng.integers(1, 4800)))
        yield samples[a:b]
        a = b


def test_stream_equals_whole_clip(conv):
    from emosync.inference.convertor import NeuralStream

    samples = speechlike(4.1, seed=11)
    happy = np.zeros(7, np.float32)
    happy[EMOTIONS.index("happy")] = 0.8
    stream = NeuralStream(conv, emotion=happy, seal=False)
    frames = [stream.push(piece) for piece in pieces(samples, 0)]
    frames.append(stream.finish())
    got = np.concatenate(frames)
    ref = one_shot(conv, samples, happy)
    assert got.shape == ref.curves.shape == (conv.n_frames(samples.size), 55)
    np.testing.assert_allclose(got, ref.curves, atol=1e-4)


def test_frames_come_as_soon_as_their_lookahead_is_heard(conv):
    """After n samples, exactly the frames k with mel frame 2k + 1 + look-ahead complete are out:
    the latency is the model's look-ahead (≤ 120 ms) plus half a mel window, nothing more."""
    from emosync.inference.convertor import NeuralStream

    stream = NeuralStream(conv)
    heard = 0
    worst = 0.0
    for piece in pieces(speechlike(3.0, seed=2), 1):
        stream.push(piece)
        heard += piece.size
        complete_mel = 0 if heard < HALF_WINDOW else 1 + (heard - HALF_WINDOW) // HOP
        expected = max(0, (complete_mel - AHEAD_MEL) // 2)
        assert stream.frames_out == expected
        if stream.frames_out:
            newest = (stream.frames_out - 1) / 50.0
            worst = max(worst, heard / SAMPLE_RATE - newest)
    # the newest frame trails the audio by its own second mel frame, the look-ahead and half a
    # mel window, plus up to one output frame (20 ms) of waiting for the next frame's audio
    assert worst <= ((1 + AHEAD_MEL) * HOP + HALF_WINDOW + 2 * HOP) / SAMPLE_RATE


def test_emotion_changes_take_effect_live(conv):
    from emosync.inference.convertor import NeuralStream

    samples = speechlike(2.0, seed=5)
    half = samples.size // 2
    plain, live = NeuralStream(conv, seal=False), NeuralStream(conv, seal=False)
    a = [plain.push(samples[:half]), live.push(samples[:half])]
    sad = np.zeros(7, np.float32)
    sad[EMOTIONS.index("sad")] = 1.0
    live.set_emotion(sad)
    b = [np.concatenate([plain.push(samples[half:]), plain.finish()]),
         np.concatenate([live.push(samples[half:]), live.finish()])]  # fmt: skip
    np.testing.assert_array_equal(a[0], a[1])
    assert np.abs(b[0] - b[1]).max() > 1e-3


def test_stream_seals_lips_on_bilabials(conv):
    from emosync.inference.convertor import NeuralStream

    samples = speechlike(4.0, seed=8)
    stream = NeuralStream(conv)
    frames, probs = [], []
    for piece in pieces(samples, 3):
        frames.append(stream.push(piece))
        probs.append(stream.last_phones)
    frames.append(stream.finish())
    probs.append(stream.last_phones)
    weights = np.concatenate(frames)[:, :N_BLENDSHAPES]
    demanded = conv.seal_track(np.concatenate(probs)) >= 0.5
    assert demanded.sum() >= 3
    assert mouth.sealed(weights)[demanded].all()


def test_finish_on_an_empty_stream_gives_one_frame(conv):
    from emosync.inference.convertor import NeuralStream

    stream = NeuralStream(conv)
    out = stream.finish()
    assert out.shape == (conv.n_frames(0), 55) == (1, 55)
    assert np.isfinite(out).all()
