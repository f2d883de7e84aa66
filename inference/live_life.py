"""Blinks and gaze for a live stream, frame by frame (causal), from the same parts and constants
as inference.life's whole-clip version.

What differs from a file, and why: the file version reads the whole clip's speech (its 95th
percentile energy, zero-phase smoothing, phrase starts) before placing a blink; live, speech
activity comes from a causally smoothed energy against a slowly falling peak, and a phrase
start is known when it happens. Blink timing (a gamma renewal process on the emotion- and
speech-scaled rate, refractory time, no blink starting in a lip seal, blinks at phrase starts
and emotion changes), blink shape and fixation/saccade gaze are the same. The head comes from
the network, as in the neural engine's file path, so there is no head part here.
"""

from __future__ import annotations

import math

import numpy as np

from emosync.inference.life import (
    BLINK_PITCH,
    BLINK_REFRACTORY,
    BLINK_SHAPE,
    BLINKS_PER_MINUTE,
    EMOTION_CHANGE,
    SEALED,
    SPEAKING_BLINK_BOOST,
    TRIGGER_CHANCE,
    LifeSettings,
    _add_blink,
    _next_fixation,
    _rng,
    blink_rate_factor,
    look_blendshapes,
)
from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES, ROTATION_NAMES
from emosync.rigs.emotions import EMOTIONS

_BLINKS = [ARKIT_NAMES.index("eyeBlinkLeft"), ARKIT_NAMES.index("eyeBlinkRight")]
_EYES = [ROTATION_NAMES.index(n) for n in ("leftEyeYaw", "leftEyePitch")]
_EYES_R = [ROTATION_NAMES.index(n) for n in ("rightEyeYaw", "rightEyePitch")]
_FEAR, _SAD = EMOTIONS.index("fear"), EMOTIONS.index("sad")
SILENT_DB = -55.0  # as analyse_speech: below this the peak counts as silence
PEAK_FALL_DB = 0.6  # per second: the speech reference forgets a loud moment in about a minute


class LiveLife:
    """Call `block` with each new run of frames' energy, lip seal and emotion states."""

    def __init__(self, fps: float, settings: LifeSettings | None = None, seed: int = 0) -> None:
        self.fps = float(fps)
        self.settings = settings or LifeSettings()
        self._blink_rng, self._gaze_rng = _rng(seed, 1), _rng(seed, 2)
        rng = self._blink_rng
        self.frame = 0
        self._refractory = max(1, round(BLINK_REFRACTORY * self.fps))
        self._last_blink = -self._refractory - round(rng.uniform(0.0, 3.0) * self.fps)
        self._clock = 0.0
        self._due = -rng.uniform(0.0, 1.0) + rng.gamma(BLINK_SHAPE, 1.0 / BLINK_SHAPE)
        self._lid = np.zeros(round(0.5 * self.fps) + 4)  # the lid closure ahead, from now
        self._triggers: list[int] = []
        lag = max(1, round(0.3 * self.fps))
        self._history = np.zeros((lag, len(EMOTIONS)))  # states of the last 0.3 s
        self._changing = False
        self._smooth_db = -100.0
        self._peak_db = -100.0
        self._voiced_run = 0
        self._quiet_run = round(0.3 * self.fps)  # the stream starts after a pause
        self._gaze = np.zeros(2)
        self._saccade: list[np.ndarray] = []
        self._hold_end = 0

    def block(
        self, energy_db: np.ndarray, seal: np.ndarray, states: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The next k frames, given each frame's energy (dB), lip seal and emotion state:
        (blend [k × 52] with eyeBlink* and eyeLook*, rotations [k × 9] with the eyes')."""
        k = len(energy_db)
        blink, yaw, pitch = np.zeros(k), np.zeros(k), np.zeros(k)
        for i in range(k):
            state = np.asarray(states[i], np.float64)
            activity = self._activity(float(energy_db[i]))
            if self.settings.blink > 0:
                blink[i] = self._blink(activity, float(seal[i]), state)
            if self.settings.gaze > 0:
                yaw[i], pitch[i] = self._look(state)
                pitch[i] += 0.06 * min(max(state[_SAD], 0.0), 1.5) + BLINK_PITCH * blink[i]
            self.frame += 1
        yaw, pitch = self.settings.gaze * yaw, self.settings.gaze * pitch
        blend = np.zeros((k, N_BLENDSHAPES))
        if self.settings.gaze > 0:
            blend += look_blendshapes(yaw, pitch)
        blend[:, _BLINKS] = blink[:, None]
        rotations = np.zeros((k, len(ROTATION_NAMES)))
        rotations[:, _EYES] = rotations[:, _EYES_R] = np.stack([yaw, pitch], axis=1)
        return blend.astype(np.float32), rotations.astype(np.float32)

    # --- speech --------------------------------------------------------------------------

    def _activity(self, energy_db: float) -> float:
        """Speech activity 0..1 (analyse_speech's rule against a causal reference) and phrase
        starts (voice after 0.3 s without), which may trigger a blink."""
        alpha = 1.0 - math.exp(-1.0 / (0.03 * self.fps))  # ~60 ms smoothing, causal
        self._smooth_db += alpha * (max(energy_db, -100.0) - self._smooth_db)
        self._peak_db = max(self._smooth_db, self._peak_db - PEAK_FALL_DB / self.fps)
        ref = self._peak_db
        activity = min(max((self._smooth_db - (ref - 35.0)) / 20.0, 0.0), 1.0)
        activity *= float(ref >= SILENT_DB)
        if activity > 0.5:
            if self._quiet_run >= round(0.3 * self.fps) and self._voiced_run == 0:
                self._maybe_trigger()
            self._voiced_run += 1
            self._quiet_run = 0
        else:
            self._quiet_run += 1
            if self._quiet_run > round(0.25 * self.fps):
                self._voiced_run = 0
        return activity

    # --- blinks --------------------------------------------------------------------------

    def _maybe_trigger(self) -> None:
        rng = self._blink_rng
        if rng.uniform() < min(1.0, TRIGGER_CHANCE * self.settings.blink):
            delay = int(rng.integers(0, max(1, round(0.08 * self.fps)) + 1))
            self._triggers.append(self.frame + delay)

    def _blink(self, activity: float, seal: float, state: np.ndarray) -> float:
        rate = BLINKS_PER_MINUTE / 60.0 * self.settings.blink
        rate *= float(blink_rate_factor(state[None])[0]) * (1.0 + SPEAKING_BLINK_BOOST * activity)
        self._clock += rate / self.fps
        change = float(np.linalg.norm(state - self._history[self.frame % len(self._history)]))
        self._history[self.frame % len(self._history)] = state
        rising = change >= EMOTION_CHANGE and not self._changing
        self._changing = change >= EMOTION_CHANGE
        if rising and self.frame >= len(self._history):
            self._maybe_trigger()
        ready = self.frame >= self._last_blink + self._refractory
        triggered = any(t <= self.frame for t in self._triggers)
        if ready and (self._clock >= self._due or triggered) and seal <= SEALED:
            _add_blink(self._lid, 0, self.fps, self._blink_rng)
            self._last_blink = self.frame
            self._due = self._clock + self._blink_rng.gamma(BLINK_SHAPE, 1.0 / BLINK_SHAPE)
            self._triggers = []
        elif ready:
            self._triggers = [t for t in self._triggers if t >= self.frame - self._refractory]
        value = float(self._lid[0])
        self._lid = np.concatenate([self._lid[1:], [0.0]])
        return value

    # --- gaze ----------------------------------------------------------------------------

    def _look(self, state: np.ndarray) -> tuple[float, float]:
        """Fixations of 0.3-2 s joined by 1-3 frame saccades (inference.life.gaze_track)."""
        if self._saccade:
            self._gaze = self._saccade.pop(0)
        elif self.frame >= self._hold_end:
            if self.frame > 0:  # the fixation is over: jump, then hold the new one
                target = _next_fixation(self._gaze, self._gaze_rng)
                dist = float(np.linalg.norm(target - self._gaze))
                steps = int(np.clip(round((0.021 + 0.13 * dist) * self.fps), 1, 3))
                path = []
                for j in range(1, steps + 1):
                    u = j / steps
                    path.append(self._gaze + u * u * (3.0 - 2.0 * u) * (target - self._gaze))
                self._gaze = path[0]
                self._saccade = path[1:]
                start = self.frame + steps
            else:
                start = 0
            pace = 1.0 - 0.35 * min(state[_FEAR], 1.0) + 0.3 * min(state[_SAD], 1.0)
            hold = float(np.clip(self._gaze_rng.lognormal(math.log(0.75), 0.5) * pace, 0.3, 2.0))
            self._hold_end = start + max(1, round(hold * self.fps))
        return float(self._gaze[0]), float(self._gaze[1])
