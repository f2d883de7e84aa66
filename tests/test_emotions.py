"""The emotion space: prompt parsing, FACS poses and the breathing emotion layer."""

from __future__ import annotations

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.inference.emotion_layer import emotion_pose_frames
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.emotion_poses import GAP_CHANNELS, pose_for
from emosync.rigs.emotions import (
    EMOTIONS,
    MAX_INTENSITY,
    describe,
    emotion_to_dict,
    from_mapping,
    parse_emotion,
    parse_intensity,
)

A = {n: i for i, n in enumerate(EMOTIONS)}
B = {n: i for i, n in enumerate(ARKIT_NAMES)}


def only(vec: np.ndarray) -> dict[str, float]:
    return {k: v for k, v in emotion_to_dict(vec).items() if v > 0}


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EMOTIONS)
def test_presets_are_unit_axes(name: str) -> None:
    assert only(parse_emotion(name)) == {name: 1.0}
    assert only(parse_emotion(f"  {name.upper()} ")) == {name: 1.0}


def test_neutral_is_the_origin() -> None:
    assert not parse_emotion("neutral").any()
    assert parse_emotion("neutral").shape == (7,)


@pytest.mark.parametrize(
    ("word", "axis", "low", "high"),
    [
        ("irritated", "angry", 0.3, 0.7),
        ("furious", "angry", 1.1, 1.5),
        ("mad", "angry", 0.6, 1.1),
        ("joyful", "happy", 0.9, 1.3),
        ("cheerful", "happy", 0.6, 1.1),
        ("scared", "fear", 0.6, 1.1),
        ("afraid", "fear", 0.6, 1.1),
        ("anxious", "fear", 0.3, 0.7),
        ("nervous", "fear", 0.3, 0.7),
        ("terrified", "fear", 1.2, 1.5),
        ("gloomy", "sad", 0.5, 0.9),
        ("unhappy", "sad", 0.6, 1.0),
        ("depressed", "sad", 1.0, 1.5),
        ("disgusted", "disgusted", 1.0, 1.0),
        ("grossed out", "disgusted", 0.8, 1.2),
        ("astonished", "surprised", 1.0, 1.4),
        ("amazed", "surprised", 0.9, 1.3),
        ("shocked", "surprised", 1.1, 1.5),
        ("contemptuous", "contempt", 0.9, 1.1),
        ("scornful", "contempt", 0.8, 1.2),
        ("smug", "contempt", 0.5, 0.9),
    ],
)
def test_synonyms_have_their_own_intensity(word: str, axis: str, low: float, high: float) -> None:
    vec = parse_emotion(word)
    assert low <= vec[A[axis]] <= high
    assert int(np.argmax(vec)) == A[axis]


def test_irritated_is_milder_than_angry_is_milder_than_furious() -> None:
    a = A["angry"]
    assert parse_emotion("irritated")[a] < parse_emotion("angry")[a] < parse_emotion("furious")[a]


def test_modifiers_scale_the_emotion() -> None:
    s = A["sad"]
    slightly, plain, very = (parse_emotion(t)[s] for t in ("slightly sad", "sad", "very sad"))
    assert slightly < plain < very
    assert 0.25 <= slightly <= 0.45
    assert parse_emotion("a bit sad")[s] < parse_emotion("somewhat sad")[s] < plain
    assert parse_emotion("extremely happy")[A["happy"]] == pytest.approx(MAX_INTENSITY)
    assert parse_emotion("feeling a little sad")[s] == pytest.approx(parse_emotion("a bit sad")[s])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.6 happy + 0.3 surprised", {"happy": 0.6, "surprised": 0.3}),
        ("happy+sad", {"happy": 1.0, "sad": 1.0}),
        ("70% angry", {"angry": 0.7}),
        ("70 % angry", {"angry": 0.7}),
        ("happy: 0.4, fear: 0.2", {"happy": 0.4, "fear": 0.2}),
        ("happy and slightly surprised", {"happy": 1.0, "surprised": 0.35}),
        ("0.5 sad + 0.5 sad", {"sad": 1.0}),
    ],
)
def test_mixtures_are_sums(text: str, expected: dict[str, float]) -> None:
    got = only(parse_emotion(text))
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, abs=1e-6)


def test_mixtures_clip_each_entry() -> None:
    vec = parse_emotion("1.5 happy + 1.5 happy + sad")
    assert vec[A["happy"]] == MAX_INTENSITY
    assert vec[A["sad"]] == 1.0


def test_global_intensity_multiplies() -> None:
    base = parse_emotion("0.6 happy + 0.3 surprised")
    half = parse_emotion("0.6 happy + 0.3 surprised", intensity=0.5)
    np.testing.assert_allclose(half, base * 0.5)
    assert parse_emotion("very happy", intensity=1.5)[A["happy"]] == MAX_INTENSITY
    assert not parse_emotion("angry", intensity=0).any()


@pytest.mark.parametrize("text", ["xyz", "happy + blorp", "", "   ", "0.5", "+"])
def test_unknown_or_empty_prompts_are_one_line_input_errors(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_emotion(text)
    message = str(info.value)
    assert "\n" not in message
    assert "angry" in message or "emotion" in message


def test_unknown_word_error_names_the_word_and_the_presets() -> None:
    with pytest.raises(InputError, match=r"unknown emotion 'xyz'; try one of: angry, contempt"):
        parse_emotion("xyz")
    with pytest.raises(InputError, match=r"0\.6 happy"):
        parse_emotion("happy + qqq")


@pytest.mark.parametrize("bad", ["abc", -1, "-0.1", 1.6, "2", "nan", float("nan"), "inf", ""])
def test_bad_intensities_are_rejected(bad: object) -> None:
    with pytest.raises(InputError):
        parse_intensity(bad)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        parse_emotion("happy", intensity=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "number"), [("0.8", 0.8), (1, 1.0), ("150%", 1.5), (0, 0.0)])
def test_good_intensities(value: object, number: float) -> None:
    assert parse_intensity(value) == pytest.approx(number)  # type: ignore[arg-type]


def test_weights_beyond_the_range_are_rejected() -> None:
    with pytest.raises(InputError):
        parse_emotion("2 happy")


def test_dict_round_trip_and_description() -> None:
    vec = parse_emotion("0.6 happy + 0.3 surprised")
    d = emotion_to_dict(vec)
    assert list(d) == list(EMOTIONS)
    np.testing.assert_allclose(from_mapping(d), vec)
    np.testing.assert_allclose(parse_emotion(describe(vec)), vec)
    assert describe(np.zeros(7)) == "neutral"
    np.testing.assert_allclose(from_mapping({"joyful": 0.5}), parse_emotion("joyful") * 0.5)
    with pytest.raises(InputError):
        from_mapping({"happy": "lots"})


# --- poses ------------------------------------------------------------------------------------


def pose(text: str) -> dict[str, float]:
    weights = pose_for(parse_emotion(text))
    return {n: float(weights[i]) for i, n in enumerate(ARKIT_NAMES)}


def test_neutral_pose_is_zero() -> None:
    assert not pose_for(np.zeros(7)).any()


def test_happy_moves_smile_and_cheeks() -> None:
    p = pose("happy")
    for side in ("Left", "Right"):
        assert p[f"mouthSmile{side}"] > 0.4
        assert p[f"cheekSquint{side}"] > 0.4
        assert p[f"mouthFrown{side}"] == 0.0


def test_sad_raises_inner_brows_and_frowns() -> None:
    p = pose("sad")
    assert p["browInnerUp"] > 0.5
    assert p["mouthFrownLeft"] > 0.4 and p["mouthFrownRight"] > 0.4
    assert p["mouthSmileLeft"] == 0.0


def test_surprise_raises_brows_and_widens_eyes() -> None:
    p = pose("surprised")
    assert p["browInnerUp"] > 0.5 and p["browOuterUpLeft"] > 0.5 and p["eyeWideRight"] > 0.5
    assert p["browDownLeft"] == 0.0


def test_fear_combines_raised_and_lowered_brows_with_stretched_lips() -> None:
    p = pose("fear")
    assert p["browInnerUp"] > 0.5 and p["browDownLeft"] > 0.1
    assert p["eyeWideLeft"] > 0.4 and p["mouthStretchLeft"] > 0.3


def test_anger_lowers_brows_and_presses_lips() -> None:
    p = pose("angry")
    assert p["browDownLeft"] > 0.6 and p["browDownRight"] > 0.6
    assert p["mouthPressLeft"] > 0.3 and p["eyeSquintLeft"] > 0.3
    assert p["browInnerUp"] == 0.0


def test_disgust_wrinkles_the_nose() -> None:
    p = pose("disgusted")
    assert p["noseSneerLeft"] > 0.5 and p["noseSneerRight"] > 0.5
    assert p["mouthFrownLeft"] > 0.2


def test_contempt_is_one_sided() -> None:
    p = pose("contempt")
    assert p["mouthSmileLeft"] - p["mouthSmileRight"] > 0.3
    assert p["mouthDimpleLeft"] - p["mouthDimpleRight"] > 0.3


def test_symmetric_emotions_are_symmetric() -> None:
    for name in ("happy", "sad", "angry", "fear", "surprised", "disgusted"):
        p = pose(name)
        for key, value in p.items():
            if key.endswith("Left"):
                assert value == pytest.approx(p[key[:-4] + "Right"]), (name, key)


def test_poses_leave_the_lip_opening_to_articulation() -> None:
    everything = pose_for(np.full(7, MAX_INTENSITY))
    for name in GAP_CHANNELS:
        assert everything[B[name]] == 0.0


def test_mixtures_saturate_softly_below_one() -> None:
    strong = pose_for(np.full(7, MAX_INTENSITY))
    assert strong.max() < 1.0
    mix = pose_for(parse_emotion("surprised + fear"))
    single = pose_for(parse_emotion("surprised"))
    assert mix[B["browInnerUp"]] > single[B["browInnerUp"]]  # still monotone
    ramp = np.array(
        [pose_for(parse_emotion("happy", intensity=x)) for x in np.linspace(0, 1.5, 31)]
    )
    assert (np.diff(ramp, axis=0) >= -1e-12).all()


def test_intensity_scales_the_pose() -> None:
    smile = B["mouthSmileLeft"]
    values = [pose_for(parse_emotion(t))[smile] for t in ("slightly happy", "happy", "very happy")]
    assert values[0] < values[1] < values[2]


def test_pose_for_takes_stacks() -> None:
    states = np.stack([parse_emotion("happy"), parse_emotion("sad")])
    np.testing.assert_allclose(pose_for(states)[1], pose_for(parse_emotion("sad")))


# --- breathing --------------------------------------------------------------------------------

FPS = 30.0


def held(text: str, seconds: float = 20.0) -> np.ndarray:
    return np.tile(parse_emotion(text), (int(seconds * FPS), 1))


def test_a_held_expression_breathes_slowly_and_a_little() -> None:
    frames = emotion_pose_frames(held("sad"), FPS, seed=3)
    static = pose_for(parse_emotion("sad"))
    active = static > 0.05
    ratio = frames[:, active] / static[active]
    assert ratio.min() > 0.85 and ratio.max() < 1.15  # small: within ±15 %
    assert (ratio.max(axis=0) - ratio.min(axis=0)).min() > 0.05  # every channel moves
    assert np.abs(np.diff(frames, axis=0)).max() < 0.01  # slow and smooth: no per-frame jumps
    # not a frozen face at any moment: over every 3 s window the pose changes
    window = int(3 * FPS)
    for start in range(0, len(frames) - window, window):
        assert np.abs(frames[start + window] - frames[start]).max() > 0.005


def test_regions_breathe_differently() -> None:
    frames = emotion_pose_frames(held("fear"), FPS, seed=0)
    brow = frames[:, B["browInnerUp"]] / frames[:, B["browInnerUp"]].mean()
    mouth = frames[:, B["mouthStretchLeft"]] / frames[:, B["mouthStretchLeft"]].mean()
    assert np.corrcoef(brow, mouth)[0, 1] < 0.9


def test_breathing_is_deterministic_by_seed_and_neutral_stays_neutral() -> None:
    a = emotion_pose_frames(held("happy", 5), FPS, seed=7)
    b = emotion_pose_frames(held("happy", 5), FPS, seed=7)
    c = emotion_pose_frames(held("happy", 5), FPS, seed=8)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    assert not emotion_pose_frames(held("neutral", 5), FPS).any()
    still = emotion_pose_frames(held("happy", 5), FPS, breathe=0.0)
    np.testing.assert_allclose(
        still, np.tile(pose_for(parse_emotion("happy")), (150, 1)), atol=1e-6
    )
    assert a.dtype == np.float32 and a.shape == (150, 52)


def test_one_mixture_split_and_amount_reader():
    from emosync.rigs.emotions import mixture_terms, split_amount

    assert mixture_terms(" 0.6 happy +  + 0.3 surprised ") == ["0.6 happy", "0.3 surprised"]
    assert split_amount("0.5 quietly furious") == (0.5, "quietly furious")
    assert split_amount("70% sad") == (pytest.approx(0.7), "sad")
    assert split_amount("0.6*happy") == (0.6, "happy")
    assert split_amount("quietly furious") == (1.0, "quietly furious")
    with pytest.raises(InputError):
        split_amount("2 happy")
