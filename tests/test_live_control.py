"""Control lines of `emosync live` applied to a real LiveEmotion (the text encoder reads words)."""

from __future__ import annotations

import json

import numpy as np

from emosync.cli.live_control import Control, split_intensity
from emosync.inference.live_emotion import LiveEmotion
from emosync.rigs.emotions import EMOTIONS

ANGRY, SAD = EMOTIONS.index("angry"), EMOTIONS.index("sad")


def test_split_intensity():
    assert split_intensity("quietly furious 0.8", 1.0) == ("quietly furious", 0.8)
    assert split_intensity("happy 80%", 1.0) == ("happy", 0.8)
    assert split_intensity("0.6 happy + 0.3 surprised", 1.0) == ("0.6 happy + 0.3 surprised", 1.0)
    assert split_intensity("sad", 0.5) == ("sad", 0.5)


def test_lines_change_the_emotion_at_the_clock(tmp_path):
    emotion = LiveEmotion()
    now = [3.0]
    control = Control(emotion, lambda: now[0], intensity=1.0)
    assert control.handle("emotion angry 0.5").startswith("ok emotion ")
    s = emotion.states(np.array([2.9, 3.5]))
    assert s[0, ANGRY] == 0.0 and np.isclose(s[1, ANGRY], 0.5)
    assert control.handle("emotion quietly furious 0.8").startswith("ok emotion ")
    assert emotion.target[ANGRY] > 0.3

    timeline = tmp_path / "moods.json"
    timeline.write_text(json.dumps({"segments": [{"start": 1, "end": 2, "emotion": "sad"}]}))
    now[0] = 10.0
    assert control.handle(f"timeline {timeline}").startswith("ok timeline")
    s = emotion.states(np.array([10.6, 11.7, 13.0]))  # base (neutral), the segment, base again
    assert s[0].max() < 1e-6 and np.isclose(s[1, SAD], 1.0) and s[2].max() < 1e-6
    assert control.applied == 3

    for bad in ("emotion", "emotion xyzzy-not-a-feeling", "dance", f"timeline {tmp_path}/no.json"):
        assert control.handle(bad).startswith("error: "), bad
    assert control.applied == 3
