"""Life: blinks, saccades and head motion driven by real speech (espeak-ng) energy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emosync.errors import InputError
from emosync.inference.life import (
    HEAD_LIMIT,
    MAX_SACCADE,
    Life,
    LifeSettings,
    analyse_speech,
    life_frames,
)
from emosync.inference.timeline import EmotionTimeline, Segment
from emosync.rigs.channels import ARKIT_NAMES, ROTATION_NAMES
from emosync.rigs.emotions import parse_emotion

FPS = 30.0
B = {n: i for i, n in enumerate(ARKIT_NAMES)}
R = {n: i for i, n in enumerate(ROTATION_NAMES)}
SENTENCES = (
    "Well, I really did not expect to see you here today.",
    "Honestly, it is a wonderful surprise, and I am very glad.",
    "Let us go and get some coffee, shall we?",
)


@pytest.fixture(scope="module")
def speech_db(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """About 60 s of frame energy (dBFS at 30 fps): three spoken sentences with pauses, tiled."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("speech")
    pieces = []
    for i, text in enumerate(SENTENCES):
        wav = folder / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
        samples, rate = sf.read(wav, dtype="float32")
        pieces += [samples, np.zeros(int(rate * (0.6 + 0.4 * i)), np.float32)]
    clip = np.concatenate(pieces)
    audio = np.tile(clip, int(np.ceil(60 * rate / clip.size)))[: 60 * rate]
    return frame_db(audio, rate)


def frame_db(audio: np.ndarray, rate: int) -> np.ndarray:
    hop = int(rate / FPS)
    n = audio.size // hop
    rms = np.sqrt(np.mean(audio[: n * hop].reshape(n, hop) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-6)


def seals(n: int, seed: int = 0, share: float = 0.25) -> np.ndarray:
    """Bilabial-like closures of 3-6 frames covering about `share` of the clip."""
    rng = np.random.default_rng(seed)
    seal = np.zeros(n)
    while seal.mean() < share:
        start = int(rng.integers(0, n))
        seal[start : start + int(rng.integers(3, 7))] = 1.0
    return seal


def run(
    db: np.ndarray,
    emotion: str | np.ndarray = "neutral",
    seed: int = 0,
    settings: LifeSettings | None = None,
    seal: np.ndarray | None = None,
) -> Life:
    n = db.size
    states = np.tile(parse_emotion(emotion), (n, 1)) if isinstance(emotion, str) else emotion
    seal = np.zeros(n) if seal is None else seal
    return life_frames(n, FPS, db, seal, states, settings or LifeSettings(), seed=seed)


def onsets(blink: np.ndarray) -> np.ndarray:
    return np.flatnonzero((blink > 0) & (np.concatenate([[0.0], blink[:-1]]) == 0))


def per_minute(blink: np.ndarray) -> float:
    return onsets(blink).size / (blink.size / FPS) * 60.0


# --- blinks -----------------------------------------------------------------------------------


def test_blink_statistics_over_a_minute(speech_db: np.ndarray) -> None:
    seal = seals(speech_db.size)
    rates, intervals = [], []
    for seed in range(6):
        life = run(speech_db, seed=seed, seal=seal)
        blink = life.blend[:, B["eyeBlinkLeft"]]
        np.testing.assert_array_equal(blink, life.blend[:, B["eyeBlinkRight"]])  # both eyes
        starts = onsets(blink)
        assert (seal[starts] <= 0.5).all()  # never starting in a bilabial seal
        rates.append(per_minute(blink))
        intervals.append(np.diff(starts) / FPS)
        ends = np.flatnonzero((blink == 0) & (np.concatenate([[0.0], blink[:-1]]) > 0))
        for s in starts:
            e = ends[ends > s][0] if (ends > s).any() else blink.size
            assert blink[s:e].max() == pytest.approx(1.0)  # full closure
            assert 0.22 <= (e - s) / FPS <= 0.5  # close 100-150 ms + open 150-250 ms (in frames)
            peak = s + int(np.argmax(blink[s:e]))
            assert (peak - s + 1) / FPS <= 0.2  # closing is the quick part
    assert 12 <= np.mean(rates) <= 24, rates
    assert min(rates) >= 8 and max(rates) <= 32
    gaps = np.concatenate(intervals)
    assert gaps.min() >= 0.55
    assert gaps.std() / gaps.mean() > 0.3  # irregular, not a metronome


def test_blink_rate_follows_emotion(speech_db: np.ndarray) -> None:
    def mean_rate(emotion: str) -> float:
        return np.mean([per_minute(run(speech_db, emotion, s).blend[:, 0]) for s in range(6)])

    sad, neutral, fear = mean_rate("sad"), mean_rate("neutral"), mean_rate("fear")
    assert sad < neutral < fear
    assert mean_rate("angry") > neutral


def test_blinks_come_at_emotion_changes(speech_db: np.ndarray) -> None:
    n = speech_db.size
    segments = [Segment(t, t + 2.5, parse_emotion("happy")) for t in np.arange(2.0, 58.0, 5.0)]
    timeline = EmotionTimeline(segments)
    states = timeline.frames(n, FPS, transition=0.2)
    changes = np.array(timeline.change_times())
    quiet = np.full(n, -100.0)  # no phrase starts: only the emotion changes can trigger
    near, total = 0, 0
    for seed in range(6):
        starts = onsets(run(quiet, states, seed).blend[:, 0]) / FPS
        for c in changes:
            total += 1
            near += bool(((starts >= c - 0.3) & (starts <= c + 0.5)).any())
    chance = 16 / 60 * 0.8  # expected share at the resting rate without triggers
    assert near / total > 2 * chance


def test_blinks_come_at_phrase_starts(speech_db: np.ndarray) -> None:
    phrases = analyse_speech(speech_db, FPS).phrase_starts / FPS
    assert len(phrases) >= 12  # three sentences per clip, about five clips
    near, total = 0, 0
    for seed in range(6):
        starts = onsets(run(speech_db, seed=seed).blend[:, 0]) / FPS
        for p in phrases:
            total += 1
            near += bool(((starts >= p - 0.1) & (starts <= p + 0.4)).any())
    assert near / total > 2 * (20 / 60 * 0.5)


# --- gaze -------------------------------------------------------------------------------------


def test_saccades_are_small_fast_and_separated_by_fixations(speech_db: np.ndarray) -> None:
    life = run(speech_db, settings=LifeSettings(blink=0.0), seed=2)
    rot = life.rotations
    np.testing.assert_array_equal(rot[:, R["leftEyeYaw"]], rot[:, R["rightEyeYaw"]])
    np.testing.assert_array_equal(rot[:, R["leftEyePitch"]], rot[:, R["rightEyePitch"]])
    assert not rot[:, R["leftEyeRoll"]].any()
    gaze = rot[:, [R["leftEyeYaw"], R["leftEyePitch"]]].astype(np.float64)
    moving = np.linalg.norm(np.diff(gaze, axis=0), axis=1) > 1e-6
    edges = np.diff(np.concatenate([[0], moving.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    assert len(starts) >= 25  # about one a second or so
    assert (stops - starts <= 3).all()  # 1-3 frames
    for a, b in zip(starts, stops, strict=True):
        assert np.linalg.norm(gaze[b] - gaze[a]) <= MAX_SACCADE + 1e-6
    fixations = (starts[1:] - stops[:-1]) / FPS
    assert fixations.min() >= 0.3 - 1 / FPS and fixations.max() <= 2.0 + 1 / FPS
    assert np.abs(gaze[:, 0]).max() <= 0.15 and np.abs(gaze[:, 1]).max() <= 0.15
    assert np.abs(gaze[:, 0]).max() > 0.03  # it does look around


def test_look_blendshapes_match_the_eye_rotations(speech_db: np.ndarray) -> None:
    life = run(speech_db, seed=4)
    yaw = life.rotations[:, R["leftEyeYaw"]]
    pitch = life.rotations[:, R["leftEyePitch"]]
    out_left, in_right = life.blend[:, B["eyeLookOutLeft"]], life.blend[:, B["eyeLookInRight"]]
    np.testing.assert_array_equal(out_left, in_right)
    assert ((out_left > 0) == (yaw > 0)).all()
    assert ((life.blend[:, B["eyeLookInLeft"]] > 0) == (yaw < 0)).all()
    assert ((life.blend[:, B["eyeLookDownLeft"]] > 0) == (pitch > 0)).all()
    assert ((life.blend[:, B["eyeLookUpRight"]] > 0) == (pitch < 0)).all()
    assert np.corrcoef(out_left[yaw > 0], yaw[yaw > 0])[0, 1] > 0.99
    assert life.blend.min() >= 0.0 and life.blend.max() <= 1.0


def test_eyes_roll_down_a_little_during_blinks(speech_db: np.ndarray) -> None:
    with_blinks = run(speech_db, seed=1)
    without = run(speech_db, seed=1, settings=LifeSettings(blink=0.0))
    blink = with_blinks.blend[:, 0]
    extra = with_blinks.rotations[:, R["leftEyePitch"]] - without.rotations[:, R["leftEyePitch"]]
    assert extra[blink > 0.9].min() > 0.02  # down while closed
    assert np.abs(extra[blink == 0]).max() < 1e-6
    assert extra.max() < 0.1  # slightly


# --- head -------------------------------------------------------------------------------------


def test_head_moves_with_speech_and_settles_in_pauses(speech_db: np.ndarray) -> None:
    activity = analyse_speech(speech_db, FPS).activity
    for seed in range(3):
        head = run(speech_db, seed=seed).rotations[:, :3].astype(np.float64)
        assert np.abs(head).max() <= HEAD_LIMIT
        speed = np.linalg.norm(np.diff(head, axis=0), axis=1) * FPS  # rad/s
        speaking = activity[1:] > 0.5
        assert speed[speaking].mean() > 1.5 * speed[~speaking].mean()
        assert np.corrcoef(speed, activity[1:])[0, 1] > 0.2
    silent = run(np.full(speech_db.size, -100.0), seed=0).rotations[:, :3]
    talking = run(speech_db, seed=0).rotations[:, :3]
    assert np.abs(np.diff(silent, axis=0)).sum() < 0.6 * np.abs(np.diff(talking, axis=0)).sum()
    assert np.abs(silent).max() < 0.06  # idle drift stays near centre


def test_head_nods_on_energy_peaks(speech_db: np.ndarray) -> None:
    speech = analyse_speech(speech_db, FPS)
    assert len(speech.peaks) >= 40  # stressed syllables found in a minute of speech
    pitch_speed = np.zeros(speech_db.size)
    for seed in range(4):
        pitch = run(speech_db, seed=seed).rotations[:, R["headPitch"]].astype(np.float64)
        pitch_speed += np.abs(np.gradient(pitch)) * FPS
    near = np.zeros(speech_db.size, bool)
    for p in speech.peaks:
        near[max(0, p - 6) : p + 3] = True
    assert pitch_speed[near].mean() > 1.3 * pitch_speed[~near].mean()


def test_head_is_smooth(speech_db: np.ndarray) -> None:
    head = run(speech_db, "very angry", seed=5).rotations[:, :3].astype(np.float64)
    assert np.abs(np.diff(head, axis=0)).max() < 0.02  # < 0.6 rad/s at 30 fps
    assert np.abs(np.diff(head, 2, axis=0)).max() < 0.012
    # no jitter: almost all the velocity's power is below 5 Hz (white jitter would put 2/3 above)
    velocity = np.diff(head, axis=0)
    power = np.abs(np.fft.rfft(velocity, axis=0)) ** 2
    high = np.fft.rfftfreq(len(velocity), 1 / FPS) > 5.0
    assert (power[high].sum(axis=0) / power.sum(axis=0)).max() < 0.05


def test_emotion_shapes_head_motion(speech_db: np.ndarray) -> None:
    def stats(emotion: str) -> tuple[float, float]:
        heads = [run(speech_db, emotion, s).rotations[:, :3] for s in range(3)]
        pitch = np.mean([h[:, 1].mean() for h in heads])
        motion = np.mean([np.abs(np.diff(h, axis=0)).sum() for h in heads])
        return float(pitch), float(motion)

    neutral_pitch, neutral_motion = stats("neutral")
    sad_pitch, sad_motion = stats("sad")
    _, angry_motion = stats("angry")
    _, surprised_motion = stats("surprised")
    assert sad_pitch > neutral_pitch + 0.04  # head lowered (pitch > 0 is down)
    assert sad_motion < neutral_motion < angry_motion
    assert surprised_motion > neutral_motion


# --- gains, determinism, edges ----------------------------------------------------------------


def test_zero_gains_give_exact_zeros(speech_db: np.ndarray) -> None:
    off = run(speech_db, "angry", settings=LifeSettings(0.0, 0.0, 0.0))
    assert not off.blend.any() and not off.rotations.any()
    no_head = run(speech_db, settings=LifeSettings(head=0.0))
    assert not no_head.rotations[:, :3].any()
    assert no_head.rotations[:, 3:].any()
    no_gaze = run(speech_db, settings=LifeSettings(gaze=0.0))
    assert not no_gaze.rotations[:, 3:].any()
    look = [B[n] for n in ARKIT_NAMES if n.startswith("eyeLook")]
    assert not no_gaze.blend[:, look].any()
    no_blink = run(speech_db, settings=LifeSettings(blink=0.0))
    assert not no_blink.blend[:, [B["eyeBlinkLeft"], B["eyeBlinkRight"]]].any()
    # parts draw from their own streams: switching blinks off leaves the head as it was
    np.testing.assert_array_equal(no_blink.rotations[:, :3], run(speech_db).rotations[:, :3])


def test_gains_scale(speech_db: np.ndarray) -> None:
    calm = run(speech_db, settings=LifeSettings(head=0.5)).rotations[:, :3]
    full = run(speech_db).rotations[:, :3]
    assert np.abs(calm).mean() < 0.75 * np.abs(full).mean()
    often = np.mean(
        [
            per_minute(run(speech_db, seed=s, settings=LifeSettings(blink=2.0)).blend[:, 0])
            for s in range(3)
        ]
    )
    normal = np.mean([per_minute(run(speech_db, seed=s).blend[:, 0]) for s in range(3)])
    assert often > 1.4 * normal


def test_deterministic_by_seed(speech_db: np.ndarray) -> None:
    a, b, c = run(speech_db, seed=11), run(speech_db, seed=11), run(speech_db, seed=12)
    np.testing.assert_array_equal(a.blend, b.blend)
    np.testing.assert_array_equal(a.rotations, b.rotations)
    assert not np.array_equal(a.rotations, c.rotations)
    assert not np.array_equal(a.blend, c.blend)


def test_output_types_and_only_eye_channels(speech_db: np.ndarray) -> None:
    life = run(speech_db[:300])
    assert life.blend.shape == (300, 52) and life.blend.dtype == np.float32
    assert life.rotations.shape == (300, 9) and life.rotations.dtype == np.float32
    other = [i for n, i in B.items() if not n.startswith(("eyeBlink", "eyeLook"))]
    assert not life.blend[:, other].any()


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_tiny_and_silent_clips(n: int) -> None:
    life = life_frames(n, FPS, np.full(n, -np.inf), np.zeros(n), np.zeros((n, 7)))
    assert life.blend.shape == (n, 52) and life.rotations.shape == (n, 9)
    assert np.isfinite(life.rotations).all()


def test_one_emotion_vector_is_broadcast(speech_db: np.ndarray) -> None:
    n = 120
    life = life_frames(n, FPS, speech_db[:n], np.zeros(n), parse_emotion("sad"))
    np.testing.assert_array_equal(life.rotations, run(speech_db[:n], "sad").rotations)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), 10.0, "x"])
def test_bad_gains_are_input_errors(bad: object) -> None:
    with pytest.raises(InputError):
        LifeSettings(blink=bad)  # type: ignore[arg-type]


def test_other_frame_rates(speech_db: np.ndarray, tmp_path: Path) -> None:
    # 60 fps: the same minute, finer frames; blinks still full and saccades 1-3 frames
    db60 = np.repeat(speech_db, 2)
    life = life_frames(db60.size, 60.0, db60, np.zeros(db60.size), np.zeros((db60.size, 7)))
    rate = onsets(life.blend[:, 0]).size / (db60.size / 60.0) * 60.0
    assert 8 <= rate <= 32
    assert np.abs(np.diff(life.rotations[:, :3], axis=0)).max() < 0.01
