"""A live face: audio pieces in, finished frames out as soon as they can be known.

NeuralStream (the convertor with its 120 ms look-ahead) gives the model's face and head at 50 fps;
on top come blinks and gaze (inference.live_life), lip seals where the model hears P, B or M,
the emotion of inference.live_emotion, and resampling to the output rate. Everything after the
network is causal, so the latency is the network's: 142.5 ms at the model's 50 fps, up to one
model frame (20 ms) more at other rates, where a frame between two model frames waits for the
later one. Compared with `animate --engine neural` on the same clip: no zero-phase smoothing
(it would need more look-ahead) and no second, neutral pass for lip closures.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from emosync.inference.audio import SAMPLE_RATE
from emosync.inference.compose import enforce_seal
from emosync.inference.convertor import MODEL_FPS, NeuralConvertor, NeuralStream, add_life
from emosync.inference.life import LifeSettings
from emosync.inference.live_emotion import LiveEmotion
from emosync.inference.live_life import LiveLife
from emosync.rigs.channels import N_BLENDSHAPES, N_CHANNELS

HOP = int(SAMPLE_RATE / MODEL_FPS)  # samples per model frame (320)
ENERGY_HALF = HOP // 2  # a model frame's energy: RMS of the 20 ms centred on it


class FrameResampler:
    """Linear resampling of a frame stream from `src` to `dst` fps, causal: output frame j (at
    j / dst seconds) leaves as soon as the source frames on both sides of it are there."""

    def __init__(self, src: float, dst: float, channels: int) -> None:
        step = Fraction(src).limit_denominator(1001) / Fraction(dst).limit_denominator(1001)
        self.num, self.den = step.numerator, step.denominator  # output j sits at j·num/den
        self.rows = np.zeros((0, channels), np.float32)
        self.first = 0  # source index of rows[0]
        self.n_src = 0
        self.n_out = 0
        self.limit: int | None = None  # no frames past this count (set when the end is known)

    def push(self, frames: np.ndarray) -> np.ndarray:
        self.rows = np.concatenate([self.rows, np.asarray(frames, np.float32)])
        self.n_src += len(frames)
        out = []
        while True:
            k, rest = divmod(self.n_out * self.num, self.den)
            need = k + (1 if rest else 0)
            if need >= self.n_src or (self.limit is not None and self.n_out >= self.limit):
                break
            out.append(self._at(k, rest / self.den))
            self.n_out += 1
        self._trim()
        return self._stack(out)

    def finish(self, total: int) -> np.ndarray:
        """The remaining frames up to `total`; past the last source frame it is held."""
        out = []
        while self.n_out < total and self.n_src:
            k, rest = divmod(self.n_out * self.num, self.den)
            if k >= self.n_src - 1:
                k, rest = self.n_src - 1, 0
            out.append(self._at(k, rest / self.den))
            self.n_out += 1
        return self._stack(out)

    def _at(self, k: int, w: float) -> np.ndarray:
        a = self.rows[k - self.first]
        if w <= 0.0:
            return a.copy()
        return ((1.0 - w) * a + w * self.rows[k + 1 - self.first]).astype(np.float32)

    def _trim(self) -> None:
        keep = self.n_out * self.num // self.den
        if keep > self.first:
            self.rows = self.rows[keep - self.first :]
            self.first = keep

    def _stack(self, out: list[np.ndarray]) -> np.ndarray:
        return np.stack(out) if out else np.zeros((0, self.rows.shape[1]), np.float32)


class LiveFace:
    """push() 16 kHz mono samples, get frames [k × 61] (rigs.channels.CHANNELS) at `fps`."""

    def __init__(
        self,
        convertor: NeuralConvertor,
        emotion: LiveEmotion | None = None,
        life: LifeSettings | None = None,
        seed: int = 0,
        fps: float = MODEL_FPS,
    ) -> None:
        self.emotion = emotion or LiveEmotion()
        self.settings = life or LifeSettings()
        self.fps = float(fps)
        self.conv = convertor
        self.stream = NeuralStream(convertor, emotion=self.emotion.states, seal=True)
        self.life = LiveLife(MODEL_FPS, self.settings, seed)
        self.resampler = FrameResampler(MODEL_FPS, self.fps, N_CHANNELS)
        self._samples = np.zeros(ENERGY_HALF, np.float32)  # zeros before the start
        self._samples_start = -ENERGY_HALF
        self._model_frames = 0

    @property
    def n_samples(self) -> int:
        return self.stream.n_samples

    @property
    def frames_out(self) -> int:
        return self.resampler.n_out

    @property
    def next_model_time(self) -> float:
        """Seconds of the first model frame not computed yet: where a new emotion starts."""
        return self.stream.frames_out / MODEL_FPS

    def push(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._samples = np.concatenate([self._samples, x])
        return self.resampler.push(self._finish_frames(self.stream.push(x)))

    def finish(self) -> np.ndarray:
        """The last frames: as many in all as a file of this length has at `fps`."""
        pad = np.zeros(ENERGY_HALF, np.float32)
        self._samples = np.concatenate([self._samples, pad])
        total = max(1, round(self.n_samples / SAMPLE_RATE * self.fps))
        self.resampler.limit = total
        tail = self.resampler.push(self._finish_frames(self.stream.finish()))
        return np.concatenate([tail, self.resampler.finish(total)])

    def _finish_frames(self, curves: np.ndarray) -> np.ndarray:
        k = len(curves)
        if k == 0:
            return np.zeros((0, N_CHANNELS), np.float32)
        first = self._model_frames
        self._model_frames += k
        seal = self.conv.seal_track(self.stream.last_phones)
        states = self.emotion.states((first + np.arange(k)) / MODEL_FPS)
        blend, rotations = self.life.block(self._energy(first, k), seal, states)
        weights = enforce_seal(add_life(curves[:, :N_BLENDSHAPES], blend), seal)
        rotations[:, :3] = curves[:, N_BLENDSHAPES:] * self.settings.head
        return np.concatenate([np.clip(weights, 0.0, 1.0), rotations], axis=1).astype(np.float32)

    def _energy(self, first: int, k: int) -> np.ndarray:
        """RMS energy (dB) of the 20 ms around each of model frames first..first+k-1."""
        out = np.empty(k)
        for i in range(k):
            a = (first + i) * HOP - ENERGY_HALF - self._samples_start
            window = self._samples[max(0, a) : a + HOP]
            mean_sq = float(np.mean(np.square(window, dtype=np.float64))) if window.size else 0.0
            out[i] = 10.0 * np.log10(max(mean_sq, 1e-10))
        keep = (first + k) * HOP - ENERGY_HALF - self._samples_start
        if keep > 0:
            self._samples = self._samples[keep:]
            self._samples_start += keep
        return out
