"""Training-time audio augmentation in numpy, for the convertor's dataloader.

`augment(samples, sr, rng, strength)` applies a random chain of length-preserving changes:
pitch/formant shift, room reverberation, additive noise at an SNR, telephone band-limiting with
mu-law (G.711) coding, a real channel (low-pass at 3.5-8 kHz, a low sample rate, or an MP3 round
trip: real recordings reach the model band-limited, games at 11 kHz MP3) and a level change.
Labels stay aligned because the length is kept.
`speed` changes the length (and so the timing): a dataloader that uses it must stretch the
labels by the same factor (`stretch_frames`).
"""

from __future__ import annotations

import subprocess

import numpy as np

from emosync.inference.audio import ffmpeg_exe, pcm_to_float

SNRS_DB = (5.0, 10.0, 20.0, 30.0)
TELEPHONE_BAND = (300.0, 3400.0)
LOW_PASS_HZ = (3500.0, 8000.0)  # the top of real channels: 8 kHz files to full-band 16 kHz
LOW_RATES = (8000, 11025, 12000)  # sample rates real speech is stored at (games: 11025)
MP3_BITRATES = ("16k", "24k", "32k", "48k")


def _as_float(samples: np.ndarray) -> np.ndarray:
    return np.asarray(samples, dtype=np.float64).reshape(-1)


def _power(x: np.ndarray) -> float:
    return float(np.mean(x**2)) if x.size else 0.0


def _interp_read(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return np.interp(positions, np.arange(len(x)), x, left=0.0, right=0.0)


def speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Play `factor` times faster (tape-style: pitch and formants rise too); length / factor."""
    x = _as_float(samples)
    n_out = max(1, int(round(len(x) / factor)))
    return _interp_read(x, np.arange(n_out) * factor).astype(np.float32)


def stretch_frames(values: np.ndarray, factor: float) -> np.ndarray:
    """Per-frame labels [N × C] (or [N]) for audio sped up by `factor` (nearest frame)."""
    v = np.asarray(values)
    n_out = max(1, int(round(len(v) / factor)))
    idx = np.minimum(np.round(np.arange(n_out) * factor).astype(int), len(v) - 1)
    return v[idx]


def time_stretch(samples: np.ndarray, length: int, sr: int = 16000) -> np.ndarray:
    """WSOLA time stretch to `length` samples, pitch kept: 40 ms Hann frames at a 10 ms output
    hop; each frame is taken within +-10 ms of its nominal place where it best continues the
    previous one (waveform similarity), so periodic sounds keep their phase."""
    x = _as_float(samples)
    frame = int(0.04 * sr)
    hop = frame // 4
    tol = hop
    if len(x) < frame + 2 * tol or length < frame:
        return _interp_read(x, np.linspace(0, len(x) - 1, length)).astype(np.float32)
    window = np.hanning(frame)
    n_frames = (length - frame) // hop + 2
    nominal = np.linspace(0, len(x) - frame, n_frames)
    padded = np.concatenate([np.zeros(tol), x, np.zeros(frame + 2 * tol)])
    out = np.zeros(n_frames * hop + frame)
    norm = np.zeros_like(out)
    prev = 0  # start (in x) of the previous frame taken
    for k, nom in enumerate(nominal.astype(int)):
        if k == 0:
            start = 0
        else:
            target = padded[tol + prev + hop : tol + prev + hop + frame]  # natural continuation
            region = padded[nom : nom + frame + 2 * tol]
            views = np.lib.stride_tricks.sliding_window_view(region, frame)
            start = nom - tol + int(np.argmax(views @ target))
            start = int(np.clip(start, 0, len(x) - 1))
        o = k * hop
        out[o : o + frame] += padded[tol + start : tol + start + frame] * window
        norm[o : o + frame] += window
        prev = start
    return (out[:length] / np.maximum(norm[:length], 1e-3)).astype(np.float32)


def pitch_formant_shift(samples: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Raise (or lower) pitch and formants together by `semitones`, keeping the length: a speed
    change followed by an overlap-add stretch back to the original length."""
    x = _as_float(samples)
    if semitones == 0.0 or len(x) == 0:
        return x.astype(np.float32)
    faster = speed(x, 2.0 ** (semitones / 12.0))
    return time_stretch(faster, len(x), sr)


def add_noise(
    samples: np.ndarray, rng: np.random.Generator, snr_db: float, colour: float | None = None
) -> np.ndarray:
    """Add coloured Gaussian noise at `snr_db` relative to the signal's power. `colour` is the
    spectral slope exponent (0 white, 1 pink, 2 brown); random in [0, 2] when None."""
    x = _as_float(samples)
    if len(x) == 0:
        return x.astype(np.float32)
    colour = float(rng.uniform(0.0, 2.0)) if colour is None else colour
    spec = np.fft.rfft(rng.standard_normal(len(x)))
    freqs = np.fft.rfftfreq(len(x))
    spec[1:] /= freqs[1:] ** (colour / 2.0)
    spec[0] = 0.0
    noise = np.fft.irfft(spec, n=len(x))
    signal_power = max(_power(x), 1e-10)
    noise *= np.sqrt(signal_power / (10.0 ** (snr_db / 10.0)) / max(_power(noise), 1e-20))
    return (x + noise).astype(np.float32)


def room_impulse(sr: int, rng: np.random.Generator, rt60: float) -> np.ndarray:
    """A synthetic room impulse response: the direct path, a few early reflections and an
    exponentially decaying noise tail that falls 60 dB in `rt60` seconds, low-passed a little
    as it decays."""
    n = max(2, int(rt60 * sr))
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * 10.0 ** (-3.0 * t / rt60)
    # air and walls absorb highs faster: a one-pole low-pass whose strength grows with time
    smooth = np.empty(n)
    acc = 0.0
    for i, (v, a) in enumerate(zip(tail, np.clip(t / rt60, 0.0, 0.9), strict=True)):
        acc = a * acc + (1.0 - a) * v
        smooth[i] = acc
    h = 0.3 * smooth
    h[0] = 1.0
    for _ in range(int(rng.integers(3, 7))):
        delay = int(rng.uniform(0.003, 0.03) * sr)
        if delay < n:
            h[delay] += rng.uniform(0.2, 0.6) * rng.choice((-1.0, 1.0))
    return h / np.sqrt(np.sum(h**2))


def reverberate(
    samples: np.ndarray, sr: int, rng: np.random.Generator, rt60: float = 0.4, wet: float = 1.0
) -> np.ndarray:
    """Convolve with a synthetic room (FFT convolution); same length and RMS as the input."""
    x = _as_float(samples)
    if len(x) == 0:
        return x.astype(np.float32)
    h = room_impulse(sr, rng, rt60)
    size = 1 << int(np.ceil(np.log2(len(x) + len(h))))
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: len(x)]
    y = (1.0 - wet) * x + wet * y
    y *= np.sqrt(max(_power(x), 1e-20) / max(_power(y), 1e-20))
    return y.astype(np.float32)


def band_limit(samples: np.ndarray, sr: int, low: float, high: float) -> np.ndarray:
    """Zero everything outside [low, high] Hz (FFT mask with 50 Hz cosine edges)."""
    x = _as_float(samples)
    if len(x) == 0:
        return x.astype(np.float32)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / sr)
    edge = 50.0
    gain = np.clip((f - (low - edge)) / edge, 0, 1) * np.clip(((high + edge) - f) / edge, 0, 1)
    gain = 0.5 - 0.5 * np.cos(np.pi * gain)
    return np.fft.irfft(spec * gain, n=len(x)).astype(np.float32)


def mu_law(samples: np.ndarray, mu: int = 255) -> np.ndarray:
    """G.711-style mu-law companding to 8 bits and back (adds level-dependent quantisation)."""
    x = np.clip(_as_float(samples), -1.0, 1.0)
    encoded = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    code = np.round((encoded + 1.0) * 127.5)  # 256 levels
    decoded = code / 127.5 - 1.0
    return (np.sign(decoded) * np.expm1(np.abs(decoded) * np.log1p(mu)) / mu).astype(np.float32)


def telephone(samples: np.ndarray, sr: int) -> np.ndarray:
    """A phone line: 300-3400 Hz band, 8 kHz sampling with mu-law coding, back at `sr`."""
    x = band_limit(samples, sr, *TELEPHONE_BAND)
    if sr == 8000:
        return mu_law(x)
    narrow = _interp_read(x, np.arange(0, len(x), sr / 8000.0))
    coded = mu_law(narrow)
    back = np.interp(np.arange(len(x)) * 8000.0 / sr, np.arange(len(coded)), coded)
    return band_limit(back, sr, *TELEPHONE_BAND)


def _ffmpeg_round_trip(x: np.ndarray, sr: int, encode: list[str], container: str) -> np.ndarray:
    """`x` (float in [-1, 1] at `sr`) encoded with ffmpeg's `encode` options into `container`
    and decoded back to `sr`."""
    exe = ffmpeg_exe("codec augmentation")
    pcm = (x * 32767.0).astype("<i2").tobytes()
    raw = ["-f", "s16le", "-ar", str(sr), "-ac", "1"]
    enc = [exe, "-v", "error", *raw, "-i", "-", *encode, "-f", container, "-"]
    coded = subprocess.run(enc, input=pcm, capture_output=True, check=True).stdout
    dec = [exe, "-v", "error", "-f", container, "-i", "-", "-ar", str(sr), "-f", "s16le", "-"]
    return pcm_to_float(subprocess.run(dec, input=coded, capture_output=True, check=True).stdout, 2)


def ffmpeg_codec(samples: np.ndarray, sr: int, codec: str = "g722") -> np.ndarray:
    """Round trip through a real speech codec with imageio-ffmpeg's ffmpeg ("g722" or
    "libgsm" where that build has it); same length as the input. Slow: for offline use."""
    x = np.clip(_as_float(samples), -1.0, 1.0)
    container, rate = {"g722": ("g722", 16000), "libgsm": ("gsm", 8000)}[codec]
    y = _ffmpeg_round_trip(x, sr, ["-ar", str(rate), "-c:a", codec], container)
    return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]


def low_rate(samples: np.ndarray, sr: int, rate: int) -> np.ndarray:
    """Audio that was stored at `rate` Hz and brought back to `sr`: nothing above rate / 2."""
    x = band_limit(samples, sr, 0.0, 0.47 * rate)
    narrow = _interp_read(x, np.arange(0, len(x), sr / rate))
    back = np.interp(np.arange(len(x)) * rate / sr, np.arange(len(narrow)), narrow)
    return band_limit(back, sr, 0.0, 0.47 * rate)


def _lag(reference: np.ndarray, delayed: np.ndarray, most: int) -> int:
    """Samples by which `delayed` trails `reference` (0..most, FFT cross-correlation)."""
    size = 1 << int(np.ceil(np.log2(len(reference) + len(delayed))))
    corr = np.fft.irfft(np.fft.rfft(delayed, size) * np.conj(np.fft.rfft(reference, size)), size)
    return int(np.argmax(corr[: most + 1]))


def mp3(samples: np.ndarray, sr: int, rate: int = 11025, bitrate: str = "24k") -> np.ndarray:
    """Round trip through an MP3 encoder (LAME, in imageio-ffmpeg's ffmpeg) at `rate` Hz and
    `bitrate`, the way game and web speech is stored; the encoder's delay (about 0.1 s) is
    found by cross-correlation and cut, so the labels stay aligned. Same length as the input."""
    x = np.clip(_as_float(samples), -1.0, 1.0)
    if len(x) == 0:
        return x.astype(np.float32)
    encode = ["-ar", str(rate), "-c:a", "libmp3lame", "-b:a", bitrate]
    y = _ffmpeg_round_trip(x, sr, encode, "mp3").astype(np.float64)
    shift = _lag(x, y, min(len(y) - 1, int(0.2 * sr)))
    y = y[shift:]
    return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)].astype(np.float32)


def channel(samples: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One random real-world channel: a low-pass at 3.5-8 kHz, a low sample rate, or MP3."""
    roll = rng.random()
    if roll < 0.45:
        return band_limit(samples, sr, 0.0, float(rng.uniform(*LOW_PASS_HZ)))
    if roll < 0.8:
        return low_rate(samples, sr, int(rng.choice(LOW_RATES)))
    return mp3(samples, sr, int(rng.choice(LOW_RATES)), str(rng.choice(MP3_BITRATES)))


def change_level(samples: np.ndarray, gain_db: float) -> np.ndarray:
    """Scale by `gain_db`, clipping at full scale like a real input chain would."""
    return np.clip(_as_float(samples) * 10.0 ** (gain_db / 20.0), -1.0, 1.0).astype(np.float32)


def augment(
    samples: np.ndarray, sr: int, rng: np.random.Generator, strength: float = 1.0
) -> np.ndarray:
    """A random chain of length-preserving augmentations; `strength` 0 returns the input
    unchanged, 1 is the training default (each step with probability ~0.3-0.5)."""
    x = _as_float(samples).astype(np.float32)
    s = float(np.clip(strength, 0.0, 2.0))
    if s == 0.0 or len(x) == 0:
        return x

    def chance(p: float) -> bool:
        return bool(rng.random() < min(1.0, p * s))

    if chance(0.4):
        x = pitch_formant_shift(x, sr, float(rng.uniform(-2.5, 2.5) * s))
    if chance(0.3):
        x = reverberate(
            x, sr, rng, rt60=float(rng.uniform(0.15, 0.8)), wet=float(rng.uniform(0.3, 1))
        )
    if chance(0.15):
        x = telephone(x, sr)
    if chance(0.5):
        snr = float(rng.choice(SNRS_DB)) / max(s, 0.5)
        x = add_noise(x, rng, snr)
    if chance(0.4):
        x = channel(x, sr, rng)
    if chance(0.5):
        x = change_level(x, float(rng.uniform(-18.0, 6.0) * s))
    return np.nan_to_num(x).astype(np.float32)
