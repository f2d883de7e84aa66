"""Life: blinks, eye saccades and head motion, so a talking face never looks like a puppet.

Everything is deterministic from the seed (each part draws from its own stream, so turning one
off does not change the others) and driven by the speech energy, the lip seal and the emotion
track. Rotation signs follow ARKit's face frame (x toward the subject's left, y up, z out of
the face) with the right-hand rule: yaw > 0 turns toward the subject's left, pitch > 0 tips the
nose (or the gaze) down, roll > 0 tilts the top of the head toward the subject's right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emosync.errors import InputError
from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES, ROTATION_NAMES
from emosync.rigs.emotions import EMOTIONS, N_EMOTIONS

_B = {n: i for i, n in enumerate(ARKIT_NAMES)}
_R = {n: i for i, n in enumerate(ROTATION_NAMES)}
_E = {n: i for i, n in enumerate(EMOTIONS)}

MAX_GAIN = 3.0

# Blinks
BLINKS_PER_MINUTE = 14.0  # at rest; speaking raises it (below)
SPEAKING_BLINK_BOOST = 0.15
BLINK_SHAPE = 2.5  # gamma shape of the intervals: irregular, but rarely back to back
BLINK_REFRACTORY = 0.6  # s between blink starts at least
SEALED = 0.5  # no blink starts while the lip seal is above this
TRIGGER_CHANCE = 0.5  # of a blink at a phrase start or an emotion change
EMOTION_CHANGE = 0.35  # change of the emotion vector within 0.3 s that counts as a change

# Gaze
LOOK_YAW_RANGE = 0.6  # rad of eye yaw that an eyeLookIn/Out weight of 1 stands for
LOOK_PITCH_RANGE = 0.5  # rad of eye pitch for eyeLookUp/Down = 1
MAX_GAZE = (0.12, 0.08)  # |yaw|, |pitch| of a fixation, rad
MAX_SACCADE = 0.12  # rad, the largest jump between fixations
BLINK_PITCH = 0.05  # rad the eyes roll down at full lid closure

# Head
HEAD_LIMIT = 0.15  # rad, soft bound on every head angle
NOD = 0.04  # rad of pitch for the strongest stressed syllable
SAD_PITCH = 0.07  # rad the head drops at full sadness
HEAD_ROWS = 65536  # frames of head motion made per step


@dataclass
class LifeSettings:
    """Gains of the three parts; 0 turns a part off. `blink` scales the blink rate (blinks are
    always full closures), `gaze` and `head` scale the motion."""

    blink: float = 1.0
    gaze: float = 1.0
    head: float = 1.0

    def __post_init__(self) -> None:
        for name in ("blink", "gaze", "head"):
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{name} gain must be a number, got {value!r}") from None
            if not math.isfinite(value) or not 0.0 <= value <= MAX_GAIN:
                raise InputError(f"{name} gain must be between 0 and {MAX_GAIN:g}, got {value}")
            setattr(self, name, value)


@dataclass
class Life:
    """Life's tracks for a clip, kept compact (a few numbers per frame): `rows(a, b)` gives the
    blendshape and rotation rows of frames a..b-1, `blend` and `rotations` the whole clip."""

    n_frames: int
    blink: np.ndarray | None  # [F] lid closure (float32), None with blinks off
    gaze: tuple[np.ndarray, np.ndarray] | None  # eye yaw, pitch [F] each, None with gaze off
    head: np.ndarray | None  # [F × 3] yaw, pitch, roll (float32), None with the head off

    def rows(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Frames a..b-1: blendshapes [k × 52] float32 (eyeBlink*, eyeLook*; zero elsewhere)
        and rotations [k × 9] float32 radians (ROTATION_NAMES order)."""
        b = min(b, self.n_frames)
        k = max(0, b - a)
        blend = np.zeros((k, N_BLENDSHAPES), dtype=np.float32)
        rotations = np.zeros((k, len(ROTATION_NAMES)), dtype=np.float64)
        if self.blink is not None:
            blend[:, _B["eyeBlinkLeft"]] = blend[:, _B["eyeBlinkRight"]] = self.blink[a:b]
        if self.gaze is not None:
            yaw, pitch = self.gaze[0][a:b], self.gaze[1][a:b]
            for side in ("left", "right"):
                rotations[:, _R[f"{side}EyeYaw"]] = yaw
                rotations[:, _R[f"{side}EyePitch"]] = pitch
            for name, weight in look_weights(yaw, pitch).items():
                blend[:, _B[name]] += weight
        if self.head is not None:
            rotations[:, :3] = self.head[a:b]
        return blend, rotations.astype(np.float32)

    @property
    def blend(self) -> np.ndarray:
        """[F × 52] float32: eyeBlink*, eyeLook*; zero elsewhere."""
        return self.rows(0, self.n_frames)[0]

    @property
    def rotations(self) -> np.ndarray:
        """[F × 9] float32 radians, ROTATION_NAMES order."""
        return self.rows(0, self.n_frames)[1]


@dataclass
class Speech:
    """What life reads from the audio: activity 0..1, phrase starts, stressed-syllable peaks."""

    activity: np.ndarray  # [F]
    phrase_starts: np.ndarray  # frame indices
    peaks: np.ndarray  # frame indices
    peak_strength: np.ndarray  # 0..1 per peak


def life_frames(
    n_frames: int,
    fps: float,
    energy_db: np.ndarray,
    seal: np.ndarray,
    emotion: np.ndarray,
    settings: LifeSettings | None = None,
    seed: int = 0,
) -> Life:
    """Blinks, gaze and head motion for a clip of `n_frames` at `fps`.

    `energy_db`: speech energy per frame (dBFS); `seal`: lip seal per frame (0 open .. 1
    sealed, e.g. during a bilabial); `emotion`: per-frame emotion states [F × 7], or one state
    held throughout ([7] or [1 × 7]: read for every frame without a whole-clip copy).
    """
    settings = settings or LifeSettings()
    n = int(n_frames)
    energy = _track(energy_db, n, "energy_db")
    seal_track = _track(seal, n, "seal")
    states = np.asarray(emotion, dtype=np.float64)
    if states.ndim == 1:
        states = states[None]
    if states.shape not in ((n, N_EMOTIONS), (1, N_EMOTIONS)):
        raise ValueError(f"emotion must be [{n} × {N_EMOTIONS}], got {states.shape}")
    speech = analyse_speech(energy, fps)
    del energy

    blink = gaze = head = None
    if settings.blink > 0:
        blink = blink_track(n, fps, seal_track, states, speech, settings.blink, _rng(seed, 1))
    del seal_track
    if settings.gaze > 0:
        closed = blink if blink is not None else np.zeros(n)
        gaze = gaze_track(n, fps, states, closed, settings.gaze, _rng(seed, 2))
    if settings.head > 0:
        head = head_track(n, fps, states, speech, settings.head, _rng(seed, 3))
    # kept as float32 where Life.rows uses them as float32 anyway (the same numbers)
    return Life(n, None if blink is None else blink.astype(np.float32), gaze, head)


# --- speech -----------------------------------------------------------------------------------


def analyse_speech(energy_db: np.ndarray, fps: float, silent_db: float = -55.0) -> Speech:
    """Activity, phrase starts (speech after a pause of 0.3 s or more) and energy peaks."""
    e = np.asarray(energy_db, dtype=np.float64)
    n = e.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Speech(np.zeros(0), empty, empty, np.zeros(0))
    smooth = _smooth(e, max(1, round(0.06 * fps)))
    ref = float(np.percentile(smooth, 95))
    activity = np.clip((smooth - (ref - 35.0)) / 20.0, 0.0, 1.0) * float(ref >= silent_db)
    voiced = _fill_gaps(activity > 0.5, round(0.25 * fps))
    starts = np.flatnonzero(voiced & ~np.concatenate([[False], voiced[:-1]]))
    pause = round(0.3 * fps)
    starts = np.array([s for s in starts if s == 0 or not voiced[max(0, s - pause) : s].any()])
    peaks, strength = _energy_peaks(smooth, activity, ref, fps)
    return Speech(activity, starts.astype(np.int64), peaks, strength)


def _energy_peaks(
    smooth: np.ndarray, activity: np.ndarray, ref: float, fps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Stressed syllables: local energy maxima 6 dB above their surroundings, 0.2 s apart."""
    near = max(1, round(0.12 * fps))
    around = max(2, round(0.25 * fps))
    local_max = _window(smooth, near, np.max)
    local_min = _window(smooth, around, np.min)
    is_peak = (smooth >= local_max) & (smooth - local_min >= 6.0) & (activity > 0.5)
    candidates = np.flatnonzero(is_peak)
    kept: list[int] = []
    for i in candidates:  # plateaus give runs of equal maxima: keep the first of each
        if not kept or i - kept[-1] >= round(0.2 * fps):
            kept.append(int(i))
    peaks = np.array(kept, dtype=np.int64)
    strength = np.clip((smooth[peaks] - (ref - 20.0)) / 20.0, 0.2, 1.0) if kept else np.zeros(0)
    return peaks, strength


# --- blinks -----------------------------------------------------------------------------------


def blink_rate_factor(states: np.ndarray) -> np.ndarray:
    """Emotion's effect on the blink rate: fear and anger raise it, sadness slows it."""
    s = np.asarray(states, dtype=np.float64)
    f = (
        1.0
        + 0.5 * s[:, _E["fear"]]
        + 0.35 * s[:, _E["angry"]]
        + 0.1 * s[:, _E["disgusted"]]
        - 0.35 * s[:, _E["sad"]]
        - 0.15 * s[:, _E["surprised"]]
    )
    return np.clip(f, 0.4, 2.5)


def blink_track(
    n: int,
    fps: float,
    seal: np.ndarray,
    states: np.ndarray,
    speech: Speech,
    gain: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Lid closure per frame (both eyes), full closures, none starting in a lip seal."""
    rate = BLINKS_PER_MINUTE / 60.0 * gain * blink_rate_factor(states)
    rate = rate * (1.0 + SPEAKING_BLINK_BOOST * speech.activity)
    clock = np.concatenate([[0.0], np.cumsum(rate) / fps])  # expected blinks before frame i
    triggers = _blink_triggers(states, speech, fps, gain, rng)
    refractory = max(1, round(BLINK_REFRACTORY * fps))
    out = np.zeros(n)
    frame = -refractory - round(rng.uniform(0.0, 3.0) * fps)  # as if one happened before
    last_clock = clock[0] - rng.uniform(0.0, 1.0)
    while True:
        due = last_clock + rng.gamma(BLINK_SHAPE, 1.0 / BLINK_SHAPE)
        natural = int(np.searchsorted(clock, due))
        nxt = max(natural, frame + refractory)
        later = triggers[triggers >= frame + refractory]
        if later.size and later[0] < nxt:
            nxt = int(later[0])
        while nxt < n and seal[nxt] > SEALED:
            nxt += 1
        if nxt >= n:
            break
        _add_blink(out, nxt, fps, rng)
        frame, last_clock = nxt, clock[nxt]
    return out


def _blink_triggers(
    states: np.ndarray, speech: Speech, fps: float, gain: float, rng: np.random.Generator
) -> np.ndarray:
    """Frames where a blink is likely: phrase starts and large emotion changes."""
    lag = max(1, round(0.3 * fps))
    change = np.zeros(len(states))  # a held state (one row) never changes
    if len(states) > lag:
        change[lag:] = np.linalg.norm(states[lag:] - states[:-lag], axis=1)
    rising = (change >= EMOTION_CHANGE) & (np.concatenate([[0.0], change[:-1]]) < EMOTION_CHANGE)
    events = np.union1d(speech.phrase_starts, np.flatnonzero(rising))
    chance = min(1.0, TRIGGER_CHANCE * gain)
    keep = rng.uniform(size=events.size) < chance
    delay = rng.integers(0, max(1, round(0.08 * fps)) + 1, size=events.size)
    return np.sort(events[keep] + delay[keep]).astype(np.int64)


def _add_blink(out: np.ndarray, start: int, fps: float, rng: np.random.Generator) -> None:
    """One blink from frame `start`: close 100-150 ms, a short hold, open 150-250 ms."""
    close = max(1, round(rng.uniform(0.10, 0.15) * fps))
    hold = round(rng.uniform(0.0, 0.04) * fps)
    opening = max(2, round(rng.uniform(0.15, 0.25) * fps))
    down = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, close + 1) / close)
    up = 0.5 + 0.5 * np.cos(np.pi * np.arange(1, opening + 1) / opening)
    curve = np.concatenate([down, np.ones(hold), up])
    end = min(out.size, start + curve.size)
    out[start:end] = np.maximum(out[start:end], curve[: end - start])


# --- gaze -------------------------------------------------------------------------------------


def gaze_track(
    n: int,
    fps: float,
    states: np.ndarray,
    blink: np.ndarray,
    gain: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Conjugate eye yaw and pitch [F] each: fixations of 0.3-2 s joined by 1-3 frame saccades,
    with the eyes rolling slightly down during blinks and a downcast gaze when sad."""
    yaw, pitch = np.zeros(n), np.zeros(n)
    fear, sad = states[:, _E["fear"]], states[:, _E["sad"]]
    last = len(states) - 1  # one row: a state held throughout
    pos = np.zeros(2)
    frame = 0
    while frame < n:
        row = min(frame, last)
        pace = 1.0 - 0.35 * min(fear[row], 1.0) + 0.3 * min(sad[row], 1.0)
        hold = float(np.clip(rng.lognormal(math.log(0.75), 0.5) * pace, 0.3, 2.0))
        end = min(n, frame + max(1, round(hold * fps)))
        yaw[frame:end], pitch[frame:end] = pos
        if end >= n:
            break
        target = _next_fixation(pos, rng)
        steps = int(np.clip(round((0.021 + 0.13 * np.linalg.norm(target - pos)) * fps), 1, 3))
        for j in range(1, steps + 1):
            u = j / steps
            w = u * u * (3.0 - 2.0 * u)
            if end + j - 1 < n:
                yaw[end + j - 1], pitch[end + j - 1] = pos + w * (target - pos)
        pos = target
        frame = end + steps
    pitch = pitch + 0.06 * np.clip(sad, 0.0, 1.5) + BLINK_PITCH * blink
    return gain * yaw, gain * pitch


def _next_fixation(pos: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.uniform() < 0.35:  # back to the listener
        target = rng.normal(0.0, 0.012, size=2)
    else:
        target = rng.normal(0.0, 1.0, size=2) * np.array([0.06, 0.035])
    target = np.clip(target, -np.array(MAX_GAZE), np.array(MAX_GAZE))
    jump = target - pos
    size = float(np.linalg.norm(jump))
    if size > MAX_SACCADE:
        target = pos + jump * (MAX_SACCADE / size)
    return target


def look_blendshapes(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """eyeLook* weights [F × 52] matching conjugate eye rotations (yaw > 0: toward the
    subject's left, so the left eye looks out and the right eye in; pitch > 0: down)."""
    weights = look_weights(yaw, pitch)
    out = np.zeros((next(iter(weights.values())).size, N_BLENDSHAPES))
    for name, weight in weights.items():
        out[:, _B[name]] = weight
    return out


def look_weights(yaw: np.ndarray, pitch: np.ndarray) -> dict[str, np.ndarray]:
    """The eight eyeLook* channels of look_blendshapes by name, each [F] float64."""
    yaw = np.asarray(yaw, dtype=np.float64).reshape(-1)
    pitch = np.asarray(pitch, dtype=np.float64).reshape(-1)
    left = np.clip(yaw / LOOK_YAW_RANGE, 0.0, 1.0)
    right = np.clip(-yaw / LOOK_YAW_RANGE, 0.0, 1.0)
    down = np.clip(pitch / LOOK_PITCH_RANGE, 0.0, 1.0)
    up = np.clip(-pitch / LOOK_PITCH_RANGE, 0.0, 1.0)
    return {
        "eyeLookOutLeft": left, "eyeLookInRight": left,
        "eyeLookInLeft": right, "eyeLookOutRight": right,
        "eyeLookDownLeft": down, "eyeLookDownRight": down,
        "eyeLookUpLeft": up, "eyeLookUpRight": up,
    }  # fmt: skip


# --- head -------------------------------------------------------------------------------------


def head_track(
    n: int,
    fps: float,
    states: np.ndarray,
    speech: Speech,
    gain: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Head yaw, pitch, roll [F × 3] float32: nods and tilts on stressed syllables, a pose per
    phrase, slow drift, a return toward centre in pauses, all smooth and within ±HEAD_LIMIT.
    The random draws come first (in one order), then the motion is made HEAD_ROWS frames at a
    time with enough frames on each side for its smoothing, so a long clip needs no whole-clip
    [F × 3] work arrays."""
    t_last = (n - 1) / fps if n else 0.0
    drift = [_knots(t_last, 1.2, rng) for _ in range(3)]
    run_starts, run_stops = _runs(speech.activity > 0.5)
    phrases = []
    for start in speech.phrase_starts:
        stop = run_stops[np.searchsorted(run_starts, start, side="right") - 1]
        phrases.append((int(start), int(stop), rng.normal(0.0, 1.0, size=3)))
    nods = []
    for peak, strength in zip(speech.peaks, speech.peak_strength, strict=True):
        tilt = rng.normal(0.0, 1.0, size=2) * np.array([0.012, 0.015])
        size = np.array([tilt[0], NOD * rng.uniform(0.6, 1.0), tilt[1]])
        nods.append((int(peak), float(strength), size))
    out = np.empty((n, 3), np.float32)
    margin = round(1.5 * fps) + 8  # more than every smoothing below reaches
    for a in range(0, n, HEAD_ROWS):
        b = min(n, a + HEAD_ROWS)
        lo, hi = max(0, a - margin), min(n, b + margin)
        motion = _head_motion(lo, hi, fps, states, speech, drift, phrases, nods)
        out[a:b] = HEAD_LIMIT * np.tanh(gain * motion[a - lo : b - lo] / HEAD_LIMIT)
    return out


def _head_motion(
    lo: int,
    hi: int,
    fps: float,
    states: np.ndarray,
    speech: Speech,
    drift_knots: list[tuple[np.ndarray, np.ndarray]],
    phrases: list[tuple[int, int, np.ndarray]],
    nods: list[tuple[int, float, np.ndarray]],
) -> np.ndarray:
    """head_track's smoothed motion on frames lo..hi-1 (right only away from the ends lo, hi
    that are not the clip's own)."""
    n = hi - lo
    t = np.arange(lo, hi) / fps
    s = states if len(states) == 1 else states[lo:hi]
    engaged = _smooth(speech.activity[lo:hi], max(1, round(0.8 * fps)))  # slow envelope

    drift = np.stack([_noise_at(t, 1.2, *knots) for knots in drift_knots], axis=1)
    drift *= np.array([0.025, 0.015, 0.012]) * (0.4 + 0.6 * engaged)[:, None]

    phrase = np.zeros((n, 3))
    for start, stop, pose in phrases:
        if start < hi and stop > lo:
            phrase[max(start, lo) - lo : min(stop, hi) - lo] = pose * np.array([0.04, 0.02, 0.025])
    phrase = _smooth(phrase, max(1, round(0.6 * fps)))

    bumps = np.zeros((n, 3))
    reach = round(0.35 * fps) + 1
    for peak, strength, size in nods:
        a, b = max(lo, peak - reach), min(hi, peak + reach)
        if a < b:
            bump = _bump(t[a - lo : b - lo], peak / fps - 0.05, 0.5)  # the head leads a little
            bumps[a - lo : b - lo] += bump[:, None] * strength * size

    liveliness = np.clip(
        1.0
        + 0.5 * s[:, _E["angry"]]
        + 0.4 * s[:, _E["surprised"]]
        + 0.2 * s[:, _E["happy"]]
        + 0.15 * s[:, _E["fear"]]
        - 0.35 * s[:, _E["sad"]],
        0.4,
        2.0,
    )
    bias = np.zeros((n, 3))
    bias[:, 1] = SAD_PITCH * s[:, _E["sad"]] - 0.03 * s[:, _E["contempt"]]
    bias[:, 1] -= 0.02 * s[:, _E["surprised"]] + 0.01 * s[:, _E["fear"]]
    bias[:, 2] = 0.025 * s[:, _E["contempt"]]
    motion = (drift + phrase + bumps) * liveliness[:, None] + bias
    return _smooth(motion, max(1, round(0.1 * fps)))


# --- helpers ----------------------------------------------------------------------------------


def _rng(seed: int, part: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, part])


def _track(values: np.ndarray, n: int, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size != n:
        raise ValueError(f"{name} has {v.size} frames, expected {n}")
    return np.nan_to_num(v, nan=0.0, neginf=-120.0 if name == "energy_db" else 0.0)


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Zero-phase Hann smoothing along the first axis, edges held (no pull toward zero)."""
    if width <= 1 or len(x) == 0:
        return np.asarray(x, dtype=np.float64)
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= kernel.sum()
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(len(x), -1)
    half = width // 2
    padded = np.pad(flat, ((half, width - 1 - half), (0, 0)), mode="edge")
    out = np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(flat.shape[1])])
    return out.T.reshape(x.shape)


def _window(x: np.ndarray, half: int, reduce) -> np.ndarray:
    padded = np.pad(x, half, mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return reduce(view, axis=1)


def _fill_gaps(mask: np.ndarray, max_gap: int) -> np.ndarray:
    """Close runs of False no longer than `max_gap` that have True on both sides."""
    out = mask.copy()
    starts, stops = _runs(~mask)
    for a, b in zip(starts, stops, strict=True):
        if a > 0 and b < mask.size and b - a <= max_gap:
            out[a:b] = True
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) frames of every run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _knots(
    t_last: float, spacing: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The knots (every `spacing` s, from before 0 to after `t_last`) and their N(0, 1) values
    of a smooth random curve (_noise_at)."""
    knots = np.arange(-spacing, t_last + 2 * spacing, spacing)
    return knots, rng.normal(0.0, 1.0, size=knots.size)


def _noise_at(t: np.ndarray, spacing: float, knots: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The smooth random curve through `values` at `knots`, at times `t`: cosine interpolation
    between knots, smooth without overshoot."""
    if t.size == 0:
        return np.zeros(0)
    k = np.clip(np.searchsorted(knots, t, side="right") - 1, 0, knots.size - 2)
    u = (t - knots[k]) / spacing
    w = 0.5 - 0.5 * np.cos(np.pi * u)
    return values[k] * (1.0 - w) + values[k + 1] * w


def _bump(t: np.ndarray, centre: float, width: float) -> np.ndarray:
    """A raised-cosine pulse of height 1 and total width `width` seconds."""
    u = (t - centre) / (width / 2.0)
    return np.where(np.abs(u) < 1.0, 0.5 + 0.5 * np.cos(np.pi * u), 0.0)
