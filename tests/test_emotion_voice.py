"""Emotion from a reference voice: real espeak-ng speech, real pocketsphinx."""

import subprocess

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.inference.audio import load_audio
from emosync.inference.emotion_voice import (
    HOP,
    _voiced_frames,
    pitch_track,
    prosody,
    syllable_nuclei,
    voice_emotion,
)
from emosync.inference.features import frame_energy

SENTENCE = "The train to the city departs from platform four at noon"


def _speak(path, rate, pitch, amplitude, text=SENTENCE):
    subprocess.run(
        ["espeak-ng", "-s", str(rate), "-p", str(pitch), "-a", str(amplitude), "-w", str(path),
         text],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("voice")
    return {
        "fast": _speak(root / "fast.wav", 240, 90, 190),
        "slow": _speak(root / "slow.wav", 110, 15, 50),
    }


def test_pitch_tracker_finds_a_tone():
    t = np.arange(16000) / 16000
    f0 = pitch_track(0.3 * np.sin(2 * np.pi * 180.0 * t))
    assert np.median(f0[f0 > 0]) == pytest.approx(180.0, rel=0.02)
    assert not pitch_track(np.zeros(16000)).any()


@pytest.mark.parametrize("rate", [120, 175, 240])
def test_syllable_count_holds_across_speaking_rates(tmp_path, rate):
    # 14 syllables in SENTENCE; the count must not follow the rate (slow speech over-counted
    # before the prominence and separation rules)
    x = load_audio(_speak(tmp_path / "s.wav", rate, 50, 100)).samples
    db = frame_energy(x, 16000, HOP)
    count = len(syllable_nuclei(db, _voiced_frames(pitch_track(x), db.size)))
    assert 11 <= count <= 17


def test_fast_high_speech_is_more_aroused_than_slow_low(clips):
    fast = prosody(load_audio(clips["fast"]).samples)
    slow = prosody(load_audio(clips["slow"]).samples)
    assert fast["rate"] > slow["rate"]
    assert fast["pitch_semitones"] > slow["pitch_semitones"] + 3


def test_voice_emotion_reads_a_clip(clips):
    fast, slow = voice_emotion(clips["fast"]), voice_emotion(clips["slow"])
    assert fast.arousal > slow.arousal
    assert fast.words  # pocketsphinx heard the fast clip (the slow one may come back empty)
    for reading in (fast, slow):
        assert reading.state.shape == (7,) and reading.state.min() >= 0
        assert isinstance(reading.words, str)
        assert set(reading.details["prosody"]) == {
            "pitch_semitones", "pitch_range", "loudness_range", "rate"
        }  # fmt: skip


def test_bad_voice_input(tmp_path):
    with pytest.raises(InputError):
        voice_emotion(tmp_path / "missing.wav")
    short = _speak(tmp_path / "short.wav", 175, 50, 100, text="a")
    with pytest.raises(InputError):
        voice_emotion(short)
