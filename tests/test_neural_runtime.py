"""The neural engine at run time (inference/convertor.py) on a real ONNX Runtime session.

The model is a small convolutional network with random weights, built here with torch and
exported with the convertor contract in its metadata (the trained model is not needed to test
windowing, contract checks or the engine's post-processing). `make_convertor` is shared with
tests/test_neural_stream.py and the benchmark falls back to it too.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.inference.audio import SAMPLE_RATE, Audio
from emosync.inference.features import log_mel
from emosync.inference.life import LifeSettings
from emosync.rigs import mouth
from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES, ROTATION_NAMES
from emosync.rigs.emotions import EMOTIONS
from emosync.rigs.phonemes import PHONES, SILENCE

PHONE_LIST = [SILENCE, *sorted(PHONES)]
LEFT_MEL, AHEAD_MEL = 8, 8  # the fixture's exact receptive field, in mel frames


@functools.cache
def _random_convertor() -> bytes:
    """A random convertor network (left context 8, look-ahead 8 mel frames) as ONNX bytes."""
    import torch
    from torch import nn
    from torch.nn import functional as fn

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(7)
            self.c1 = nn.Conv1d(80, 24, 11)  # padded (4, 6): mel t-4 .. t+6
            self.c2 = nn.Conv1d(24, 24, 4, stride=2)  # padded (2, 0): mel 2k-2 .. 2k+1
            self.c3 = nn.Conv1d(24, 24, 3)  # at 50 fps, padded (1, 1): one frame each way
            self.film = nn.Linear(7, 48)
            self.curves = nn.Linear(24, 55)
            self.phones = nn.Linear(24, len(PHONE_LIST))
            # P wins wherever content feature 0 is high, so some frames say P/B/M
            self.register_buffer(
                "to_p",
                12.0 * fn.one_hot(torch.tensor(PHONE_LIST.index("P")), len(PHONE_LIST)).float(),
            )

        def forward(self, mel: torch.Tensor, emotion: torch.Tensor):
            x = ((mel + 40.0) / 20.0).transpose(1, 2)
            x = torch.tanh(self.c1(fn.pad(x, (4, 6))))
            x = torch.tanh(self.c2(fn.pad(x, (2, 0))))
            x = torch.tanh(self.c3(fn.pad(x, (1, 1)))).transpose(1, 2)
            scale, shift = self.film(emotion).chunk(2, dim=-1)
            x = x * (1 + scale) + shift
            out = self.curves(x)
            curves = torch.cat([torch.sigmoid(out[..., :52]), 0.3 * torch.tanh(out[..., 52:])], -1)
            return curves, self.phones(x) + x[..., :1] * self.to_p

    buffer = io.BytesIO()
    mel, emo = torch.zeros(1, 64, 80), torch.zeros(1, 32, 7)
    torch.onnx.export(
        Tiny().eval(), (mel, emo), buffer, input_names=["mel", "emotion"],
        output_names=["curves", "phones"], dynamo=False,
        dynamic_axes={"mel": {1: "T"}, "emotion": {1: "F"}, "curves": {1: "F"}, "phones": {1: "F"}},
    )  # fmt: skip
    return buffer.getvalue()


def _export(folder: Path, meta: dict[str, str], name: str = "convertor.onnx") -> Path:
    """The random convertor with `meta` as its metadata, listed in folder/MANIFEST.json."""
    import onnx

    model = onnx.load_from_string(_random_convertor())
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    onnx.save(model, str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = folder / "MANIFEST.json"
    listed = json.loads(manifest.read_text()) if manifest.exists() else {}
    manifest.write_text(json.dumps({**listed, name: digest}))
    return path


def contract_metadata(**changes: str) -> dict[str, str]:
    meta = {
        "kind": "convertor", "version": "1", "sample_rate": "16000", "n_fft": "400",
        "hop_length": "160", "n_mels": "80", "fmin": "0", "fmax": "8000", "fps": "50",
        "channels": json.dumps([*ARKIT_NAMES, *ROTATION_NAMES[:3]]),
        "emotions": json.dumps(list(EMOTIONS)), "phones": json.dumps(PHONE_LIST),
        "left_context_frames": str(LEFT_MEL), "lookahead_frames": str(AHEAD_MEL),
        "training_data": json.dumps({"note": "random weights, test fixture"}),
        "trained_with": "tests/test_neural_runtime.py", "date": "2025-01-01",
    }  # fmt: skip
    meta.update(changes)
    return meta


def make_convertor(folder: Path, **changes: str) -> Path:
    return _export(Path(folder), contract_metadata(**changes))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return make_convertor(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def conv(model_path):
    from emosync.inference.convertor import NeuralConvertor

    return NeuralConvertor(model_path, providers=["CPUExecutionProvider"])


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise bursts shaped like syllables (4 per second) with pauses: real signal, any length."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    envelope = np.clip(np.sin(2 * np.pi * 2.0 * t), 0.0, None) ** 2
    envelope *= (np.sin(2 * np.pi * 0.13 * t) > -0.6).astype(float)
    tone = np.sin(2 * np.pi * (120 + 40 * np.sin(2 * np.pi * 0.5 * t)) * t)
    return (0.3 * envelope * (tone + 0.3 * rng.standard_normal(n))).astype(np.float32)


def one_shot(conv, samples: np.ndarray, emotion: np.ndarray):
    mel = log_mel(samples)
    if len(mel) % 2:
        mel = log_mel(np.concatenate([samples, np.zeros(160, np.float32)]))
    track = np.broadcast_to(emotion, (len(mel) // 2, 7))
    return conv.run_mel(mel, track)


# --- contract -----------------------------------------------------------------------------


def test_loads_and_reads_contract(conv):
    assert conv.lookahead == AHEAD_MEL and conv.left_context == LEFT_MEL
    assert conv.phones[0] == "SIL" and len(conv.phones) == 40
    assert sorted(conv.phones[i] for i in conv.bilabial) == ["B", "M", "P"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lookahead_frames": "16"}, "120 ms"),
        ({"fps": "25"}, "fps"),
        ({"hop_length": "200"}, "hop_length"),
        ({"channels": json.dumps(list(ARKIT_NAMES))}, "channels"),
        ({"phones": json.dumps(PHONE_LIST[1:])}, "SIL"),
        ({"kind": "lipreader"}, "expected 'convertor'"),
        ({"calibration": json.dumps({"maps": {"jawOpen": {"model": [0.5, 0.2],
                                                          "teacher": [0, 1]}}})}, "monotone"),
        ({"calibration": json.dumps({"maps": {"jawWide": {"model": [0, 1],
                                                          "teacher": [0, 1]}}})}, "malformed"),
        ({"calibration": "[1, 2]"}, "no 'maps'"),
        ({"seal_gain": "0"}, "seal_gain"),
        ({"seal_gain": "nan"}, "seal_gain"),
        ({"seal_gain": "twice"}, "seal_gain"),
        ({"seal_gain": "11"}, "seal_gain"),
    ],
)  # fmt: skip
def test_contract_breaks_are_one_line_errors(tmp_path, change, message):
    from emosync.inference.convertor import NeuralConvertor

    path = make_convertor(tmp_path, **change)
    with pytest.raises(InputError, match=message) as err:
        NeuralConvertor(path)
    assert "\n" not in str(err.value)


def test_calibration_maps_the_channel_and_nothing_else(tmp_path, conv):
    """`calibrate` maps jawOpen by the metadata's knots and leaves the other 54 outputs."""
    from emosync.inference.convertor import NeuralConvertor

    knots = {"model": [0.0, 0.5, 1.0], "teacher": [0.0, 0.8, 1.0]}
    path = make_convertor(tmp_path, calibration=json.dumps({"maps": {"jawOpen": knots}}))
    calibrated = NeuralConvertor(path)
    samples = speechlike(2.0)
    emotion = np.zeros(7, np.float32)
    raw = conv.convert(samples, emotion).curves
    assert np.array_equal(calibrated.convert(samples, emotion).curves, raw)  # convert stays raw
    mapped = calibrated.calibrate(raw)
    j = ARKIT_NAMES.index("jawOpen")
    assert np.allclose(
        mapped[:, j], np.interp(raw[:, j], knots["model"], knots["teacher"]), atol=1e-5
    )
    others = [i for i in range(mapped.shape[1]) if i != j]
    assert np.array_equal(mapped[:, others], raw[:, others])
    assert np.any(mapped[:, j] > raw[:, j] + 1e-3)


def test_seal_gain_scales_the_seal_demand_up_to_one(tmp_path, conv):
    """A model's `seal_gain` metadata multiplies the P+B+M probability (capped at 1); without
    it the demand is the probability itself. calibrate.py --seal-gain writes it."""
    from emosync.inference.convertor import NeuralConvertor

    pytest.importorskip("torch")  # the training side writes the gain
    from emosync.training.convertor.calibrate import main as calibrate_main

    phones = np.zeros((4, len(conv.phones)), np.float32)
    phones[:, 0] = 1.0
    for row, p in enumerate((0.0, 0.1, 0.2, 0.5)):
        phones[row, conv.bilabial[0]] = p
        phones[row, 0] = 1.0 - p
    assert np.allclose(conv.seal_track(phones), [0.0, 0.1, 0.2, 0.5])
    path = make_convertor(tmp_path)
    assert calibrate_main(["--model", str(path), "--seal-gain", "4"]) == 0
    gained = NeuralConvertor(path)
    assert gained.seal_gain == 4.0
    assert np.allclose(gained.seal_track(phones), [0.0, 0.4, 0.8, 1.0])


def test_modified_model_file_is_refused(tmp_path):
    from emosync.inference.convertor import NeuralConvertor

    path = make_convertor(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt or modified"):
        NeuralConvertor(path)


# --- windows --------------------------------------------------------------------------------


@pytest.mark.parametrize(("window", "overlap"), [(7, 0), (23, 5), (100, 10)])
def test_windows_equal_one_shot(conv, window, overlap):
    samples = speechlike(6.3)
    emotion = np.array([0.0, 0, 0, 0, 1.0, 0, 0.3], np.float32)
    ref = one_shot(conv, samples, emotion)
    out = conv.convert(samples, emotion, window=window, overlap=overlap, block_seconds=0.77)
    assert out.curves.shape == ref.curves.shape == (conv.n_frames(samples.size), 55)
    np.testing.assert_allclose(out.curves, ref.curves, atol=1e-4)
    np.testing.assert_allclose(out.phones, ref.phones, atol=1e-4)


def test_emotion_track_and_callable_agree(conv):
    samples = speechlike(3.0, seed=1)
    n = conv.n_frames(samples.size)
    track = np.zeros((n, 7), np.float32)
    track[:, EMOTIONS.index("sad")] = np.linspace(0, 1.2, n)
    by_track = conv.convert(samples, track, window=40, overlap=6)
    by_time = conv.convert(samples, lambda t: track[np.round(t * 50).astype(int)], window=40)
    neutral = conv.convert(samples, np.zeros(7), window=40)
    np.testing.assert_allclose(by_track.curves, by_time.curves, atol=1e-5)
    assert np.abs(by_track.curves[-20:] - neutral.curves[-20:]).max() > 1e-3  # emotion acts


def test_odd_and_tiny_lengths(conv):
    for n_samples in (1, 159, 160, 161, 3201, 16000 + 480):
        samples = speechlike(n_samples / SAMPLE_RATE + 1e-9, seed=n_samples)[:n_samples]
        out = conv.convert(samples, np.zeros(7), window=5, overlap=2)
        ref = one_shot(conv, samples, np.zeros(7))
        assert len(out.curves) == conv.n_frames(n_samples) == len(ref.curves)
        np.testing.assert_allclose(out.curves, ref.curves, atol=1e-4)


@pytest.mark.slow
def test_ten_minute_clip_runs_in_bounded_memory(model_path):
    """Peak memory of a 10-minute clip beyond its input and output stays near a 1-minute one."""
    script = textwrap.dedent(
        f"""
        import resource, sys, numpy as np
        from emosync.inference.convertor import NeuralConvertor
        conv = NeuralConvertor({str(model_path)!r}, providers=["CPUExecutionProvider"])
        minutes = float(sys.argv[1])
        x = (0.1 * np.random.default_rng(0).standard_normal(int(minutes * 60 * 16000)))
        x = x.astype(np.float32)
        conv.convert(x[:16000], np.zeros(7))  # warm-up: arenas, filter banks
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = conv.convert(x, np.zeros(7))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((peak - before) / 1024.0, (out.curves.nbytes + out.phones.nbytes) / 2**20)
        """
    )
    growth = {}
    for minutes in (1.0, 10.0):
        run = subprocess.run(
            [sys.executable, "-c", script, str(minutes)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        growth[minutes] = [float(v) for v in run.stdout.split()]
    extra_rss = growth[10.0][0] - growth[1.0][0]
    extra_output = growth[10.0][1] - growth[1.0][1]
    assert extra_rss < extra_output + 40.0, growth  # MiB: no whole-clip features or activations


# --- the engine -----------------------------------------------------------------------------


def test_neural_face_values_life_and_seals(conv):
    from emosync.inference.convertor import neural_face

    samples = speechlike(5.0, seed=3)
    audio = Audio(samples, SAMPLE_RATE, 1)
    angry = np.zeros(7, np.float32)
    angry[EMOTIONS.index("angry")] = 1.0
    face = neural_face(audio, angry, LifeSettings(), seed=4, fps=60.0, convertor=conv)
    assert face.values.shape == (300, 61) and face.values.dtype == np.float32
    weights = face.values[:, :N_BLENDSHAPES]
    assert weights.min() >= 0.0 and weights.max() <= 1.0
    assert face.metadata["engine"] == "neural" and face.metadata["transcript_used"] is False

    out = conv.convert(samples, angry)
    seal = np.interp(np.arange(300) / 60.0, np.arange(len(out.phones)) / 50.0,
                     conv.seal_track(out.phones))  # fmt: skip
    demanded = seal >= 0.5
    assert demanded.sum() >= 3, "the fixture should hear some P/B/M"
    assert mouth.sealed(weights)[demanded].all()

    still = neural_face(audio, angry, LifeSettings(0, 0, 0), seed=4, fps=60.0, convertor=conv)
    changed = np.abs(face.values - still.values).max(axis=0) > 1e-6
    names = [*ARKIT_NAMES, *ROTATION_NAMES]
    assert {n for n, c in zip(names, changed, strict=True) if c} <= {
        *(n for n in ARKIT_NAMES if n.startswith("eye")),
        *ROTATION_NAMES,
    }
    gaze = [N_BLENDSHAPES + ROTATION_NAMES.index(f"{e}Eye{a}") for e in ("left", "right")
            for a in ("Yaw", "Pitch")]  # fmt: skip
    assert changed[gaze].all()  # life's gaze moves the eyes
    assert np.abs(still.values[:, N_BLENDSHAPES + 3 :]).max() == 0.0
    assert np.abs(still.values[:, N_BLENDSHAPES : N_BLENDSHAPES + 3]).max() == 0.0  # head gain 0
    assert np.abs(face.values[:, N_BLENDSHAPES : N_BLENDSHAPES + 3]).max() > 0  # the model's head


def test_auto_never_picks_recognition(tmp_path, monkeypatch):
    """Engine "auto": forced alignment when the transcript has words, else neural; without
    the model that is an error, not the slow recognition path (docs/performance.md)."""
    from emosync.inference import convertor
    from emosync.inference.pipeline import resolve_engine

    model = make_convertor(tmp_path)
    monkeypatch.setattr(convertor, "default_model_path", lambda: model)
    for transcript in (None, "", "  ", "?!"):  # "?!" has no words to align
        assert resolve_engine("auto", transcript) == "neural"
    assert resolve_engine("auto", "hello there") == "phonetic"
    monkeypatch.setattr(convertor, "default_model_path", lambda: tmp_path / "missing.onnx")
    for transcript in (None, "?!"):
        with pytest.raises(InputError, match=r"convertor\.onnx"):
            resolve_engine("auto", transcript)
    with pytest.raises(InputError, match=r"convertor\.onnx"):
        resolve_engine("neural")
    assert resolve_engine("auto", "hello there") == "phonetic"
    assert resolve_engine("phonetic") == "phonetic"


def test_an_emotional_rendition_keeps_the_neutral_closures(model_path):
    """Content-emotion exchange at inference: where the neutral rendition holds the lips shut
    against an open jaw, the emotional one is sealed too; elsewhere the emotion is untouched."""
    from emosync.inference.convertor import NeuralConvertor, NeuralOutput, neural_face

    class Scripted(NeuralConvertor):
        def convert_stream(self, blocks, emotions, *args, on_block=None, **kw):
            samples = np.concatenate([np.asarray(b, np.float32).reshape(-1) for b in blocks])
            if on_block is not None:
                on_block(samples)
            yield [self.scripted(samples, emotion) for emotion in emotions]

        def scripted(self, samples, emotion):
            n = self.n_frames(np.asarray(samples).size)
            curves = np.zeros((n, len(ARKIT_NAMES) + 3), np.float32)
            curves[:, ARKIT_NAMES.index("jawOpen")] = 0.3
            emotional = np.any(np.asarray(emotion) > 0)
            if emotional:  # a disgust-like upper lip that keeps the lips apart
                curves[:, ARKIT_NAMES.index("mouthUpperUpLeft")] = 0.6
                curves[:, ARKIT_NAMES.index("mouthUpperUpRight")] = 0.6
            else:  # the neutral rendition closes the lips on frames 40-49
                curves[40:50, ARKIT_NAMES.index("mouthClose")] = 0.3
            phones = np.zeros((n, len(self.phones)), np.float32)
            phones[:, 0] = 1.0  # the phone head hears no bilabial at all
            return NeuralOutput(curves, phones)

    conv = Scripted(model_path)
    audio = Audio(np.zeros(SAMPLE_RATE * 2, np.float32), SAMPLE_RATE, "scripted")
    disgusted = np.zeros(7, np.float32)
    disgusted[EMOTIONS.index("disgusted")] = 1.0
    off = LifeSettings(0, 0, 0)
    face = neural_face(audio, disgusted, off, 0, 50.0, conv).values[:, :N_BLENDSHAPES]
    sealed = mouth.sealed(face)
    assert sealed[41:49].all()
    assert not sealed[:35].any() and not sealed[55:].any()
    assert face[:35, ARKIT_NAMES.index("mouthUpperUpLeft")].min() > 0.5
    neutral = neural_face(audio, np.zeros(7, np.float32), off, 0, 50.0, conv)
    assert mouth.sealed(neutral.values[:, :N_BLENDSHAPES])[41:49].all()
