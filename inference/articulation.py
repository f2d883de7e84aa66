"""The phonetic articulation model: timed phones -> ARKit-52 mouth, jaw and tongue weights.

Continuous articulators (jaw, lip rounding/spreading, lip raising/lowering, tongue, rest
closure) follow a Cohen-Massaro coarticulation model: every phone pulls each articulator
towards its target with a dominance that is flat over the phone and falls off as a Gaussian
before and after it, and the articulator takes the dominance-weighted mean of all targets. The
jaw and the lips have their own dominances and reaches, so lip rounding is planned over
preceding consonants while the jaw follows the vowels.

Contacts are not averaged away: each P/B/M raises a seal pulse and each F/V a lip-to-teeth pulse
that reach full strength on at least the frame nearest the phone's centre, however short the
phone or low the frame rate. A sealed frame has mouthClose equal to jawOpen and no lip-parting
shape, which is what rigs.mouth.lip_gap calls sealed.

Everything is evaluated at frame times in continuous time, so 24, 30 and 60 fps sample the same
curves. Emotion (per frame, rigs.emotions order) reshapes the speech movements; it never touches
the seal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emosync.errors import InputError
from emosync.inference import phone_targets as vz
from emosync.inference.timed_phones import Alignment
from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES
from emosync.rigs.emotions import EMOTIONS, MAX_INTENSITY, N_EMOTIONS
from emosync.rigs.phonemes import BILABIAL, LABIODENTAL, SILENCE, normalise_phone

SPEECH_CHANNELS: tuple[str, ...] = tuple(
    n for n in ARKIT_NAMES if n.startswith(("jaw", "mouth")) or n in ("tongueOut", "cheekPuff")
)
SEAL_DEMAND = 0.5  # seal at or above this means the lips must be fully closed
SEAL_RAMP = 0.045  # seconds for the lips to close into / open out of a P B M
LABIO_RAMP = 0.045  # seconds for the lower lip to reach / leave the teeth
_RAMP_SHARE = 0.6  # a contact's ramp takes at most this share of the neighbouring phone
_MIN_RAMP = 0.015
_REACH_CUTOFF = 3.5  # Gaussian widths after which a phone's dominance is ignored (e^-12)
_PAD = 1.0  # seconds of rest assumed before the first and after the last phone
_BLEND_SEGMENTS = 2048  # phones whose dominance windows are summed per step in _blend
_ARKIT_ROWS = 16384  # frames turned into ARKit weights per step

_I = {n: i for i, n in enumerate(ARKIT_NAMES)}
_E = {n: i for i, n in enumerate(EMOTIONS)}


@dataclass
class Articulation:
    """Speech movements for a clip. `weights` [frames × 52] uses only SPEECH_CHANNELS; `seal`
    [frames] in [0, 1] is how strongly a bilabial closure is demanded; `labiodental` [frames]
    how strongly the lower lip is held to the upper teeth; `speech` [frames] is 1 while
    speaking and 0 in pauses (None when unknown)."""

    weights: np.ndarray
    seal: np.ndarray
    labiodental: np.ndarray
    speech: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.weights.shape[0])


def smoothstep(x: np.ndarray) -> np.ndarray:
    """The cubic 0 -> 1 ease of x clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def closure_from_seal(seal: np.ndarray) -> np.ndarray:
    """How far the lips are pressed together for a seal demand: fully at SEAL_DEMAND and above,
    easing in smoothly below it."""
    return smoothstep(np.asarray(seal, dtype=np.float64) / SEAL_DEMAND)


# --- segments ------------------------------------------------------------------------------


@dataclass
class _Segments:
    label: np.ndarray  # int index into phone_targets.LABELS
    start: np.ndarray  # seconds
    end: np.ndarray


def _clean_phones(alignment: Alignment) -> list[tuple[str, float, float]]:
    """Normalised, sorted, gap-free phones with consecutive pauses merged and rest padding."""
    raw = sorted(
        ((normalise_phone(s.label), float(s.start), float(s.end)) for s in alignment.phones),
        key=lambda p: p[1],
    )
    out: list[tuple[str, float, float]] = []
    t = raw[0][1] - _PAD if raw else -_PAD
    for label, raw_start, raw_end in raw:
        if not (math.isfinite(raw_start) and math.isfinite(raw_end)):
            raise InputError(f"phone {label} has a non-finite time")
        start = max(raw_start, t)
        end = max(raw_end, start)
        if start > t + 1e-9:
            out.append((SILENCE, t, start))
        out.append((label, start, end))
        t = end
    out.append((SILENCE, t, t + _PAD))
    merged: list[tuple[str, float, float]] = []
    for label, start, end in out:
        if merged and label == SILENCE and merged[-1][0] == SILENCE:
            merged[-1] = (SILENCE, merged[-1][1], end)
        else:
            merged.append((label, start, end))
    return merged


def _segments(phones: list[tuple[str, float, float]], until: float) -> _Segments:
    """Blend segments: diphthongs split into onset and glide; the final pause runs to `until`."""
    labels, starts, ends = [], [], []
    for k, (label, start, phone_end) in enumerate(phones):
        end = max(phone_end, until) if k == len(phones) - 1 else phone_end
        if label in vz.DIPHTHONGS:
            glide, frac = vz.DIPHTHONGS[label]
            mid = start + frac * (end - start)
            labels += [label, glide]
            starts += [start, mid]
            ends += [mid, end]
        else:
            labels.append(label)
            starts.append(start)
            ends.append(end)
    return _Segments(
        np.array([vz.LABEL_INDEX[x] for x in labels], dtype=np.int64),
        np.array(starts, dtype=np.float64),
        np.array(ends, dtype=np.float64),
    )


def _window_pairs(
    lo: np.ndarray, hi: np.ndarray, fps: float, n_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """(segment, frame) index pairs for every frame whose time lies in [lo, hi] of a segment."""
    first = np.clip(np.ceil(lo * fps - 1e-9), 0, n_frames).astype(np.int64)
    last = np.clip(np.floor(hi * fps + 1e-9) + 1, 0, n_frames).astype(np.int64)
    counts = np.maximum(last - first, 0)
    seg = np.repeat(np.arange(len(lo)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return seg, np.repeat(first, counts) + offsets


# --- the coarticulation blend ----------------------------------------------------------------


def _blend(segs: _Segments, reach_scale: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """Dominance-weighted articulator values [frames × phone_targets.N_PARAMS]."""
    target = vz.TARGET[segs.label]
    dominance = vz.DOMINANCE[segs.label].copy()
    pause = segs.label == vz.LABEL_INDEX[SILENCE]
    duration = segs.end - segs.start
    dominance[pause] *= vz.silence_dominance(duration[pause])[:, None]
    open_vowel = np.isin(segs.label, [vz.LABEL_INDEX[x] for x in vz.OPEN_LABELS])
    dominance[open_vowel, vz.P["jaw"]] *= vz.short_vowel_boost(duration[open_vowel])
    before = vz.REACH_BEFORE[segs.label] * reach_scale[:, None]
    after = vz.REACH_AFTER[segs.label] * reach_scale[:, None]

    lo = segs.start - _REACH_CUTOFF * before.max(axis=1)
    hi = segs.end + _REACH_CUTOFF * after.max(axis=1)
    rest = vz.TARGET[vz.LABEL_INDEX[SILENCE]]
    num = np.zeros((n_frames, vz.N_PARAMS))
    den = np.zeros((n_frames, vz.N_PARAMS))
    # segments a block at a time: the (segment, frame) pairs of a long clip would take
    # hundreds of MB at once (an hour has ~40k phones, each reaching ~25 frames)
    for s0 in range(0, len(lo), _BLEND_SEGMENTS):
        seg, frame = _window_pairs(
            lo[s0 : s0 + _BLEND_SEGMENTS], hi[s0 : s0 + _BLEND_SEGMENTS], fps, n_frames
        )
        seg += s0
        t = frame / fps
        z = (
            np.maximum(segs.start[seg] - t, 0.0)[:, None] / before[seg]
            + np.maximum(t - segs.end[seg], 0.0)[:, None] / after[seg]
        )
        dom = dominance[seg] * np.exp(-z * z)
        for p in range(vz.N_PARAMS):
            num[:, p] += np.bincount(frame, dom[:, p] * target[seg, p], minlength=n_frames)
            den[:, p] += np.bincount(frame, dom[:, p], minlength=n_frames)
    return (num + 1e-9 * rest) / (den + 1e-9)


def _pulses(
    start: np.ndarray,
    end: np.ndarray,
    peak: np.ndarray,
    ramp_in: np.ndarray,
    ramp_out: np.ndarray,
    fps: float,
    n_frames: int,
) -> np.ndarray:
    """Max of plateau pulses with raised-cosine ramps. Each plateau is widened to the frame
    nearest its phone's centre, so a phone shorter than a frame still reaches its peak."""
    out = np.zeros(n_frames)
    if len(start) == 0:
        return out
    centre_frame = np.round(0.5 * (start + end) * fps) / fps
    lo = np.minimum(start, centre_frame)
    hi = np.maximum(end, centre_frame)
    seg, frame = _window_pairs(lo - ramp_in, hi + ramp_out, fps, n_frames)
    t = frame / fps
    x = np.maximum(lo[seg] - t, 0.0) / ramp_in[seg] + np.maximum(t - hi[seg], 0.0) / ramp_out[seg]
    value = peak[seg] * 0.5 * (1.0 + np.cos(np.pi * np.clip(x, 0.0, 1.0)))
    np.maximum.at(out, frame, value)
    return out


# --- emotion ---------------------------------------------------------------------------------


def _emotion(emotion: np.ndarray | None, n_frames: int) -> np.ndarray:
    if emotion is None:
        return np.zeros((n_frames, N_EMOTIONS))
    e = np.asarray(emotion, dtype=np.float64)
    if e.shape != (n_frames, N_EMOTIONS):
        raise InputError(f"emotion must be [{n_frames} × {N_EMOTIONS}] per frame, got {e.shape}")
    if not np.all(np.isfinite(e)):
        raise InputError("emotion contains non-finite values")
    return np.clip(e, 0.0, MAX_INTENSITY)


def _at_frames(values: np.ndarray, times: np.ndarray, fps: float) -> np.ndarray:
    if len(values) == 0:
        return np.zeros((len(times), *values.shape[1:]))
    idx = np.clip(np.round(times * fps).astype(np.int64), 0, len(values) - 1)
    return values[idx]


def _reach_scale(e_seg: np.ndarray) -> np.ndarray:
    """Angry speech is sharper (shorter coarticulation), sad speech laxer (longer)."""
    return (1.0 + 0.2 * e_seg[:, _E["sad"]]) / (1.0 + 0.25 * e_seg[:, _E["angry"]])


# --- the model -------------------------------------------------------------------------------


def _check(n_frames: int, fps: float, strength: float) -> None:
    if int(n_frames) != n_frames or n_frames < 0:
        raise InputError(f"n_frames must be a non-negative integer, got {n_frames}")
    if not (math.isfinite(fps) and fps > 0):
        raise InputError(f"fps must be positive, got {fps}")
    if not (math.isfinite(strength) and strength >= 0):
        raise InputError(f"articulation strength must be >= 0, got {strength}")


def _contacts(
    phones: list[tuple[str, float, float]], emo: np.ndarray, fps: float, n_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seal, cheek-puff and lip-to-teeth pulses per frame. A contact ramps in and out within
    its neighbours, so a short vowel between two B's still opens the lips."""
    dur = np.array([e - s for _, s, e in phones])
    before = np.concatenate([[np.inf], dur[:-1]])
    after = np.concatenate([dur[1:], [np.inf]])

    def pulses(kind: frozenset[str], base: float, peak: dict[str, float] | None) -> np.ndarray:
        k = np.array([i for i, (p, _, _) in enumerate(phones) if p in kind], dtype=np.int64)
        start = np.array([phones[i][1] for i in k], dtype=np.float64)
        end = np.array([phones[i][2] for i in k], dtype=np.float64)
        height = np.array([1.0 if peak is None else peak[phones[i][0]] for i in k])
        angry = _at_frames(emo, start, fps)[:, _E["angry"]]
        ramp = base / (1.0 + 0.25 * angry)  # angry contacts are sharper
        ramp_in = np.maximum(np.minimum(ramp, _RAMP_SHARE * before[k]), _MIN_RAMP)
        ramp_out = np.maximum(np.minimum(ramp, _RAMP_SHARE * after[k]), _MIN_RAMP)
        return _pulses(start, end, height, ramp_in, ramp_out, fps, n_frames)

    seal = pulses(BILABIAL, SEAL_RAMP, None)
    cheek = pulses(BILABIAL, SEAL_RAMP, vz.BILABIAL_PUFF)
    labio = pulses(LABIODENTAL, LABIO_RAMP, None)
    return seal, cheek, labio


def articulate(
    alignment: Alignment,
    n_frames: int,
    fps: float,
    emotion: np.ndarray | None = None,
    strength: float = 1.0,
) -> Articulation:
    """ARKit-52 speech weights for timed phones. Frame i is at time i / fps. `emotion` is
    [n_frames × 7] in rigs.emotions order (0..1.5, zeros = neutral); `strength` scales the
    movements (1 = natural) but never weakens a P/B/M seal."""
    _check(n_frames, fps, strength)
    n_frames = int(n_frames)
    emo = _emotion(emotion, n_frames)
    phones = _clean_phones(alignment)
    segs = _segments(phones, until=n_frames / fps + _PAD)
    centres = 0.5 * (segs.start + segs.end)
    params = _blend(segs, _reach_scale(_at_frames(emo, centres, fps)), fps, n_frames)
    seal, cheek, labio = _contacts(phones, emo, fps, n_frames)
    weights = np.empty((n_frames, N_BLENDSHAPES), np.float32)
    for a in range(0, n_frames, _ARKIT_ROWS):  # frame by frame: small float64 blocks
        r = slice(a, a + _ARKIT_ROWS)
        weights[r] = _to_arkit(params[r], seal[r], cheek[r], labio[r], emo[r], strength)
    return Articulation(
        weights=weights,
        seal=seal.astype(np.float32),
        labiodental=labio.astype(np.float32),
        speech=np.clip(params[:, vz.P["speech"]], 0.0, 1.0).astype(np.float32),
    )


def _to_arkit(
    params: np.ndarray,
    seal: np.ndarray,
    cheek: np.ndarray,
    labio: np.ndarray,
    emo: np.ndarray,
    strength: float,
) -> np.ndarray:
    """Articulator values, contacts and emotion -> [frames × 52] ARKit weights."""
    a, c, d, f, h, s, u = (emo[:, _E[name]] for name in EMOTIONS)
    speech = np.clip(params[:, vz.P["speech"]], 0.0, 1.0)

    def p(name: str) -> np.ndarray:
        return params[:, vz.P[name]]

    # emotion reshapes the movement: sad moves less and laxer, surprise opens more,
    # happy and fear spread the lips, angry presses, disgust raises the upper lip
    jaw_scale = np.clip(1 + 0.05 * a - 0.1 * c + 0.2 * u - 0.3 * s + 0.05 * f, 0.4, 1.5)
    lax = np.clip(1 - 0.2 * s, 0.5, 1.0)
    jaw = p("jaw") * jaw_scale
    funnel = p("funnel") * lax / (1 + 0.3 * h)
    pucker = p("pucker") * lax / (1 + 0.6 * h)
    spread = p("spread") * lax + speech * (0.2 * h + 0.25 * f)
    lower = p("lower") * lax + speech * (0.1 * f + 0.08 * u)
    upper = p("upper") * lax + speech * (0.25 * d + 0.08 * a)
    smile = speech * 0.2 * h
    press = speech * 0.3 * a

    seal_closure = closure_from_seal(seal)
    closure = np.maximum(seal_closure, np.clip(p("close"), 0.0, 1.0))
    open_lips = 1.0 - closure

    w = np.zeros((len(params), N_BLENDSHAPES))

    def put(name: str, value: np.ndarray) -> None:
        w[:, _I[name]] = value

    put("jawOpen", jaw)
    put("mouthFunnel", funnel * open_lips)
    put("mouthPucker", pucker)
    for side in ("Left", "Right"):
        put(f"mouthStretch{side}", 0.5 * spread)
        put(f"mouthDimple{side}", 0.1 * spread)
        put(f"mouthSmile{side}", smile)
        put(f"mouthPress{side}", 0.3 * seal_closure + press)
        put(f"mouthLowerDown{side}", lower * open_lips * (1.0 - labio))
        put(f"mouthUpperUp{side}", (upper + 0.12 * labio) * open_lips)
    # contempt is one-sided: the left upper lip lifts a little while speaking
    w[:, _I["mouthUpperUpLeft"]] += 0.1 * speech * c * open_lips
    put("mouthRollLower", 0.55 * labio + 0.1 * seal_closure)
    put("mouthRollUpper", 0.08 * seal_closure)
    put("tongueOut", np.clip(p("tongue"), 0.0, None))
    put("cheekPuff", cheek)
    w *= strength
    w = np.clip(w, 0.0, 1.0)
    # mouthClose is authored against jawOpen: equal values bring the lips together
    w[:, _I["mouthClose"]] = closure * w[:, _I["jawOpen"]]
    return w.astype(np.float32)
