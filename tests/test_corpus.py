"""The speech corpus: sentence coverage, a deterministic plan, the vm-* exclusion, a real
three-clip build (real synthesisers, real pocketsphinx) and the augmentation functions."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.evaluation.asterisk import Prompt, list_prompts
from emosync.rigs.mouth import sealed
from emosync.rigs.phonemes import BILABIAL, PHONES
from emosync.training.corpus import augment as aug
from emosync.training.corpus.build import (
    ASTERISK_VOICE,
    HELDOUT_LANGUAGE,
    HELDOUT_VOICES,
    build_clip,
    plan,
)
from emosync.training.corpus.labels import PHONE_LABELS, n_label_frames
from emosync.training.corpus.sentences import (
    LANGUAGES,
    cmudict,
    english_sentences,
    foreign_sentences,
    oov_words,
    phone_counts,
)
from emosync.training.corpus.voices import ENGLISH_VOICES, Prosody, Voice, available

SR = 16000


@pytest.fixture(scope="module")
def lexicon() -> dict[str, list[str]]:
    return cmudict()


# --- sentences ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fifty_sentences_cover_every_phone_with_dictionary_words(seed, lexicon):
    sentences = english_sentences(50, seed)
    assert len(set(sentences)) == 50
    counts = phone_counts(sentences, lexicon)
    assert set(PHONES) - set(counts) == set()
    assert oov_words(english_sentences(500, seed), lexicon) == set()


def test_sentences_are_deterministic_from_the_seed():
    assert english_sentences(30, 7) == english_sentences(30, 7)
    assert english_sentences(30, 7) != english_sentences(30, 8)
    for lang in LANGUAGES:
        assert foreign_sentences(lang, 5, 3) == foreign_sentences(lang, 5, 3)


def _prompts() -> list[Prompt]:
    d = Path("/nonexistent")
    return [
        Prompt("digits/7", d / "digits/7.g722", "seven"),
        Prompt("vm-intro", d / "vm-intro.g722", "welcome to voicemail"),
        Prompt("dir-welcome", d / "dir-welcome.g722", "welcome"),
        Prompt("sub/vm-goodbye", d / "sub/vm-goodbye.g722", "goodbye"),
    ]


def test_plan_is_deterministic_and_seed_dependent():
    a, b = plan("tiny", 3, _prompts()), plan("tiny", 3, _prompts())
    assert a == b
    c = plan("tiny", 4, _prompts())
    assert [s.text for s in a] != [s.text for s in c]
    assert [s.prosody for s in a] != [s.prosody for s in c]


def test_plan_splits_and_pairs_texts_across_voices_and_emotions():
    specs = plan("small", 0, [])
    assert len({s.id for s in specs}) == len(specs)
    by_text: dict[int, list] = {}
    for s in specs:
        by_text.setdefault(s.text_id, []).append(s)
        if s.voice.key in HELDOUT_VOICES:
            assert s.split == "heldout_voice"
        elif s.voice.language == HELDOUT_LANGUAGE:
            assert s.split == "heldout_lang"
        else:
            assert s.split in ("train", "val")
        assert s.emotion == "neutral" or 0.5 <= s.intensity <= 1.5
    english = [v for k, v in by_text.items() if k < 1_000_000]
    assert all(len({s.voice for s in group}) == len(group) == 3 for group in english)
    assert all(sum(s.emotion == "neutral" for s in group) == 1 for group in english)
    val = sum(s.split == "val" for s in specs) / len(specs)
    assert 0.02 < val < 0.1
    assert {s.voice.key for s in specs} >= {v.key for v in ENGLISH_VOICES}


# --- vm-* prompts are never used ----------------------------------------------------------------
def test_plan_never_takes_reserved_prompts():
    specs = plan("tiny", 0, _prompts())
    sources = [s.source for s in specs if s.voice == ASTERISK_VOICE]
    assert len(sources) == 2
    assert not any("vm-" in src for src in sources)


def test_dev_split_has_no_reserved_prompts():
    try:
        prompts = list_prompts("dev")
    except InputError:
        pytest.skip("Asterisk prompts not installed")
    assert prompts and not any("vm-" in p.name for p in prompts)


def test_building_a_reserved_prompt_is_refused(tmp_path):
    spec = plan("tiny", 0, [_prompts()[0]])[-1]
    from dataclasses import replace

    bad = replace(spec, source="/usr/share/asterisk/sounds/en_US_f_Allison/vm-intro.g722")
    with pytest.raises(InputError):
        build_clip(bad, tmp_path)
    assert not list(tmp_path.rglob("*.wav"))


# --- a real three-clip build --------------------------------------------------------------------
_VOICES = [
    Voice("espeak-ng", "en-us", "en-us"),
    Voice("flite", "slt", "en-us"),
    Voice("festival", "kal_diphone", "en-us"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    voices = [v for v in _VOICES if available(v)]
    if len(voices) < 2:
        pytest.skip("synthesisers not installed (see training/corpus/README.md)")
    out = tmp_path_factory.mktemp("corpus")
    base = [s for s in plan("tiny", 5, []) if s.clip_set == "synthetic_en"][:3]
    from dataclasses import replace

    specs = [
        replace(s, voice=v, text="Maybe the brave pilot bought a purple umbrella.")
        for s, v in zip(base, voices, strict=False)
    ]
    return out, [build_clip(s, out) for s in specs], specs


def test_build_writes_valid_wav_json_npz(built):
    out, records, specs = built
    for record, spec in zip(records, specs, strict=True):
        stem = out / spec.clip_set / spec.id
        with wave.open(str(stem.with_suffix(".wav"))) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SR, 1, 2)
            n_samples = w.getnframes()
        meta = json.loads(stem.with_suffix(".json").read_text())
        for key in ("id", "text", "voice", "engine", "language", "emotion", "intensity", "rate",
                    "pitch", "seed", "split", "provenance"):  # fmt: skip
            assert key in meta
        assert meta == record and meta["engine"] == spec.voice.engine
        assert meta["provenance"]["alignment"] == "forced"
        z = np.load(stem.with_suffix(".npz"))
        n = n_label_frames(n_samples)
        assert abs(n - n_samples / SR * 50) <= 1
        assert z["curves"].shape == (n, 55) and z["curves"].dtype == np.float32
        assert z["phones"].shape == (n,) and z["phones"].dtype == np.int16
        assert z["emotion"].shape == (7,) and int(z["text_id"]) == spec.text_id
        assert np.isfinite(z["curves"]).all()
        assert z["curves"][:, :52].min() >= 0.0 and z["curves"][:, :52].max() <= 1.0
        assert z["phones"].max() < len(PHONE_LABELS)


def test_bilabial_frames_line_up_with_lip_seals(built):
    out, _, specs = built
    bilabial = [PHONE_LABELS.index(p) for p in sorted(BILABIAL)]
    open_vowels = [PHONE_LABELS.index(p) for p in ("AA", "AE", "AY")]
    for spec in specs:
        z = np.load(out / spec.clip_set / f"{spec.id}.npz")
        seal = sealed(z["curves"][:, :52])
        is_b = np.isin(z["phones"], bilabial)
        edges = np.flatnonzero(np.diff(np.r_[0, is_b.astype(int), 0]))
        runs = list(zip(edges[::2], edges[1::2], strict=True))
        assert len(runs) >= 4  # maybe, brave, pilot, bought, purple, umbrella
        assert all(seal[a:b].any() for a, b in runs)
        # open vowels are open apart from frames where a neighbouring P/B/M's closure ramps:
        # none is sealed more than 2 frames (40 ms) away from a bilabial
        near_bilabial = np.convolve(is_b.astype(float), np.ones(5), mode="same") > 0
        core = np.isin(z["phones"], open_vowels) & ~near_bilabial
        assert core.any() and not seal[core].any()


# --- augmentation -------------------------------------------------------------------------------
def _tone(freq: float = 220.0, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SR)[np.argmax(spec)])


def _band_energy(x: np.ndarray, low: float, high: float) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(spec[(f >= low) & (f < high)].sum())


def test_augment_keeps_length_and_finite_values_and_changes_the_signal():
    x = _tone() + _tone(1700.0) * 0.5
    changed = 0
    for seed in range(8):
        y = aug.augment(x, SR, np.random.default_rng(seed), 1.0)
        assert y.shape == x.shape and y.dtype == np.float32 and np.isfinite(y).all()
        changed += not np.allclose(x, y)
    assert changed >= 6
    assert np.array_equal(aug.augment(x, SR, np.random.default_rng(0), 0.0), x)
    a = aug.augment(x, SR, np.random.default_rng(3))
    assert np.array_equal(a, aug.augment(x, SR, np.random.default_rng(3)))


def test_pitch_shift_moves_the_frequency_and_keeps_the_length():
    x = _tone(220.0)
    y = aug.pitch_formant_shift(x, SR, 12.0)
    assert len(y) == len(x)
    assert _peak_hz(y) == pytest.approx(440.0, rel=0.03)
    assert _peak_hz(aug.pitch_formant_shift(x, SR, -5.0)) == pytest.approx(
        220.0 * 2 ** (-5 / 12), rel=0.03
    )


def test_speed_changes_length_and_labels_follow():
    x = _tone(200.0)
    y = aug.speed(x, 1.25)
    assert len(y) == round(len(x) / 1.25)
    assert _peak_hz(y) == pytest.approx(250.0, rel=0.03)
    labels = np.arange(50)
    assert len(aug.stretch_frames(labels, 1.25)) == 40


@pytest.mark.parametrize("snr", aug.SNRS_DB)
def test_noise_is_added_at_the_requested_snr(snr):
    x = _tone()
    y = aug.add_noise(x, np.random.default_rng(1), snr)
    measured = 10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2))
    assert measured == pytest.approx(snr, abs=0.1)


def test_reverberation_rings_on_after_the_sound_stops():
    x = np.zeros(SR, dtype=np.float32)
    x[: SR // 4] = _tone(seconds=0.25)
    y = aug.reverberate(x, SR, np.random.default_rng(0), rt60=0.6)
    assert len(y) == len(x)
    tail = slice(SR // 4 + 800, SR // 4 + 4000)
    assert np.sqrt(np.mean(y[tail] ** 2)) > 10 * np.sqrt(np.mean(x[tail] ** 2) + 1e-12)
    assert np.sqrt(np.mean(y[tail] ** 2)) > 0.01


def test_telephone_removes_energy_outside_300_3400_hz():
    x = _tone(120.0) + _tone(1000.0) + _tone(5000.0)
    y = aug.telephone(x, SR)
    assert len(y) == len(x)
    assert _band_energy(y, 50, 200) < 0.01 * _band_energy(x, 50, 200)
    assert _band_energy(y, 4000, 8000) < 0.01 * _band_energy(x, 4000, 8000)
    assert _band_energy(y, 900, 1100) > 0.5 * _band_energy(x, 900, 1100)


def test_mu_law_quantises_with_small_error():
    x = _tone()
    y = aug.mu_law(x)
    err = np.abs(y - x)
    assert 0 < err.max() < 0.02


def test_level_change_scales_and_clips():
    x = _tone()
    assert np.sqrt(np.mean(aug.change_level(x, -6.0) ** 2)) == pytest.approx(
        np.sqrt(np.mean(x**2)) * 10 ** (-6 / 20), rel=1e-4
    )
    assert np.abs(aug.change_level(x, 20.0)).max() == 1.0


@pytest.mark.skipif(shutil.which("true") is None, reason="no shell")
def test_g722_codec_round_trip_keeps_length_and_speech_band():
    x = _tone(500.0)
    y = aug.ffmpeg_codec(x, SR, "g722")
    assert len(y) == len(x) and np.isfinite(y).all()
    assert not np.array_equal(y, x)
    assert _band_energy(y, 450, 550) > 0.5 * _band_energy(x, 450, 550)


@pytest.mark.parametrize("rate", aug.LOW_RATES)
def test_low_rate_channel_keeps_the_band_below_its_nyquist_only(rate):
    x = _tone(1000.0) + _tone(0.49 * rate + 300.0)
    y = aug.low_rate(x, SR, rate)
    assert len(y) == len(x) and y.dtype == np.float32
    top = 0.49 * rate + 300.0
    assert _band_energy(y, top - 50, top + 50) < 0.01 * _band_energy(x, top - 50, top + 50)
    assert _band_energy(y, 950, 1050) > 0.8 * _band_energy(x, 950, 1050)


def test_mp3_round_trip_stays_aligned_with_the_input():
    t = np.arange(SR) / SR
    x = (_tone(300.0) * (t > 0.4) * (t < 0.6)).astype(np.float32)  # a 0.2 s burst
    y = aug.mp3(x, SR, 11025, "32k")
    assert len(y) == len(x) and np.isfinite(y).all()
    env_x, env_y = np.abs(x) > 0.05, np.abs(y) > 0.05
    # the encoder's ~0.1 s delay is cut: the burst starts and ends within 2 ms of the input's
    assert abs(np.argmax(env_y) - np.argmax(env_x)) < 0.002 * SR
    assert abs(len(y) - np.argmax(env_y[::-1]) - (len(x) - np.argmax(env_x[::-1]))) < 0.002 * SR


def test_channel_draws_each_kind_and_keeps_the_length():
    x = _tone(200.0) + _tone(6500.0)
    highs = []
    for seed in range(12):
        y = aug.channel(x, SR, np.random.default_rng(seed))
        assert len(y) == len(x) and np.isfinite(y).all()
        highs.append(_band_energy(y, 6400, 6600) / _band_energy(x, 6400, 6600))
    assert min(highs) < 0.01 < max(highs)  # some channels cut 6.5 kHz, a wide low-pass keeps it


def test_prosody_is_recorded(built):
    _, records, specs = built
    for record, spec in zip(records, specs, strict=True):
        assert record["provenance"]["prosody"] == spec.prosody.to_dict()
        assert isinstance(spec.prosody, Prosody)
