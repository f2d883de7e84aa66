"""Emotion timelines: reading and validating files, smooth per-frame sampling, metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emosync.errors import InputError
from emosync.inference.timeline import EmotionTimeline, Segment
from emosync.rigs.emotions import EMOTIONS, parse_emotion

A = {n: i for i, n in enumerate(EMOTIONS)}
FPS = 30.0


def write(tmp_path: Path, data: object, name: str = "t.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def three_segments() -> list[dict]:
    return [
        {"start": 0.0, "end": 2.5, "emotion": "happy", "intensity": 0.8},
        {"start": 2.5, "end": 4.0, "emotion": {"happy": 0.6, "surprised": 0.3}},
        {"start": 5.0, "end": 6.0, "emotion": "0.6 sad + 0.2 angry", "label": "sulk"},
    ]


def test_reads_all_three_emotion_forms(tmp_path: Path) -> None:
    tl = EmotionTimeline.from_json(write(tmp_path, {"segments": three_segments()}))
    assert [s.start for s in tl.segments] == [0.0, 2.5, 5.0]
    assert tl.segments[0].emotion[A["happy"]] == pytest.approx(0.8)
    np.testing.assert_allclose(tl.segments[1].emotion, parse_emotion("0.6 happy + 0.3 surprised"))
    assert tl.segments[2].emotion[A["sad"]] == pytest.approx(0.6)
    assert tl.segments[2].label == "sulk"
    assert tl.segments[0].label == "happy"


def test_accepts_a_bare_list_and_unsorted_segments(tmp_path: Path) -> None:
    segs = three_segments()[::-1]
    tl = EmotionTimeline.from_json(write(tmp_path, segs))
    assert [s.start for s in tl.segments] == [0.0, 2.5, 5.0]


def test_base_fills_gaps_and_the_outside(tmp_path: Path) -> None:
    base = parse_emotion("slightly sad")
    tl = EmotionTimeline.from_json(write(tmp_path, three_segments()), base=base)
    np.testing.assert_allclose(tl.at(4.5), base)
    np.testing.assert_allclose(tl.at(10.0), base)
    frames = tl.frames(int(8 * FPS), FPS)
    np.testing.assert_allclose(frames[int(4.5 * FPS)], base, atol=1e-9)
    np.testing.assert_allclose(frames[-1], base, atol=1e-9)
    np.testing.assert_allclose(frames[int(1.0 * FPS)], parse_emotion("happy", 0.8), atol=1e-9)
    neutral = EmotionTimeline.from_json(write(tmp_path, three_segments()))
    assert not neutral.frames(int(8 * FPS), FPS)[-1].any()


def test_file_base_is_used_when_no_base_is_given(tmp_path: Path) -> None:
    path = write(tmp_path, {"base": "content", "segments": three_segments()})
    assert EmotionTimeline.from_json(path).base[A["happy"]] > 0
    assert not EmotionTimeline.from_json(path, base=np.zeros(7)).base.any()


@pytest.mark.parametrize(
    ("segments", "match"),
    [
        ([{"start": 2.0, "end": 1.0, "emotion": "happy"}], "before it starts"),
        ([{"start": 1.0, "end": 1.0, "emotion": "happy"}], "before it starts"),
        (
            [
                {"start": 0.0, "end": 2.0, "emotion": "happy"},
                {"start": 1.5, "end": 3.0, "emotion": "sad"},
            ],
            "overlap",
        ),
        ([{"start": -1.0, "end": 1.0, "emotion": "happy"}], "non-negative"),
        ([{"start": 0.0, "end": 1.0, "emotion": "zxqv wplk"}], "'zxqv wplk' does not describe"),
        ([{"start": 0.0, "end": 1.0, "emotion": {"happy": 9}}], "between 0 and 1.5"),
        ([{"start": 0.0, "end": 1.0, "emotion": "happy", "intensity": "abc"}], "number"),
        ([{"start": 0.0, "end": 1.0, "emotion": "happy", "intensity": -1}], "between 0"),
        ([{"start": 0.0, "end": 1.0, "emotion": "happy", "intensity": 2}], "between 0"),
        ([{"start": "0", "end": 1.0, "emotion": "happy"}], "number of seconds"),
        ([{"end": 1.0, "emotion": "happy"}], 'no "start"'),
        ([{"start": 0.0, "end": 1.0}], 'no "emotion"'),
        ([{"start": 0.0, "end": 1.0, "emotion": 3}], "prompt"),
        (["happy"], "must be an object"),
        ({"segs": []}, "segments"),
        ({"segments": "happy"}, "list"),
    ],
)
def test_bad_timelines_are_one_line_input_errors(
    tmp_path: Path, segments: object, match: str
) -> None:
    data = segments if isinstance(segments, dict) else {"segments": segments}
    path = write(tmp_path, data)
    with pytest.raises(InputError, match=match) as info:
        EmotionTimeline.from_json(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        EmotionTimeline.from_json(tmp_path / "nope.json")


def test_directory_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read timeline"):
        EmotionTimeline.from_json(tmp_path)


def test_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"segments": [ {"start": 0, }', encoding="utf-8")
    with pytest.raises(InputError, match=r"not valid JSON \(line 1") as info:
        EmotionTimeline.from_json(path)
    assert "\n" not in str(info.value)


def test_nan_times_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "nan.json"
    path.write_text('[{"start": NaN, "end": 1, "emotion": "happy"}]', encoding="utf-8")
    with pytest.raises(InputError, match="non-negative"):
        EmotionTimeline.from_json(path)


def test_constructor_validates_too() -> None:
    happy = parse_emotion("happy")
    with pytest.raises(InputError, match="overlap"):
        EmotionTimeline([Segment(0, 2, happy), Segment(1, 3, happy)])
    with pytest.raises(InputError):
        EmotionTimeline([Segment(3, 2, happy)])


def test_transitions_are_smooth_and_reach_their_targets() -> None:
    tl = EmotionTimeline(
        [
            Segment(1.0, 3.0, parse_emotion("1.5 angry")),
            Segment(3.0, 5.0, parse_emotion("1.5 happy")),
        ]
    )
    frames = tl.frames(int(7 * FPS), FPS, transition=0.4)
    steps = np.abs(np.diff(frames, axis=0)).max()
    # A raised cosine over 0.4 s moves at most pi/2 * 1.5 / (0.4 * 30) ≈ 0.196 per frame.
    assert steps <= 0.2
    assert steps > 0.1  # but it does change within the transition, not over seconds
    np.testing.assert_allclose(frames[int(2.0 * FPS)], parse_emotion("1.5 angry"), atol=1e-9)
    np.testing.assert_allclose(frames[int(4.0 * FPS)], parse_emotion("1.5 happy"), atol=1e-9)
    mid = frames[int(3.0 * FPS)]  # half way at the border
    assert mid[A["angry"]] == pytest.approx(0.75, abs=0.05)
    assert mid[A["happy"]] == pytest.approx(0.75, abs=0.05)
    # second differences bounded too: no corners
    assert np.abs(np.diff(frames, 2, axis=0)).max() < 0.05
    hard = tl.frames(int(7 * FPS), FPS, transition=0.0)
    assert np.abs(np.diff(hard, axis=0)).max() == pytest.approx(1.5)


def test_longer_transitions_are_gentler() -> None:
    tl = EmotionTimeline([Segment(2.0, 6.0, parse_emotion("happy"))])
    short = np.abs(np.diff(tl.frames(240, FPS, 0.2), axis=0)).max()
    long = np.abs(np.diff(tl.frames(240, FPS, 1.0), axis=0)).max()
    assert long < short / 3


def test_frames_are_a_convex_mix_even_for_short_segments() -> None:
    happy, sad = parse_emotion("happy"), parse_emotion("sad")
    tl = EmotionTimeline([Segment(1.0, 1.1, happy), Segment(1.15, 1.3, sad)])
    frames = tl.frames(90, FPS)
    assert frames.min() >= 0.0
    assert (frames.sum(axis=1) <= 1.0 + 1e-9).all()
    assert frames[:, A["happy"]].max() > 0.1


def test_constant_and_change_times() -> None:
    state = parse_emotion("0.6 happy")
    frames = EmotionTimeline.constant(state).frames(50, FPS)
    np.testing.assert_allclose(frames, np.tile(state, (50, 1)))
    assert EmotionTimeline.constant(state).change_times() == []
    happy = parse_emotion("happy")
    tl = EmotionTimeline([Segment(1.0, 2.0, happy), Segment(2.0, 3.0, happy), Segment(4, 5, happy)])
    assert tl.change_times() == [1.0, 3.0, 4.0, 5.0]


def test_metadata_is_json_ready(tmp_path: Path) -> None:
    tl = EmotionTimeline.from_json(write(tmp_path, three_segments()), base=parse_emotion("sad"))
    meta = tl.to_metadata()
    text = json.dumps(meta)
    back = json.loads(text)
    assert back[0]["base"]["sad"] == 1.0
    assert back[2]["emotion"]["surprised"] == pytest.approx(0.3)
    assert back[3]["label"] == "sulk"
    assert [m["start"] for m in back[1:]] == [0.0, 2.5, 5.0]


def test_zero_frames() -> None:
    assert EmotionTimeline().frames(0, FPS).shape == (0, 7)
