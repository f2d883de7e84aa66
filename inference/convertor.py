"""The neural engine at run time: the convertor ONNX model, run on clips of any length and live.

The model (inference/assets/convertor.onnx, contract in its metadata) hears log-mel frames at
100 per second and gives 50 face frames per second: 52 ARKit weights, head yaw/pitch/roll and
phone logits. Output frame k sees mel frames up to 2k + 1 + lookahead_frames and back to
2k - left_context_frames, so a window of mel frames with that much context on each side gives
exactly the frames of a whole-clip run. Long clips run window by window (bounded memory); the
windows also overlap by OVERLAP_FRAMES that are crossfaded, so a model whose real reach is a
little longer than its metadata says still shows no seams. `NeuralStream` runs the same windows
on audio that arrives in pieces.

On top of the model: blinks and gaze from inference.life (the model predicts the head), and lip
seals where the model's phone posteriors say P, B or M (inference.compose.enforce_seal).
Transcripts are not used by this engine.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from emosync.errors import InputError
from emosync.inference.audio import SAMPLE_RATE, Audio
from emosync.inference.compose import enforce_seal
from emosync.inference.facecurves import FaceCurves, interp_rows, resample_rows
from emosync.inference.features import MEL, LogMelStream, frame_energy
from emosync.inference.life import LifeSettings, life_frames
from emosync.inference.onnx_model import Model, ModelFileError, asset_path, load_model
from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES, ROTATION_NAMES
from emosync.rigs.emotions import EMOTIONS, MAX_INTENSITY, N_EMOTIONS
from emosync.rigs.mouth import sealed
from emosync.rigs.phonemes import BILABIAL, SILENCE

MODEL_NAME = "convertor.onnx"
MODEL_FPS = 50.0
MEL_PER_FRAME = 2  # mel frames (10 ms hop) per output frame (20 ms)
MAX_LOOKAHEAD = 12  # mel frames: 120 ms
OUT_CHANNELS = (*ARKIT_NAMES, *ROTATION_NAMES[:3])  # the model's 55 outputs
CALIBRATION_KEY = "calibration"  # optional metadata: per-channel quantile maps (see _calibration)
SEAL_GAIN_KEY = "seal_gain"  # optional metadata: P+B+M probability × gain = seal demand (≤ 1)
MAX_SEAL_GAIN = 10.0
N_OUT = len(OUT_CHANNELS)
FEATURE_DEFAULTS = MEL.contract()  # a model's feature metadata must equal these
WINDOW_FRAMES = 500  # output frames per model call on whole clips (10 s)
OVERLAP_FRAMES = 10  # output frames crossfaded between neighbouring windows
STREAM_WINDOW_FRAMES = 100  # the most output frames one streaming call computes
ENERGY_RATE = 100.0  # frame_energy values per second
ACTIVE_CLOSURE = 0.05  # mouthClose of a closure against an open jaw (not lips at rest)
SMOOTH_SIGMA = 1.0  # model frames; offline zero-phase smoothing (docs/training.md, "Smoothing")
_FACE_ROWS = 16384  # output frames finished per step in _face
_SMOOTH_ROWS = 8192  # frames smoothed per matrix product (bounds its float64 copy to ~25 MB)

EmotionSource = np.ndarray | Callable[[np.ndarray], np.ndarray]  # [F × 7] at 50 fps, or f(times)


@dataclass
class NeuralOutput:
    """What the model says about a clip at MODEL_FPS: `curves` [F × 55] (52 weights + head
    yaw/pitch/roll), `phones` [F × P] phone probabilities (the model's phone list)."""

    curves: np.ndarray
    phones: np.ndarray


# --- the model --------------------------------------------------------------------------------


def default_model_path() -> Path:
    """The shipped convertor model file."""
    return asset_path(MODEL_NAME)


def model_available(path: str | Path | None = None) -> bool:
    """Whether the convertor model file (default: the shipped one) exists."""
    return Path(path or default_model_path()).is_file()


class NeuralConvertor:
    """A loaded, contract-checked convertor model."""

    def __init__(self, path: str | Path | None = None, providers: list[str] | None = None):
        self.model: Model = load_model(
            path or default_model_path(), "convertor", providers=providers
        )
        meta = self.model.metadata
        self.features = _check_features(self.model)
        if float(meta.get("fps", "nan")) != MODEL_FPS:
            raise _contract(self.model, f"fps {meta.get('fps')!r}, expected {MODEL_FPS:g}")
        if tuple(self.model.meta_json("channels")) != OUT_CHANNELS:
            raise _contract(self.model, "channels are not the 52 ARKit names + head yaw/pitch/roll")
        if tuple(self.model.meta_json("emotions")) != EMOTIONS:
            raise _contract(self.model, f"emotions are not {', '.join(EMOTIONS)}")
        self.phones: tuple[str, ...] = tuple(self.model.meta_json("phones"))
        if not self.phones or self.phones[0] != SILENCE:
            raise _contract(self.model, f"the phone list must start with {SILENCE}")
        self.bilabial = np.array([i for i, p in enumerate(self.phones) if p in BILABIAL])
        self.left_context = _int_meta(self.model, "left_context_frames")
        self.lookahead = _int_meta(self.model, "lookahead_frames")
        if self.lookahead > MAX_LOOKAHEAD:
            raise _contract(self.model, f"look-ahead {self.lookahead} mel frames is over 120 ms")
        _check_io(self.model)
        self.calibration = _calibration(self.model)
        self.seal_gain = _seal_gain(self.model)

    @property
    def version(self) -> str:
        return self.model.metadata.get("version", "")

    def n_frames(self, n_samples: int) -> int:
        """Output frames for a clip of n_samples: half its mel frames, rounded up."""
        n_mel = 1 + int(n_samples) // self.features["hop_length"]
        return (n_mel + 1) // MEL_PER_FRAME

    def run_mel(self, mel: np.ndarray, emotion: np.ndarray) -> NeuralOutput:
        """One model call on mel [T × 80] (T even) and emotion [T/2 × 7]: no windowing."""
        mel = np.ascontiguousarray(mel, dtype=np.float32)[None]
        emo = np.ascontiguousarray(emotion, dtype=np.float32)[None]
        curves, logits = self.model.run({"mel": mel, "emotion": emo})
        return NeuralOutput(curves[0], softmax(logits[0]))

    def calibrate(self, curves: np.ndarray, copy: bool = True) -> np.ndarray:
        """The model's output calibration (metadata `calibration`), fitted on smoothed whole-clip
        output: `neural_face` applies it after smooth_frames, the stream to its raw frames.
        `copy=False` calibrates a float32 array in place."""
        out = np.array(curves, dtype=np.float32, copy=copy)
        for i, (xs, ys) in self.calibration.items():
            out[:, i] = np.interp(out[:, i], xs, ys)
        return out

    def convert(
        self,
        samples: np.ndarray,
        emotion: EmotionSource,
        window: int = WINDOW_FRAMES,
        overlap: int = OVERLAP_FRAMES,
        block_seconds: float = 30.0,
    ) -> NeuralOutput:
        """The model's frames for a whole clip (16 kHz mono), computed window by window, so
        memory does not grow with the clip beyond its input and output."""
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        block = max(self.features["hop_length"], int(block_seconds * SAMPLE_RATE))
        pieces = (x[a : a + block] for a in range(0, x.size, block))
        return self.convert_blocks(pieces, [emotion], window, overlap)[0]

    def convert_blocks(
        self,
        blocks: Iterable[np.ndarray],
        emotions: Sequence[EmotionSource],
        window: int = WINDOW_FRAMES,
        overlap: int = OVERLAP_FRAMES,
        on_block: Callable[[np.ndarray], None] | None = None,
    ) -> list[NeuralOutput]:
        """The model's frames for a clip that arrives as 16 kHz mono blocks (a file decoded
        piece by piece): convert_stream's frames, joined. Frames equal `convert` on the
        joined blocks when the blocks are the same."""
        parts = zip(*self.convert_stream(blocks, emotions, window, overlap, on_block), strict=True)
        return [_joined(list(kept)) for kept in parts]

    def convert_stream(
        self,
        blocks: Iterable[np.ndarray],
        emotions: Sequence[EmotionSource],
        window: int = WINDOW_FRAMES,
        overlap: int = OVERLAP_FRAMES,
        on_block: Callable[[np.ndarray], None] | None = None,
    ) -> Iterator[list[NeuralOutput]]:
        """For each block of 16 kHz mono samples (then once at the end), the model frames that
        are now complete, one NeuralOutput per emotion in `emotions`: one log-mel stream, one
        model pass per emotion. Only the mel context of the current window is held; `on_block`
        sees each block as it passes."""
        runners = [_Runner(self, emotion_reader(e), window, overlap) for e in emotions]
        mel_stream = self.mel_stream()
        n_samples = 0
        for block in blocks:
            x = np.asarray(block, dtype=np.float32).reshape(-1)
            n_samples += x.size
            if on_block is not None:
                on_block(x)
            mel = mel_stream.push(x)
            for runner in runners:
                runner.add_mel(mel)
            yield [runner.run(final=False) for runner in runners]
        mel = _finish_even(mel_stream, n_samples, self.features["hop_length"])
        for runner in runners:
            runner.add_mel(mel)
        yield [runner.run(final=True) for runner in runners]

    def mel_stream(self) -> LogMelStream:
        return LogMelStream()  # MEL: _check_features refused any model with other settings

    def seal_track(self, phones: np.ndarray) -> np.ndarray:
        """Seal demand per frame: the probability that a bilabial (P, B, M) is being said, times
        the model's `seal_gain` (metadata, chosen on validation data; 1 when absent), at most 1."""
        if self.bilabial.size == 0:
            return np.zeros(len(phones), np.float32)
        demand = self.seal_gain * phones[:, self.bilabial].sum(axis=1)
        return np.clip(demand, 0.0, 1.0).astype(np.float32)


@lru_cache(maxsize=1)
def shipped_convertor() -> NeuralConvertor:
    """The shipped convertor, loaded and checked once per process: a batch worker animates
    thousands of lines, and loading costs more than animating a short one."""
    return NeuralConvertor()


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, float32."""
    z = np.asarray(logits, dtype=np.float32)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _contract(model: Model, what: str) -> ModelFileError:
    return ModelFileError(f"{model.path.name} breaks the convertor contract: {what}")


def _int_meta(model: Model, key: str) -> int:
    try:
        value = int(model.metadata[key])
    except (KeyError, ValueError):
        raise _contract(model, f"no integer '{key}' in its metadata") from None
    if value < 0:
        raise _contract(model, f"'{key}' is negative")
    return value


def _check_features(model: Model) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, expected in FEATURE_DEFAULTS.items():
        try:
            value = type(expected)(float(model.metadata[key]))
        except (KeyError, ValueError):
            raise _contract(model, f"no numeric '{key}' in its metadata") from None
        if value != expected:
            raise _contract(model, f"{key} is {value}, the features give {expected}")
        out[key] = value
    return out


def _calibration(model: Model) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{output index: (model knots, teacher knots)}: monotone maps that the training side fitted
    from the model's output distribution to the teacher's (training/convertor/calibrate.py)."""
    if CALIBRATION_KEY not in model.metadata:
        return {}
    data = model.meta_json(CALIBRATION_KEY)
    maps = data.get("maps") if isinstance(data, dict) else None
    if not isinstance(maps, dict):
        raise _contract(model, "the calibration metadata has no 'maps'")
    out = {}
    for name, knots in maps.items():
        if not isinstance(knots, dict):
            raise _contract(model, f"calibration of {name!r} is malformed")
        xs = np.asarray(knots.get("model", []), np.float32)
        ys = np.asarray(knots.get("teacher", []), np.float32)
        if name not in OUT_CHANNELS or xs.ndim != 1 or xs.size < 2 or xs.shape != ys.shape:
            raise _contract(model, f"calibration of {name!r} is malformed")
        if np.any(np.diff(xs) <= 0) or np.any(np.diff(ys) < 0):
            raise _contract(model, f"calibration of {name!r} is not monotone")
        out[OUT_CHANNELS.index(name)] = (xs, ys)
    return out


def _seal_gain(model: Model) -> float:
    """The metadata's seal gain (1 when absent): a number in (0, MAX_SEAL_GAIN]."""
    if SEAL_GAIN_KEY not in model.metadata:
        return 1.0
    try:
        gain = float(model.metadata[SEAL_GAIN_KEY])
    except ValueError:
        gain = float("nan")
    if not 0.0 < gain <= MAX_SEAL_GAIN:  # also refuses nan
        raise _contract(model, f"seal_gain must be a number in (0, {MAX_SEAL_GAIN:g}]")
    return gain


def _check_io(model: Model) -> None:
    inputs = {i.name: i.shape for i in model.session.get_inputs()}
    outputs = {o.name for o in model.session.get_outputs()}
    if set(inputs) != {"mel", "emotion"} or not {"curves", "phones"} <= outputs:
        raise _contract(model, f"inputs {sorted(inputs)} / outputs {sorted(outputs)}")


def emotion_reader(emotion: EmotionSource) -> Callable[[int, int], np.ndarray]:
    """A function (first frame, count) -> [count × 7] float32 states at MODEL_FPS.

    `emotion`: one state [7], a track [F × 7] at MODEL_FPS (frames past its end hold its last
    row), or a callable taking times in seconds and returning [len × 7]."""
    if callable(emotion):

        def from_callable(a: int, k: int) -> np.ndarray:
            states = np.asarray(emotion(np.arange(a, a + k) / MODEL_FPS), dtype=np.float32)
            return _valid_states(states.reshape(k, N_EMOTIONS))

        return from_callable
    track = np.asarray(emotion, dtype=np.float32)
    if track.ndim == 1:
        track = track[None]
    if track.ndim != 2 or track.shape[1] != N_EMOTIONS or len(track) == 0:
        raise InputError(f"emotion must be a 7-vector or [frames × 7], got {track.shape}")
    track = _valid_states(track)

    def from_track(a: int, k: int) -> np.ndarray:
        return track[np.minimum(np.arange(a, a + k), len(track) - 1)]

    return from_track


def _valid_states(states: np.ndarray) -> np.ndarray:
    return np.clip(np.nan_to_num(states), 0.0, MAX_INTENSITY).astype(np.float32)


def _finish_even(stream: LogMelStream, n_samples: int, hop: int) -> np.ndarray:
    """Finish the mel stream with an even frame count. Appending a hop of zeros adds one frame
    and changes no earlier frame (log_mel pads the signal with zeros anyway)."""
    if (1 + n_samples // hop) % 2:
        extra = stream.push(np.zeros(hop))
        return np.concatenate([extra, stream.finish()])
    return stream.finish()


def _joined(parts: list[NeuralOutput]) -> NeuralOutput:
    return NeuralOutput(
        np.concatenate([p.curves for p in parts]), np.concatenate([p.phones for p in parts])
    )


class _Runner:
    """Runs the model over mel frames as they arrive, window by window, and hands out each
    output frame once, as soon as its look-ahead is there (or at the end)."""

    def __init__(self, conv: NeuralConvertor, emotion, window: int, overlap: int) -> None:
        if window < 1 or overlap < 0:
            raise ValueError(f"need window >= 1 and overlap >= 0, got {window}, {overlap}")
        self.conv, self.emotion = conv, emotion
        self.window, self.overlap = int(window), int(overlap)
        # mel context in whole output frames, so every model call starts on an even mel frame
        self.left = -(-conv.left_context // MEL_PER_FRAME) * MEL_PER_FRAME
        self.ahead = conv.lookahead + conv.lookahead % 2
        self.mel = np.zeros((0, conv.features["n_mels"]), np.float32)
        self.mel_start = 0  # global index of self.mel[0]
        self.next = 0  # next output frame to hand out
        self.tail: NeuralOutput | None = None  # frames next.. of the last window, to crossfade

    @property
    def n_mel(self) -> int:
        return self.mel_start + len(self.mel)

    def add_mel(self, frames: np.ndarray) -> None:
        if len(frames):
            self.mel = np.concatenate([self.mel, np.asarray(frames, np.float32)])

    def run(self, final: bool) -> NeuralOutput:
        parts = []
        while True:
            out = self._step(final)
            if out is None:
                break
            parts.append(out)
        if not parts:
            n_ph = len(self.conv.phones)
            return NeuralOutput(np.zeros((0, N_OUT), np.float32), np.zeros((0, n_ph), np.float32))
        return NeuralOutput(
            np.concatenate([p.curves for p in parts]), np.concatenate([p.phones for p in parts])
        )

    def _step(self, final: bool) -> NeuralOutput | None:
        a = self.next
        if final:
            total = self.n_mel // MEL_PER_FRAME  # finish() made the count even
            b = min(total, a + self.window)
            end = b
        else:
            # frames whose look-ahead (and the crossfade overlap after them) has arrived
            reach = (self.n_mel - self.ahead) // MEL_PER_FRAME - self.overlap
            b = min(reach, a + self.window)
            end = b + self.overlap
        if b <= a:
            return None
        m0 = max(0, MEL_PER_FRAME * a - self.left)
        m1 = min(self.n_mel, MEL_PER_FRAME * end + self.ahead)
        m1 -= (m1 - m0) % MEL_PER_FRAME
        f0 = m0 // MEL_PER_FRAME
        n_out = (m1 - m0) // MEL_PER_FRAME
        mel = self.mel[m0 - self.mel_start : m1 - self.mel_start]
        out = self.conv.run_mel(mel, self.emotion(f0, n_out))
        lo, hi = a - f0, end - f0
        curves, phones = out.curves[lo:hi].copy(), out.phones[lo:hi].copy()
        self._crossfade(curves, phones)
        k = b - a
        self.tail = NeuralOutput(curves[k:], phones[k:]) if hi > lo + k else None
        self.next = b
        self._drop_mel()
        return NeuralOutput(curves[:k], phones[:k])

    def _crossfade(self, curves: np.ndarray, phones: np.ndarray) -> None:
        """Blend the previous window's overlap frames into the start of this one."""
        if self.tail is None:
            return
        n = min(len(self.tail.curves), len(curves))
        w = ((np.arange(n) + 1.0) / (n + 1.0))[:, None].astype(np.float32)
        curves[:n] = (1 - w) * self.tail.curves[:n] + w * curves[:n]
        phones[:n] = (1 - w) * self.tail.phones[:n] + w * phones[:n]

    def _drop_mel(self) -> None:
        keep_from = max(0, MEL_PER_FRAME * self.next - self.left)
        if keep_from > self.mel_start:
            self.mel = self.mel[keep_from - self.mel_start :].copy()
            self.mel_start = keep_from


# --- streaming --------------------------------------------------------------------------------


class NeuralStream:
    """Live conversion: push() 16 kHz mono samples as they arrive and get the face frames
    (50 per second, [k × 55]) whose look-ahead is complete; finish() gives the rest.

    Every frame equals the whole-clip result. A frame is handed out as soon as the audio
    reaches 12.5 ms (half a mel window) plus the model's look-ahead (at most 120 ms) past it.
    `emotion` is one state [7] (change it with set_emotion), a track at 50 fps, or a callable
    of time. With `seal` the lips close where the phone posteriors say P, B or M.
    """

    def __init__(
        self,
        convertor: NeuralConvertor,
        emotion: EmotionSource | None = None,
        seal: bool = True,
        window: int = STREAM_WINDOW_FRAMES,
    ) -> None:
        self.conv = convertor
        self.seal = seal
        self.n_samples = 0
        self._emotion = emotion_reader(np.zeros(N_EMOTIONS) if emotion is None else emotion)
        self._mel = convertor.mel_stream()
        self._runner = _Runner(convertor, self._emotion_at, window, overlap=0)
        self.last_phones = np.zeros((0, len(convertor.phones)), np.float32)

    def set_emotion(self, emotion: EmotionSource) -> None:
        """From the next frame computed on, use this emotion (state, track or callable)."""
        self._emotion = emotion_reader(emotion)

    def _emotion_at(self, start: int, count: int) -> np.ndarray:
        """The runner asks here, so that set_emotion takes effect mid-stream."""
        return self._emotion(start, count)

    @property
    def frames_out(self) -> int:
        return self._runner.next

    def push(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.n_samples += x.size
        self._runner.add_mel(self._mel.push(x))
        return self._frames(self._runner.run(final=False))

    def finish(self) -> np.ndarray:
        hop = self.conv.features["hop_length"]
        self._runner.add_mel(_finish_even(self._mel, self.n_samples, hop))
        return self._frames(self._runner.run(final=True))

    def _frames(self, out: NeuralOutput) -> np.ndarray:
        self.last_phones = out.phones
        curves = self.conv.calibrate(out.curves)
        if self.seal and len(curves):
            weights = enforce_seal(curves[:, :N_BLENDSHAPES], self.conv.seal_track(out.phones))
            curves[:, :N_BLENDSHAPES] = weights
        return curves


# --- the engine -------------------------------------------------------------------------------


def smooth_frames(values: np.ndarray, sigma: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing along time (edges held). The network's jaw moves a little
    every frame; a whole clip can be smoothed both ways, a stream cannot (it would need more
    look-ahead), so only the offline engine (neural_face_pieces) uses it."""
    if sigma <= 0 or len(values) < 2:
        return values
    smoother = Smoother(sigma)
    return np.concatenate([smoother.push(values), smoother.finish()])


class Smoother:
    """smooth_frames on rows that arrive in pieces: each row comes out of push() once the
    rows it reaches after it are there, the last ones from finish(); the numbers are those of
    smoothing the joined rows (edges held)."""

    def __init__(self, sigma: float) -> None:
        self.radius = int(np.ceil(3 * sigma)) if sigma > 0 else 0
        taps = np.exp(-0.5 * (np.arange(-self.radius, self.radius + 1) / max(sigma, 1e-9)) ** 2)
        self.taps = taps / taps.sum()
        self.held: np.ndarray | None = None  # rows still needed as context or not yet smoothed
        self.seen = 0  # rows pushed

    def push(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows)
        if self.radius == 0:
            return rows
        if self.held is None:
            if not len(rows):
                return rows
            self.held = np.repeat(rows[:1], self.radius, axis=0)  # the left edge, held
        self.seen += len(rows)
        return self._smooth(np.concatenate([self.held, rows]))

    def finish(self) -> np.ndarray:
        if self.held is None or self.radius == 0:
            return np.zeros((0, *(() if self.held is None else self.held.shape[1:])), np.float32)
        if self.seen < 2:  # smooth_frames leaves a single frame as it is
            return self.held[self.radius :]
        return self._smooth(np.concatenate([self.held, np.repeat(self.held[-1:], self.radius, 0)]))

    def _smooth(self, padded: np.ndarray) -> np.ndarray:
        """Rows of `padded` that have `radius` rows on both sides, smoothed; keeps the rest."""
        r = self.radius
        n = len(padded) - 2 * r
        if n <= 0:
            self.held = padded
            return padded[:0]
        windows = np.lib.stride_tricks.sliding_window_view(padded, len(self.taps), axis=0)
        out = np.empty((n, *padded.shape[1:]), padded.dtype)
        for a in range(0, n, _SMOOTH_ROWS):  # the product is float64 [rows × C × taps]
            out[a : a + _SMOOTH_ROWS] = windows[a : a + _SMOOTH_ROWS] @ self.taps
        self.held = padded[n:]
        return out


def resample_frames(
    values: np.ndarray, n_out: int, fps: float, rows: tuple[int, int] | None = None
) -> np.ndarray:
    """Linear resampling of MODEL_FPS rows to n_out rows at `fps` (times i / fps); `rows`
    (a, b) gives only output rows a..b-1 of that result."""
    v = np.asarray(values, dtype=np.float32)
    a, b = rows if rows is not None else (0, n_out)
    if fps == MODEL_FPS and len(v) == n_out:
        return v[a:b].copy()
    return resample_rows(v, MODEL_FPS, b - a, float(fps), start=a)


def neutral_closures(conv: NeuralConvertor, samples: np.ndarray, seal: np.ndarray) -> np.ndarray:
    """1 on the model frames where the neutral rendition of the clip holds the lips shut against
    an open jaw (a closure heard in the audio), else 0. An emotional rendition keeps those
    closures: lips follow the content, the emotion shows everywhere else. It costs a second
    model pass, and only emotional clips pay it."""
    neutral = conv.convert(samples, np.zeros(N_EMOTIONS, np.float32)).curves
    return _closures(conv, neutral, seal)


def _closures(conv: NeuralConvertor, neutral: np.ndarray, seal: np.ndarray) -> np.ndarray:
    weights = conv.calibrate(smooth_frames(neutral, SMOOTH_SIGMA))[:, :N_BLENDSHAPES]
    return _closed_lips(weights, seal)


def _closed_lips(weights: np.ndarray, seal: np.ndarray) -> np.ndarray:
    """1 where calibrated weights [F × 52], sealed where `seal` asks, hold the lips shut
    against an open jaw, else 0."""
    weights = enforce_seal(weights, seal)
    active = weights[:, ARKIT_NAMES.index("mouthClose")] >= ACTIVE_CLOSURE
    return (sealed(weights) & active).astype(np.float32)


def neural_face(
    audio: Audio,
    emotion: EmotionSource,
    life: LifeSettings | None = None,
    seed: int = 0,
    fps: float = MODEL_FPS,
    convertor: NeuralConvertor | None = None,
) -> FaceCurves:
    """Animate a clip with the neural engine: the model's face and head at `fps`, with blinks
    and gaze from inference.life on top and lips sealed where the model hears P, B or M.

    `emotion`: [F × 7] at 50 fps (F = model frames; shorter tracks hold their last row), one
    state [7], or a callable of times in seconds. The life gains: blink and gaze scale
    life's parts, head scales the model's head rotation."""
    blocks = audio_blocks(audio)
    return FaceCurves.join(neural_face_pieces(blocks, emotion, life, seed, fps, convertor))


def audio_blocks(audio: Audio, seconds: float = 30.0) -> Iterator[np.ndarray]:
    """A clip in memory as the blocks stream_audio would give (multiples of 160 samples)."""
    x = np.asarray(audio.samples, dtype=np.float32).reshape(-1)
    block = int(seconds * SAMPLE_RATE)
    return (x[a : a + block] for a in range(0, x.size, block))


def neural_face_blocks(
    blocks: Iterable[np.ndarray],
    emotion: EmotionSource,
    life: LifeSettings | None = None,
    seed: int = 0,
    fps: float = MODEL_FPS,
    convertor: NeuralConvertor | None = None,
    progress: Callable[[float], None] | None = None,
) -> FaceCurves:
    """`neural_face` on a clip that arrives as 16 kHz mono blocks (inference.audio.stream_audio):
    the pieces of neural_face_pieces, joined."""
    pieces = neural_face_pieces(blocks, emotion, life, seed, fps, convertor, progress)
    return FaceCurves.join(pieces)


def neural_face_pieces(
    blocks: Iterable[np.ndarray],
    emotion: EmotionSource,
    life: LifeSettings | None = None,
    seed: int = 0,
    fps: float = MODEL_FPS,
    convertor: NeuralConvertor | None = None,
    progress: Callable[[float], None] | None = None,
) -> Iterator[FaceCurves]:
    """The neural face of a clip that arrives as 16 kHz mono blocks, as FaceCurves pieces
    (FaceCurves.start, .total). Two passes: the model's frames are smoothed and calibrated
    as they come and set aside in a temporary file (ModelFrames), keeping only the seal and
    energy tracks (a few bytes per frame) for life; then the face at `fps` is made a block of
    frames at a time. Blocks whose lengths are multiples of 160 samples (the 30 s blocks of
    stream_audio) give the same frames however the clip is cut; `progress` gets the seconds
    read so far."""
    conv = convertor or shipped_convertor()
    energies: list[np.ndarray] = []
    n_samples = 0

    def seen(x: np.ndarray) -> None:
        nonlocal n_samples
        energies.append(frame_energy(x))
        n_samples += x.size
        if progress is not None:
            progress(n_samples / SAMPLE_RATE)

    zeros = np.zeros(N_EMOTIONS, np.float32)
    maybe_emotional = callable(emotion) or bool(
        np.any(np.nan_to_num(np.asarray(emotion, np.float32)) > 0)
    )
    emotions = [emotion, zeros] if maybe_emotional else [emotion]
    with ModelFrames(conv, closures=maybe_emotional) as frames:
        for outs in conv.convert_stream(blocks, emotions, on_block=seen):
            frames.add(outs[0], outs[1] if maybe_emotional else None)
        frames.finish()
        energy = np.concatenate(energies) if energies else np.zeros(0, np.float32)
        energies.clear()
        seal = frames.seal
        if maybe_emotional and np.any(emotion_reader(emotion)(0, frames.n) > 0):
            seal = np.maximum(seal, frames.closures)  # the neutral rendition's closures
        yield from _face_pieces(conv, frames, seal, energy, n_samples, emotion, life, seed, fps)


class ModelFrames:
    """The model's frames of a clip as they arrive: smoothed (smooth_frames) and calibrated,
    set aside in a temporary file (220 bytes a frame, 40 MB an hour), with the seal demand
    kept in memory; with `closures`, the neutral rendition's closures (_closures) beside it.
    rows(a, b, n, fps) reads back rows a..b-1 of resample_frames(frames, n, fps)."""

    def __init__(self, conv: NeuralConvertor, closures: bool = False) -> None:
        self.conv = conv
        self.file = tempfile.TemporaryFile(prefix="emosync-frames-")  # noqa: SIM115 (closed by __exit__)
        self.n = 0
        self._smooth = Smoother(SMOOTH_SIGMA)
        self._neutral = Smoother(SMOOTH_SIGMA) if closures else None
        self._seals: list[np.ndarray] = []
        self._closures: list[np.ndarray] = []
        self._open = np.zeros(0, np.float32)  # seal of the frames whose closures are not made
        self.seal = np.zeros(0, np.float32)
        self.closures = np.zeros(0, np.float32)

    def __enter__(self) -> ModelFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def add(self, out: NeuralOutput, neutral: NeuralOutput | None = None) -> None:
        self._seals.append(self.conv.seal_track(out.phones))
        if self._neutral is not None:
            self._open = np.concatenate([self._open, self._seals[-1]])
        self._store(self._smooth.push(out.curves))
        if self._neutral is not None and neutral is not None:
            self._close(self._neutral.push(neutral.curves))

    def finish(self) -> None:
        self._store(self._smooth.finish())
        self.seal = np.concatenate(self._seals) if self._seals else np.zeros(0, np.float32)
        self._seals.clear()
        if self._neutral is not None:
            self._close(self._neutral.finish())
            self.closures = np.concatenate(self._closures)
            self._closures.clear()

    def _store(self, smoothed: np.ndarray) -> None:
        calibrated = self.conv.calibrate(smoothed, copy=False)
        self.file.write(np.ascontiguousarray(calibrated, np.float32).tobytes())
        self.n += len(calibrated)

    def _close(self, smoothed: np.ndarray) -> None:
        """_closures on smoothed neutral frames, with the seal of the same frames."""
        seal, self._open = self._open[: len(smoothed)], self._open[len(smoothed) :]
        weights = self.conv.calibrate(smoothed, copy=False)[:, :N_BLENDSHAPES]
        self._closures.append(_closed_lips(weights, seal))

    def read(self, i0: int, i1: int) -> np.ndarray:
        """Stored frames i0..i1-1 [k × 55] float32."""
        self.file.seek(4 * N_OUT * i0)
        data = self.file.read(4 * N_OUT * (i1 - i0))
        return np.frombuffer(data, np.float32).reshape(-1, N_OUT)

    def rows(self, a: int, b: int, n: int, fps: float) -> np.ndarray:
        """Rows a..b-1 of resample_frames(all frames, n, fps), reading only the frames they
        fall between (np.interp gives the same numbers on that stretch)."""
        if fps == MODEL_FPS and self.n == n:
            return self.read(a, b).copy()
        i0 = max(0, min(self.n - 1, int(np.floor(a / fps * MODEL_FPS)) - 1))
        i1 = min(self.n, int(np.ceil((b - 1) / fps * MODEL_FPS)) + 2)
        frames = self.read(i0, i1)
        return interp_rows(np.arange(a, b) / fps, np.arange(i0, i1) / MODEL_FPS, frames)


def _face_pieces(
    conv: NeuralConvertor,
    frames: ModelFrames,
    seal: np.ndarray,
    energy: np.ndarray,
    n_samples: int,
    emotion: EmotionSource,
    life: LifeSettings | None,
    seed: int,
    fps: float,
) -> Iterator[FaceCurves]:
    """The face at `fps` from the model's smoothed, calibrated frames, the seal demand (both
    at MODEL_FPS) and the clip's energy track: seals and life, as pieces of _FACE_ROWS
    frames."""
    settings = life or LifeSettings()
    n = max(1, round(n_samples / SAMPLE_RATE * fps))
    seal = resample_frames(seal[:, None], n, fps)[:, 0]
    times = np.arange(n) / float(fps)
    energy_at_fps = np.interp(times, np.arange(energy.size) / ENERGY_RATE, energy)
    del times, energy
    states = _held_states(emotion_reader(emotion)(0, frames.n))
    states_at_fps = states if len(states) == 1 else resample_frames(states, n, fps)
    del states
    own_life = LifeSettings(blink=settings.blink, gaze=settings.gaze, head=0.0)
    extra = life_frames(n, fps, energy_at_fps, seal, states_at_fps, own_life, seed=seed)
    del energy_at_fps, states_at_fps
    metadata = {
        "duration": round(n_samples / SAMPLE_RATE, 6),
        "engine": "neural",
        "model_version": f"neural-{conv.version}",
        "model_sha256": conv.model.sha256,
        "transcript": None,
        "transcript_used": False,  # the neural engine hears the audio; transcripts are ignored
        "model_fps": MODEL_FPS,
        "lookahead_ms": 10.0 * conv.lookahead,
        "seed": seed,
    }
    for a in range(0, n, _FACE_ROWS):  # frame by frame: a block of rows keeps float64 work small
        b = min(n, a + _FACE_ROWS)
        blend, rotations = extra.rows(a, b)
        curves = frames.rows(a, b, n, fps)
        weights = add_life(curves[:, :N_BLENDSHAPES], blend)
        weights = enforce_seal(weights, seal[a:b])
        values = np.empty((b - a, N_BLENDSHAPES + rotations.shape[1]), np.float32)
        values[:, :N_BLENDSHAPES] = np.clip(weights, 0.0, 1.0)
        values[:, N_BLENDSHAPES:] = rotations
        values[:, N_BLENDSHAPES : N_BLENDSHAPES + 3] = curves[:, N_BLENDSHAPES:] * settings.head
        yield FaceCurves(float(fps), values, metadata=metadata, start=a, total=n)


def _held_states(states: np.ndarray) -> np.ndarray:
    """An emotion track that holds one state throughout as that one row [1 × 7] (life reads it
    for every frame), so a long clip keeps no [frames × 7] copy."""
    if len(states) > 1 and not np.any(states[1:] != states[0]):
        return states[:1]
    return states


def add_life(weights: np.ndarray, blend: np.ndarray) -> np.ndarray:
    """Blinks and gaze over the model's face: added and clipped, a blink closing wide eyes."""
    out = np.clip(np.asarray(weights, np.float64) + blend, 0.0, 1.0)
    for side in ("Left", "Right"):
        blink = out[:, ARKIT_NAMES.index(f"eyeBlink{side}")]
        out[:, ARKIT_NAMES.index(f"eyeWide{side}")] *= 1.0 - blink
    return out
