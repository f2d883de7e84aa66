"""Numpy log-mel against librosa, streaming log-mel, and per-hop energy, on real speech."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from emosync.inference.audio import SAMPLE_RATE, load_audio
from emosync.inference.features import (
    LogMelStream,
    MelSettings,
    frame_energy,
    log_mel,
    mel_filterbank,
)

librosa = pytest.importorskip("librosa")


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path = tmp_path_factory.mktemp("features") / "speech.wav"
    text = "Features are computed the same way in training and in Blender, every time."
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return load_audio(path).samples


def _librosa_log_mel(y: np.ndarray, **kw: float) -> np.ndarray:
    s = dict(sr=16000, n_fft=400, hop_length=160, win_length=400, n_mels=80, fmin=0.0, fmax=8000.0)
    s.update(kw)
    mel = librosa.feature.melspectrogram(
        y=y, window="hann", center=True, pad_mode="constant", power=2.0, htk=False,
        norm="slaney", **s,
    )  # fmt: skip
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).T


SETTINGS = [
    {},
    {"n_mels": 40, "fmin": 20.0, "fmax": 7600.0},
    {"n_fft": 512, "win_length": 400, "n_mels": 64},
    {"n_fft": 512, "win_length": 320, "hop_length": 128},
    {"sr": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "fmax": 11025.0},
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(map(str, s.values())))
def test_log_mel_matches_librosa(speech: np.ndarray, settings: dict) -> None:
    for y in (speech, speech.astype(np.float64)):
        ours = log_mel(y, MelSettings(**settings))
        ref = _librosa_log_mel(y, **settings)
        assert ours.dtype == np.float32 and ours.shape == ref.shape
        worst = float(np.abs(ours - ref).max())
        print(f"log_mel {settings} {y.dtype}: max |dB diff| = {worst:.2e}")
        assert worst < 1e-3


def test_mel_filterbank_matches_librosa() -> None:
    ours = mel_filterbank(16000, 400, 80, 0.0, 8000.0)
    ref = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80, fmin=0.0, fmax=8000.0, dtype=float)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-10)


def test_log_mel_frames_are_centred_on_hops() -> None:
    x = np.zeros(16000)
    x[8000] = 1.0  # a click at 0.5 s lands in frames 48..52, centred on frame 50
    mel = log_mel(x)
    assert mel.shape == (1 + 16000 // 160, 80)
    loudest = mel.max(axis=1)
    assert int(np.argmax(loudest)) == 50
    assert loudest[47] == pytest.approx(-100.0) and loudest[53] == pytest.approx(-100.0)
    assert loudest[49] == pytest.approx(loudest[51], abs=1e-6)


def test_log_mel_stream_equals_whole(speech: np.ndarray) -> None:
    whole = log_mel(speech)
    rng = np.random.default_rng(3)
    stream = LogMelStream()
    parts, i = [], 0
    while i < len(speech):
        n = int(rng.integers(1, 3000))  # includes pieces far shorter than one frame
        parts.append(stream.push(speech[i : i + n]))
        i += n
    parts.append(stream.finish())
    streamed = np.concatenate(parts)
    assert streamed.shape == whole.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-4)
    with pytest.raises(RuntimeError):
        stream.push(speech[:10])


def test_frame_energy_levels() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    sine = 0.5 * np.sin(2 * np.pi * 200 * t)  # 200 Hz: whole periods in every 10 ms hop
    energy = frame_energy(np.concatenate([sine, np.zeros(800), sine[:80]]))
    assert energy.dtype == np.float32
    assert len(energy) == 100 + 5 + 1  # ceil(N / 160): the short last frame counts
    np.testing.assert_allclose(energy[:100], 20 * np.log10(0.5 / np.sqrt(2)), atol=1e-3)
    np.testing.assert_allclose(energy[100:105], -100.0)
    assert energy[105] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=1e-3)


def test_frame_energy_blocks_concatenate_to_whole(speech: np.ndarray) -> None:
    signal = np.tile(speech, int(np.ceil(65 * SAMPLE_RATE / len(speech))))[: 65 * SAMPLE_RATE + 77]
    whole = frame_energy(signal)
    block = 30 * SAMPLE_RATE
    blocks = [frame_energy(signal[i : i + block]) for i in range(0, len(signal), block)]
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    rng = np.random.default_rng(4)
    cuts = np.cumsum(rng.integers(1, 40, size=400) * 160)
    cuts = cuts[cuts < len(signal)]
    pieces = np.split(signal, cuts)
    np.testing.assert_array_equal(np.concatenate([frame_energy(p) for p in pieces]), whole)
