"""Audio features in pure numpy: log-mel spectrogram and per-hop energy.

`log_mel` reproduces librosa's
    power_to_db(melspectrogram(y, sr, n_fft, hop_length, win_length, window="hann", center=True,
                               pad_mode="constant", power=2.0, n_mels, fmin, fmax, htk=False,
                               norm="slaney"), ref=1.0, amin=1e-10, top_db=None)
so models trained on librosa features run on these. Frame t is centred on sample t·hop_length.

Block-by-block: `LogMelStream` gives the same frames from a signal fed in pieces (any sizes);
`frame_energy` on blocks whose lengths are multiples of hop_length concatenates to the
whole-signal result.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from emosync.inference.audio import SAMPLE_RATE

AMIN = 1e-10  # power floor before the log: -100 dB
_FRAMES_PER_BATCH = 4096  # STFT frames transformed at once (bounds memory on long clips)


@dataclass(frozen=True)
class MelSettings:
    """The log-mel settings, said once: what log_mel and LogMelStream compute (MEL by default)
    and what a convertor model's metadata must repeat (`contract`)."""

    sr: int = SAMPLE_RATE
    n_fft: int = 400
    hop_length: int = 160  # 10 ms
    win_length: int = 400
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0

    def contract(self) -> dict[str, int | float]:
        """The metadata keys and values of the convertor contract (the window is n_fft long)."""
        return {"sample_rate": self.sr, "n_fft": self.n_fft, "hop_length": self.hop_length,
                "n_mels": self.n_mels, "fmin": self.fmin, "fmax": self.fmax}  # fmt: skip


MEL = MelSettings()


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz (3 mel per 200 Hz), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3.0, 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    safe = np.maximum(hz, min_log_hz)
    return np.where(hz >= min_log_hz, min_log_mel + np.log(safe / min_log_hz) / logstep, hz / f_sp)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Inverse of hz_to_mel."""
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3.0, 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(
        mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel
    )


@functools.lru_cache(maxsize=8)
def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular Slaney-normalised (unit-area) mel filters, float64 [n_mels × (n_fft//2 + 1)]."""
    fft_hz = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    rising = (fft_hz[None, :] - edges[:-2, None]) / widths[:-1, None]
    falling = (edges[2:, None] - fft_hz[None, :]) / widths[1:, None]
    bank = np.maximum(0.0, np.minimum(rising, falling))
    bank *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    bank.flags.writeable = False
    return bank


@functools.lru_cache(maxsize=8)
def _window(n_fft: int, win_length: int) -> np.ndarray:
    """Periodic Hann window of win_length, zero-padded to n_fft around the centre."""
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(win_length) / win_length)
    left = (n_fft - win_length) // 2
    out = np.zeros(n_fft)
    out[left : left + win_length] = w
    out.flags.writeable = False
    return out


def _check_settings(n_fft: int, hop_length: int, win_length: int, fmax: float, sr: int) -> None:
    if n_fft <= 0 or hop_length <= 0 or not 0 < win_length <= n_fft:
        raise ValueError(
            f"need n_fft > 0, hop_length > 0, 0 < win_length <= n_fft; "
            f"got {n_fft}, {hop_length}, {win_length}"
        )
    if fmax > sr / 2.0:
        raise ValueError(f"fmax {fmax} Hz is above the Nyquist frequency {sr / 2} Hz")


def _frames_to_log_mel(
    padded: np.ndarray, n_frames: int, hop: int, window: np.ndarray, bank: np.ndarray
) -> np.ndarray:
    """Log-mel of frames t = 0..n_frames-1, frame t being padded[t·hop : t·hop + n_fft]."""
    n_fft = len(window)
    out = np.empty((n_frames, bank.shape[0]), dtype=np.float32)
    if n_frames == 0:
        return out
    views = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    for a in range(0, n_frames, _FRAMES_PER_BATCH):
        b = min(n_frames, a + _FRAMES_PER_BATCH)
        spec = np.fft.rfft(views[a:b] * window, n=n_fft, axis=1)
        power = spec.real**2 + spec.imag**2
        out[a:b] = 10.0 * np.log10(np.maximum(power @ bank.T, AMIN))
    return out


def log_mel(samples: np.ndarray, settings: MelSettings = MEL) -> np.ndarray:
    """Log-mel power spectrogram in dB, float32 [frames × n_mels].

    Frame count is 1 + (N + 2·(n_fft//2) - n_fft) // hop_length (= 1 + N // hop_length for even
    n_fft), frame t centred on sample t·hop_length, the signal zero-padded by n_fft//2 each side.
    """
    m = settings
    _check_settings(m.n_fft, m.hop_length, m.win_length, m.fmax, m.sr)
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    pad = m.n_fft // 2
    padded = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    n_frames = max(0, 1 + (len(padded) - m.n_fft) // m.hop_length)
    bank = mel_filterbank(m.sr, m.n_fft, m.n_mels, float(m.fmin), float(m.fmax))
    return _frames_to_log_mel(padded, n_frames, m.hop_length, _window(m.n_fft, m.win_length), bank)


class LogMelStream:
    """log_mel for a signal that arrives in pieces: push() each piece, then finish().

    The frames returned, concatenated, equal log_mel of the whole signal. It holds at most
    n_fft samples between calls.
    """

    def __init__(self, settings: MelSettings = MEL) -> None:
        m = settings
        _check_settings(m.n_fft, m.hop_length, m.win_length, m.fmax, m.sr)
        self.n_fft, self.hop = m.n_fft, m.hop_length
        self.window = _window(m.n_fft, m.win_length)
        self.bank = mel_filterbank(m.sr, m.n_fft, m.n_mels, float(m.fmin), float(m.fmax))
        # The buffer holds the padded signal from padded index `start` on.
        self.buf = np.zeros(m.n_fft // 2)
        self.start = 0
        self.next_frame = 0
        self.finished = False

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Feed samples; returns the frames that are now complete, [k × n_mels]."""
        if self.finished:
            raise RuntimeError("LogMelStream.push after finish")
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        self.buf = np.concatenate([self.buf, x])
        return self._emit()

    def finish(self) -> np.ndarray:
        """Pad the end as log_mel does and return the last frames."""
        if self.finished:
            return np.empty((0, self.bank.shape[0]), dtype=np.float32)
        self.finished = True
        self.buf = np.concatenate([self.buf, np.zeros(self.n_fft // 2)])
        return self._emit()

    def _emit(self) -> np.ndarray:
        end = self.start + len(self.buf)  # padded index one past the last sample held
        n_end = max(self.next_frame, 1 + (end - self.n_fft) // self.hop)
        first = self.next_frame * self.hop - self.start
        count = n_end - self.next_frame
        frames = _frames_to_log_mel(self.buf[first:], count, self.hop, self.window, self.bank)
        self.next_frame = n_end
        keep_from = self.next_frame * self.hop
        if keep_from > self.start:
            self.buf = self.buf[keep_from - self.start :].copy()
            self.start = keep_from
        return frames


def frame_energy(
    samples: np.ndarray, sr: int = SAMPLE_RATE, hop_length: int = MEL.hop_length
) -> np.ndarray:
    """RMS energy in dB (re full scale 1.0) of consecutive non-overlapping hops, float32.

    Frame i covers samples [i·hop, (i+1)·hop) — centred at (i + 0.5)·hop/sr seconds — so there
    are ceil(N / hop) frames; a short last frame is the RMS of the samples it has. Silence floors
    at -100 dB. Per-block results concatenate exactly when block lengths are multiples of hop.
    """
    if hop_length <= 0 or sr <= 0:
        raise ValueError(f"need sr > 0 and hop_length > 0, got {sr}, {hop_length}")
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    full = len(x) // hop_length
    mean_sq = np.empty(-(-len(x) // hop_length))
    mean_sq[:full] = np.mean(np.square(x[: full * hop_length]).reshape(full, hop_length), axis=1)
    if len(mean_sq) > full:
        mean_sq[full] = np.mean(np.square(x[full * hop_length :]))
    return (10.0 * np.log10(np.maximum(mean_sq, AMIN))).astype(np.float32)
