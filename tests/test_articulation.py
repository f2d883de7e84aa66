"""The phonetic articulation model on hand-built alignments with realistic durations."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.inference.articulation import SPEECH_CHANNELS, Articulation, articulate
from emosync.inference.timed_phones import Alignment, Segment
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.emotions import EMOTIONS
from emosync.rigs.mouth import OPEN_JAW, at_rest, lip_gap, sealed
from emosync.rigs.phonemes import BILABIAL, OPEN_VOWELS

IDX = {n: i for i, n in enumerate(ARKIT_NAMES)}

# "bob a bomb ... moon ... five thieves ... all" with durations in seconds
SENTENCE = [
    ("SIL", 0.25), ("B", 0.06), ("AA", 0.12), ("B", 0.05), ("AH", 0.07), ("B", 0.06),
    ("AA", 0.14), ("M", 0.08), ("SIL", 0.30), ("M", 0.07), ("UW", 0.16), ("N", 0.06),
    ("SIL", 0.20), ("F", 0.09), ("AY", 0.18), ("V", 0.06), ("TH", 0.09), ("IY", 0.10),
    ("V", 0.05), ("Z", 0.08), ("SIL", 0.04), ("AO", 0.15), ("L", 0.09), ("SIL", 0.30),
    ("P", 0.02), ("AE", 0.10), ("T", 0.06), ("SIL", 0.25),
]  # fmt: skip


def make_alignment(spec: list[tuple[str, float]]) -> Alignment:
    phones, t = [], 0.0
    for label, dur in spec:
        phones.append(Segment(label, t, t + dur))
        t += dur
    return Alignment(phones, duration=t)


def run(spec=SENTENCE, fps: float = 30.0, emotion=None, **kw) -> tuple[Alignment, Articulation]:
    al = make_alignment(spec)
    n = int(np.ceil(al.phones[-1].end * fps))
    emo = None if emotion is None else np.tile(np.asarray(emotion, dtype=np.float64), (n, 1))
    return al, articulate(al, n, fps, emotion=emo, **kw)


def mid(seg: Segment) -> float:
    return 0.5 * (seg.start + seg.end)


def frames_in(seg: Segment, fps: float, n: int) -> np.ndarray:
    idx = np.arange(n)
    inside = idx[(idx / fps >= seg.start) & (idx / fps < seg.end)]
    return inside if len(inside) else np.array([min(n - 1, round(mid(seg) * fps))])


def one_hot(name: str, value: float) -> np.ndarray:
    e = np.zeros(len(EMOTIONS))
    e[EMOTIONS.index(name)] = value
    return e


def peak(art: Articulation, channel: str, seg: Segment, fps: float) -> float:
    return float(art.weights[frames_in(seg, fps, art.n_frames), IDX[channel]].max())


# --- contract ---------------------------------------------------------------------------------


def test_shapes_range_and_speech_channels_only() -> None:
    _, art = run()
    assert art.weights.dtype == np.float32 and art.weights.shape[1] == 52
    assert art.seal.shape == art.labiodental.shape == (art.n_frames,)
    assert art.weights.min() >= 0.0 and art.weights.max() <= 1.0
    assert art.seal.min() >= 0.0 and art.seal.max() <= 1.0
    other = [i for i, n in enumerate(ARKIT_NAMES) if n not in SPEECH_CHANNELS]
    assert np.all(art.weights[:, other] == 0.0)


def test_bad_input_is_an_input_error() -> None:
    al = make_alignment(SENTENCE)
    with pytest.raises(InputError):
        articulate(al, 10, 30.0, emotion=np.zeros((9, 7)))
    with pytest.raises(InputError):
        articulate(al, 10, 0.0)
    with pytest.raises(InputError):
        articulate(al, 10, 30.0, strength=-1.0)


def test_empty_alignment_rests() -> None:
    art = articulate(Alignment([]), 30, 30.0)
    assert at_rest(art.weights).all()


# --- phonetics --------------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [24.0, 30.0, 60.0])
def test_every_bilabial_reaches_a_full_seal(fps: float) -> None:
    al, art = run(fps=fps)
    closed = sealed(art.weights)
    bilabials = [s for s in al.phones if s.label in BILABIAL]
    assert any(s.duration <= 0.021 for s in bilabials)
    for seg in bilabials:
        lo = max(0, int(np.floor(seg.start * fps)))
        hi = int(np.ceil(seg.end * fps)) + 1
        assert closed[lo:hi].any(), f"{seg} never sealed at {fps} fps"


def test_open_vowels_open_the_jaw_plausibly() -> None:
    al, art = run()
    for seg in al.phones:
        if seg.label in OPEN_VOWELS:
            jaw = peak(art, "jawOpen", seg, 30.0)
            assert OPEN_JAW <= jaw <= 0.65, f"{seg.label} jaw {jaw:.2f}"
    aa = [peak(art, "jawOpen", s, 30.0) for s in al.phones if s.label == "AA"]
    assert max(aa) >= 0.45


def test_mouth_rests_in_long_pauses_but_not_in_short_gaps() -> None:
    al, art = run()
    rest = at_rest(art.weights)
    for seg in al.phones:
        m = round(mid(seg) * 30.0)
        if seg.label == "SIL" and seg.duration >= 0.15:
            assert rest[m], f"no rest in pause at {seg.start:.2f}"
    short = next(s for s in al.phones if s.label == "SIL" and s.duration < 0.1)
    # a 40 ms gap between words does not close the mouth completely
    assert lip_gap(art.weights)[round(mid(short) * 30.0)] > 0.05


def test_rounding_is_anticipated_over_the_preceding_consonant() -> None:
    al, art = run(fps=60.0)
    uw = next(s for s in al.phones if s.label == "UW")
    pucker = art.weights[:, IDX["mouthPucker"]]
    before = round((uw.start - 0.02) * 60)
    earlier = round((uw.start - 0.12) * 60)
    assert pucker[before] > 0.3, "pucker has not risen before UW starts"
    assert pucker[before] > pucker[earlier] + 0.1
    assert peak(art, "mouthPucker", uw, 60.0) >= 0.6
    # the preceding M is rounded while sealed: the lips do both
    m = al.phones[al.phones.index(uw) - 1]
    m_frames = frames_in(m, 60.0, art.n_frames)
    assert (pucker[m_frames].max() > 0.3) and sealed(art.weights[m_frames]).any()


def test_jaw_and_lips_move_separately() -> None:
    al, art = run(fps=60.0)
    # B between open vowels: lips sealed while the jaw stays well open
    b = al.phones[3]
    assert b.label == "B"
    f = frames_in(b, 60.0, art.n_frames)
    assert sealed(art.weights[f]).any() and art.weights[f, IDX["jawOpen"]].max() > 0.2
    # UW: strong lips, small jaw; AA: big jaw, no rounding
    uw = next(s for s in al.phones if s.label == "UW")
    aa = al.phones[2]
    assert peak(art, "jawOpen", uw, 60.0) < 0.15 < peak(art, "mouthPucker", uw, 60.0)
    assert peak(art, "mouthPucker", aa, 60.0) < 0.05 < OPEN_JAW < peak(art, "jawOpen", aa, 60.0)


def test_labiodentals_dentals_and_laterals() -> None:
    al, art = run(fps=60.0)
    for seg in (s for s in al.phones if s.label in ("F", "V")):
        f = frames_in(seg, 60.0, art.n_frames)
        assert art.weights[f, IDX["mouthRollLower"]].max() >= 0.45
        assert art.weights[f, IDX["mouthUpperUpLeft"]].max() > 0.05
        assert art.labiodental[f].max() == pytest.approx(1.0)
        assert 0.02 < art.weights[f, IDX["jawOpen"]].min() < 0.3
    th = next(s for s in al.phones if s.label == "TH")
    assert 0.3 <= peak(art, "tongueOut", th, 60.0) <= 0.5
    ell = next(s for s in al.phones if s.label == "L")
    assert 0.05 <= peak(art, "tongueOut", ell, 60.0) <= 0.2
    aa = al.phones[2]
    assert peak(art, "tongueOut", aa, 60.0) < 0.02


def test_frame_rates_agree() -> None:
    curves = {fps: run(fps=fps)[1].weights for fps in (24.0, 30.0, 60.0)}
    t60 = np.arange(len(curves[60.0])) / 60.0
    for fps in (24.0, 30.0):
        t = np.arange(len(curves[fps])) / fps
        t = t[t <= t60[-1]]
        for name in ("jawOpen", "mouthPucker", "mouthStretchLeft", "tongueOut", "mouthFunnel"):
            ref = np.interp(t, t60, curves[60.0][:, IDX[name]])
            diff = np.abs(curves[fps][: len(t), IDX[name]] - ref)
            assert diff.max() < 0.03, f"{name} at {fps} fps differs by {diff.max():.3f}"
        # the lip gap (with its contacts) agrees on average
        ref_gap = np.interp(t, t60, lip_gap(curves[60.0]))
        assert np.abs(lip_gap(curves[fps][: len(t)]) - ref_gap).mean() < 0.03


def test_no_jitter_within_vowels() -> None:
    al, art = run(fps=60.0)
    jaw = art.weights[:, IDX["jawOpen"]].astype(np.float64)
    for seg in al.phones:
        if seg.label not in OPEN_VOWELS | {"UW", "IY", "EH"}:
            continue
        f = frames_in(seg, 60.0, art.n_frames)
        d = np.diff(jaw[f[0] : f[-1] + 1])
        d = d[np.abs(d) > 1e-4]
        reversals = int(np.sum(np.sign(d[1:]) != np.sign(d[:-1])))
        assert reversals <= 1, f"jaw reverses {reversals} times in {seg.label}"


# --- emotion ----------------------------------------------------------------------------------


@pytest.mark.parametrize("emotion", EMOTIONS)
@pytest.mark.parametrize("level", [1.0, 1.5])
def test_emotion_never_breaks_a_seal(emotion: str, level: float) -> None:
    al, art = run(fps=24.0, emotion=one_hot(emotion, level))
    closed = sealed(art.weights)
    for seg in (s for s in al.phones if s.label in BILABIAL):
        lo, hi = int(np.floor(seg.start * 24)), int(np.ceil(seg.end * 24)) + 1
        assert closed[lo:hi].any()
    assert art.weights.min() >= 0.0 and art.weights.max() <= 1.0


def _speaking(art: Articulation) -> np.ndarray:
    return art.speech > 0.9


def test_sad_moves_the_jaw_less() -> None:
    al, neutral = run()
    _, sad = run(emotion=one_hot("sad", 1.0))
    aa = [s for s in al.phones if s.label == "AA"]
    ratio = [peak(sad, "jawOpen", s, 30.0) / peak(neutral, "jawOpen", s, 30.0) for s in aa]
    assert all(0.6 <= r <= 0.8 for r in ratio), ratio


def test_emotions_shape_speech() -> None:
    _al, neutral = run()
    speaking = _speaking(neutral)

    def mean(art: Articulation, channel: str) -> float:
        return float(art.weights[speaking, IDX[channel]].mean())

    happy = run(emotion=one_hot("happy", 1.0))[1]
    assert mean(happy, "mouthPucker") < 0.8 * mean(neutral, "mouthPucker")
    assert mean(happy, "mouthStretchLeft") > mean(neutral, "mouthStretchLeft") + 0.05
    assert mean(happy, "mouthSmileLeft") > 0.1
    angry = run(emotion=one_hot("angry", 1.0))[1]
    assert mean(angry, "mouthPressLeft") > mean(neutral, "mouthPressLeft") + 0.1
    surprised = run(emotion=one_hot("surprised", 1.0))[1]
    assert mean(surprised, "jawOpen") > 1.1 * mean(neutral, "jawOpen")
    fear = run(emotion=one_hot("fear", 1.0))[1]
    assert mean(fear, "mouthStretchLeft") > mean(neutral, "mouthStretchLeft") + 0.05
    disgusted = run(emotion=one_hot("disgusted", 1.0))[1]
    assert mean(disgusted, "mouthUpperUpLeft") > mean(neutral, "mouthUpperUpLeft") + 0.05


def test_angry_is_sharper_sad_is_laxer() -> None:
    """Coarticulation reach shrinks with anger: the pucker of UW starts later."""
    al, neutral = run(fps=60.0)
    angry = run(fps=60.0, emotion=one_hot("angry", 1.5))[1]
    sad = run(fps=60.0, emotion=one_hot("sad", 1.5))[1]
    uw = next(s for s in al.phones if s.label == "UW")
    f = round((uw.start - 0.1) * 60)
    p = IDX["mouthPucker"]
    assert angry.weights[f, p] < neutral.weights[f, p]
    # sad lips are lax (smaller targets) but their reach is longer: relative to the peak,
    # the anticipation is further along
    rel = [a.weights[f, p] / a.weights[:, p].max() for a in (neutral, sad)]
    assert rel[1] > rel[0]


def test_strength_scales_movement_but_keeps_seals() -> None:
    al, full = run()
    _, half = run(strength=0.5)
    assert half.weights[:, IDX["jawOpen"]].max() == pytest.approx(
        0.5 * full.weights[:, IDX["jawOpen"]].max(), rel=1e-4
    )
    closed = sealed(half.weights)
    for seg in (s for s in al.phones if s.label in BILABIAL):
        assert closed[int(seg.start * 30) : int(np.ceil(seg.end * 30)) + 1].any()


# --- real speech --------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_real_speech_aligned_by_pocketsphinx(tmp_path) -> None:
    from emosync.inference.alignment import align
    from emosync.inference.audio import load_audio

    text = "Bob bought a map of the moon for five pounds"
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
    al = align(load_audio(wav).samples, text)
    assert sum(p.label in BILABIAL for p in al.phones) >= 5
    for fps in (24.0, 60.0):
        n = round(al.duration * fps)
        art = articulate(al, n, fps, emotion=np.tile(one_hot("happy", 1.5), (n, 1)))
        closed = sealed(art.weights)
        jaw = art.weights[:, IDX["jawOpen"]]
        for seg in al.phones:
            lo, hi = int(np.floor(seg.start * fps)), int(np.ceil(seg.end * fps)) + 1
            if seg.label in BILABIAL:
                assert closed[lo:hi].any(), f"{seg} not sealed at {fps} fps"
            if seg.label in OPEN_VOWELS:
                assert jaw[lo:hi].max() >= 0.8 * OPEN_JAW, f"{seg} barely opens"
