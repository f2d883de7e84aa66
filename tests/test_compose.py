"""Composition of articulation with the emotion pose and life layers: the seal always wins."""

from __future__ import annotations

import numpy as np
import pytest

from emosync.inference.articulation import SEAL_DEMAND, articulate
from emosync.inference.compose import compose, enforce_seal
from emosync.inference.timed_phones import Alignment, Segment
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.emotions import EMOTIONS
from emosync.rigs.mouth import SEAL_GAP, lip_gap, sealed
from emosync.rigs.phonemes import BILABIAL

IDX = {n: i for i, n in enumerate(ARKIT_NAMES)}

SPEC = [
    ("SIL", 0.3), ("M", 0.07), ("AY", 0.16), ("B", 0.05), ("AA", 0.12), ("P", 0.02),
    ("IY", 0.1), ("SIL", 0.05), ("W", 0.06), ("UW", 0.14), ("M", 0.08), ("AE", 0.12),
    ("N", 0.05), ("SIL", 0.3),
]  # fmt: skip

# rough EMFACS prototypes (STANDARDS.md), deliberately with lip-parting shapes and jaw drop
PROTOTYPES = {
    "angry": {"browDown": 0.8, "eyeWide": 0.3, "eyeSquint": 0.5, "mouthPress": 0.6},
    "contempt": {"mouthSmileLeft": 0.6, "mouthDimpleLeft": 0.6, "mouthUpperUpLeft": 0.3},
    "disgusted": {"noseSneer": 0.8, "mouthFrown": 0.5, "mouthUpperUp": 0.6, "mouthLowerDown": 0.3},
    "fear": {"browInnerUp": 0.8, "eyeWide": 0.7, "mouthStretch": 0.7, "jawOpen": 0.3},
    "happy": {"cheekSquint": 0.7, "mouthSmile": 0.9, "mouthUpperUp": 0.3, "jawOpen": 0.2},
    "sad": {"browInnerUp": 0.8, "mouthFrown": 0.6, "mouthShrugLower": 0.5},
    "surprised": {"browOuterUp": 0.8, "eyeWide": 0.8, "jawOpen": 0.5, "mouthFunnel": 0.3},
}


def make_alignment(spec: list[tuple[str, float]]) -> Alignment:
    phones, t = [], 0.0
    for label, dur in spec:
        phones.append(Segment(label, t, t + dur))
        t += dur
    return Alignment(phones, duration=t)


def pose_array(emotion: str, level: float, n: int) -> np.ndarray:
    pose = np.zeros(52)
    for name, value in PROTOTYPES[emotion].items():
        names = [name] if name in IDX else [name + "Left", name + "Right"]
        for channel in names:
            pose[IDX[channel]] = min(1.0, value * level)
    return np.tile(pose, (n, 1))


def setup(emotion: str, level: float, fps: float = 24.0):
    al = make_alignment(SPEC)
    n = int(np.ceil(al.phones[-1].end * fps))
    emo = np.zeros((n, len(EMOTIONS)))
    emo[:, EMOTIONS.index(emotion)] = level
    art = articulate(al, n, fps, emotion=emo)
    return al, art, pose_array(emotion, level, n), np.zeros((n, 52))


@pytest.mark.parametrize("emotion", EMOTIONS)
@pytest.mark.parametrize("level", [1.0, 1.5])
@pytest.mark.parametrize("fps", [24.0, 60.0])
def test_seal_survives_every_emotion_pose(emotion: str, level: float, fps: float) -> None:
    al, art, pose, life = setup(emotion, level, fps)
    face = compose(art, pose, life)
    assert face.dtype == np.float32 and face.shape == (art.n_frames, 52)
    assert face.min() >= 0.0 and face.max() <= 1.0
    demanded = art.seal >= SEAL_DEMAND
    assert demanded.any()
    assert np.all(lip_gap(face[demanded]) < SEAL_GAP)
    closed = sealed(face)
    for seg in (s for s in al.phones if s.label in BILABIAL):
        lo, hi = int(np.floor(seg.start * fps)), int(np.ceil(seg.end * fps)) + 1
        assert closed[lo:hi].any(), f"{seg} not sealed under {emotion} {level}"


def test_seal_survives_an_adversarial_pose() -> None:
    _al, art, _, life = setup("happy", 1.5)
    pose = np.ones((art.n_frames, 52))  # every shape at full
    face = compose(art, pose, life)
    assert np.all(lip_gap(face[art.seal >= SEAL_DEMAND]) < SEAL_GAP)
    assert np.all(face[:, IDX["mouthClose"]] <= face[:, IDX["jawOpen"]] + 1e-6)


def test_smile_rides_on_speech_and_survives_closures() -> None:
    al, art, pose, life = setup("happy", 1.0)
    face = compose(art, pose, life)
    smile = face[:, IDX["mouthSmileLeft"]]
    assert smile.min() >= 0.45  # never wiped out, even while sealed or rounded
    uw = next(s for s in al.phones if s.label == "UW")
    uw_frames = np.arange(int(np.ceil(uw.start * 24)), int(np.floor(uw.end * 24)) + 1)
    aa = al.phones[4]
    aa_frame = round(0.5 * (aa.start + aa.end) * 24)
    # rounding eases the smile: the lips cannot spread and pucker fully at once
    assert smile[uw_frames].mean() < smile[aa_frame]


def test_pose_jaw_gives_way_to_speech_and_shows_in_pauses() -> None:
    _al, art, pose, life = setup("surprised", 1.0)
    face = compose(art, pose, life)
    jaw_pose = pose[0, IDX["jawOpen"]]
    demanded = art.seal >= SEAL_DEMAND
    # at a closure the pose's jaw drop is overridden: only the articulation's jaw remains
    np.testing.assert_allclose(
        face[demanded, IDX["jawOpen"]], art.weights[demanded, IDX["jawOpen"]], atol=1e-6
    )
    # in the long opening pause the surprised mouth hangs open
    mid_pause = round(0.15 * 24)
    assert face[mid_pause, IDX["jawOpen"]] >= jaw_pose - 1e-6
    assert lip_gap(face[mid_pause : mid_pause + 1])[0] > 0.3


def test_upper_face_is_pose_plus_life_and_blinks_saturate() -> None:
    _al, art, pose, _ = setup("surprised", 1.0)
    n = art.n_frames
    life = np.zeros((n, 52))
    life[:, IDX["eyeLookUpLeft"]] = 0.2
    life[10:14, IDX["eyeBlinkLeft"]] = 1.0
    life[10:14, IDX["eyeBlinkRight"]] = 1.0
    pose[:, IDX["eyeBlinkLeft"]] = 0.2
    face = compose(art, pose, life)
    np.testing.assert_allclose(face[:, IDX["browOuterUpLeft"]], pose[:, IDX["browOuterUpLeft"]])
    np.testing.assert_allclose(face[:, IDX["eyeLookUpLeft"]], 0.2, atol=1e-6)
    assert face[12, IDX["eyeBlinkLeft"]] == 1.0
    assert face[0, IDX["eyeBlinkLeft"]] == pytest.approx(0.2)
    # a full blink closes the eye the pose holds wide
    assert face[12, IDX["eyeWideLeft"]] == 0.0 < face[0, IDX["eyeWideLeft"]]


def test_neutral_pose_keeps_the_articulation() -> None:
    _al, art, _, life = setup("happy", 0.0)
    face = compose(art, np.zeros((art.n_frames, 52)), life)
    np.testing.assert_allclose(face, art.weights, atol=1e-6)


def test_enforce_seal_closes_any_face() -> None:
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 1, (50, 52))
    seal = rng.uniform(0, 1, 50)
    seal[:10] = 0.0
    out = enforce_seal(w, seal)
    assert np.all(lip_gap(out[seal >= SEAL_DEMAND]) < 1e-6)
    # no demand: only mouthClose is limited to jawOpen (how ARKit authors it)
    keep = [i for i in range(52) if i != IDX["mouthClose"]]
    np.testing.assert_allclose(out[:10, keep], w[:10, keep])
    np.testing.assert_allclose(
        out[:10, IDX["mouthClose"]], np.minimum(w[:10, IDX["mouthClose"]], w[:10, IDX["jawOpen"]])
    )


def test_shape_mismatch_is_rejected() -> None:
    _, art, pose, life = setup("sad", 1.0)
    with pytest.raises(ValueError):
        compose(art, pose[:-1], life)
