"""Audio input: decode any common file to 16 kHz mono float32, whole or in bounded-memory blocks.

Decoding uses soundfile (libsndfile reads WAV, FLAC, OGG/Vorbis, MP3 and more). Where soundfile
is missing (a bare Blender Python), WAV still decodes through our own small RIFF reader.
Resampling is our own polyphase windowed-sinc filter in numpy, so nothing here needs scipy or
librosa at run time. Every problem with the user's file is an InputError with one line naming it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.errors import InputError
from emosync.inference.quiet import quiet_stderr

try:
    import soundfile as _sf
except (ImportError, OSError):  # OSError: the wheel is there but libsndfile will not load
    _sf = None

SAMPLE_RATE = 16000
MIN_DURATION = 0.1  # seconds; anything shorter carries no usable speech
SILENCE_PEAK = 10.0 ** (-60.0 / 20.0)  # a peak below -60 dBFS counts as silence

# Resampling filter: Kaiser-windowed sinc, 48 zero crossings each side, beta 10. Going to 16 kHz
# the passband is flat (< 0.05 dB) to 7 kHz, -6 dB at 7.5 kHz, and tones above 8.5 kHz come
# out below -105 dB (measured; tests/test_audio.py holds -90 dB).
_NUM_ZEROS = 48
_ROLLOFF = 0.94
_KAISER_BETA = 10.0
_READ_FRAMES = 1 << 16  # source frames read per call when decoding
_STREAM_READ_FRAMES = 1 << 20  # source frames read per call when streaming (stream_audio)
_SCAN_FRAMES = 1 << 20  # source frames per read of the silence scan (check_audible)
SILENT_DB = -60.0  # a file with no 10 ms louder than this (dBFS RMS) has nothing to animate


@dataclass
class Audio:
    """A decoded recording: `samples` is float32 mono at SAMPLE_RATE, 1-D."""

    samples: np.ndarray
    source_rate: int
    source_channels: int
    path: str | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header without decoding it."""

    duration: float  # seconds at the source rate
    source_rate: int
    channels: int
    format: str  # e.g. "WAV", "FLAC", "OGG", "MP3"


# ---------------------------------------------------------------------------------------------
# Resampling


def _kaiser(x: np.ndarray, beta: float) -> np.ndarray:
    """Kaiser window evaluated at x in [-1, 1] (zero outside)."""
    inside = np.abs(x) <= 1.0
    arg = np.sqrt(np.clip(1.0 - x * x, 0.0, None))
    return np.where(inside, np.i0(beta * arg) / np.i0(beta), 0.0)


@functools.lru_cache(maxsize=16)
def _filter_bank(up: int, down: int) -> tuple[np.ndarray, int]:
    """Polyphase taps [up × taps] and the half-width in input samples.

    Output n sits at input position t = n·down/up. With i = floor(t) and phase p = n·down mod up,
    output n = sum_k bank[p, k] · x[i - half + k]. The low-pass cutoff is the lower Nyquist
    (times the rolloff); each phase is normalised to unit DC gain.
    """
    cutoff = _ROLLOFF * min(1.0, up / down)  # as a fraction of the input Nyquist frequency
    reach = _NUM_ZEROS / cutoff  # window half-width in input samples
    half = math.ceil(reach)
    offsets = np.arange(-half, half + 1, dtype=np.float64)  # j - i for each tap
    frac = np.arange(up, dtype=np.float64)[:, None] / up
    d = frac - offsets[None, :]  # t - j
    taps = cutoff * np.sinc(cutoff * d) * _kaiser(d / reach, _KAISER_BETA)
    taps /= taps.sum(axis=1, keepdims=True)
    return taps.astype(np.float32), half


class _StreamResampler:
    """Resamples a signal fed in pieces; the concatenated output equals a one-shot resample."""

    def __init__(self, sr_in: int, sr_out: int) -> None:
        g = math.gcd(int(sr_in), int(sr_out))
        self.up, self.down = int(sr_out) // g, int(sr_in) // g
        self.bank, self.half = _filter_bank(self.up, self.down)
        self.taps = self.bank.shape[1]
        # The buffer holds input samples from absolute index `start`; zeros stand before 0.
        self.buf = np.zeros(self.half, dtype=np.float32)
        self.start = -self.half
        self.received = 0
        self.next_out = 0

    def push(self, x: np.ndarray) -> np.ndarray:
        """Feed input samples; returns every output sample they make computable."""
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        self.buf = np.concatenate([self.buf, x])
        self.received += len(x)
        # Output n needs input up to floor(n·down/up) + half, which must be < received.
        limit = self.received - self.half  # need floor(n·down/up) < limit
        n_end = -(-limit * self.up // self.down) if limit > 0 else 0  # ceil(limit·up/down)
        return self._emit(max(n_end, self.next_out))

    def finish(self) -> np.ndarray:
        """Flush: zero-pad past the end and return the remaining outputs."""
        total = -(-self.received * self.up // self.down)  # ceil(received · up / down)
        self.buf = np.concatenate([self.buf, np.zeros(self.half + 1, dtype=np.float32)])
        return self._emit(total)

    def _emit(self, n_end: int) -> np.ndarray:
        n_start = self.next_out
        out = np.empty(max(0, n_end - n_start), dtype=np.float32)
        rows = max(1, (1 << 20) // self.taps)  # rows per phase per matmul: bounds the copy
        step = rows * self.up
        for a in range(n_start, n_end, step):
            b = min(n_end, a + step)
            self._emit_range(a, b, out[a - n_start : b - n_start])
        self.next_out = max(n_start, n_end)
        # Drop input no later output can need.
        keep_from = (self.next_out * self.down) // self.up - self.half
        drop = keep_from - self.start
        if drop > 0:
            self.buf = self.buf[drop:].copy()
            self.start = keep_from
        return out

    def _emit_range(self, a: int, b: int, out: np.ndarray) -> None:
        buf = np.ascontiguousarray(self.buf)
        item = buf.itemsize
        for r in range(min(self.up, b - a)):
            n0 = a + r
            count = len(range(n0, b, self.up))
            phase = (n0 * self.down) % self.up
            first = (n0 * self.down) // self.up - self.half - self.start
            windows = np.lib.stride_tricks.as_strided(
                buf[first:],
                shape=(count, self.taps),
                strides=(self.down * item, item),
                writeable=False,
            )
            out[r :: self.up] = np.einsum("ij,j->i", windows, self.bank[phase])


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Band-limited resampling of a 1-D signal; returns ceil(len·sr_out/sr_in) float32 samples.

    Sample 0 of the output sits at sample 0 of the input (no delay).
    """
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sample rates must be positive, got {sr_in} and {sr_out}")
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if sr_in == sr_out:
        return x.copy()
    rs = _StreamResampler(sr_in, sr_out)
    return np.concatenate([rs.push(x), rs.finish()])


# ---------------------------------------------------------------------------------------------
# Decoding sources


def _name(path: str | os.PathLike) -> str:
    return str(path).replace("\n", "\\n")


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


class _Source:
    """An open audio file that yields float32 [frames × channels] blocks."""

    rate: int
    channels: int
    frames: int
    format: str

    def blocks(self, size: int) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _SoundfileSource(_Source):
    """libsndfile; its MP3 decoder (mpg123) prints notes of its own on fd 2, kept off it."""

    def __init__(self, path: str) -> None:
        with quiet_stderr():
            self._f = _sf.SoundFile(path)
        self.rate, self.channels = int(self._f.samplerate), int(self._f.channels)
        self.frames, self.format = int(self._f.frames), str(self._f.format)

    def blocks(self, size: int) -> Iterator[np.ndarray]:
        while True:
            with self._quiet():
                block = self._f.read(size, dtype="float32", always_2d=True)
            if len(block) == 0:
                return
            yield block

    def read_int16(self, out: np.ndarray) -> int:
        """Read into `out` [frames × channels] int16; returns the frames read (0 at the end)."""
        with self._quiet():
            return len(self._f.read(out=out, dtype="int16"))

    def _quiet(self) -> contextlib.AbstractContextManager:
        return quiet_stderr() if self.format == "MP3" else contextlib.nullcontext()

    def close(self) -> None:
        self._f.close()


class _WavError(ValueError):
    """A WAV file our own reader cannot take."""


_WAV_PCM, _WAV_FLOAT, _WAV_EXTENSIBLE = 1, 3, 0xFFFE
_UNSET_DATA_SIZE = 0x7FFFF000  # data sizes from here up are placeholders of streaming writers


class _WavSource(_Source):
    """WAV (PCM 8/16/24/32-bit, float 32/64-bit, plain or extensible) read by our own RIFF
    parser, for Pythons without soundfile (the standard `wave` module takes 8/16-bit only)."""

    def __init__(self, path: str) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            self._read_header()
        except BaseException:
            self._f.close()
            raise
        self.format = "WAV"

    def _read_header(self) -> None:
        f = self._f
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise _WavError("not a RIFF/WAVE file")
        size = os.fstat(f.fileno()).st_size
        fmt = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise _WavError("no data chunk")
            cid, clen = chunk[:4], int.from_bytes(chunk[4:], "little")
            if cid == b"fmt ":
                fmt = f.read(clen)
                if clen % 2:
                    f.read(1)
            elif cid == b"data":
                break
            else:
                f.seek(clen + clen % 2, os.SEEK_CUR)
        if fmt is None or len(fmt) < 16:
            raise _WavError("no fmt chunk before the data")
        code = int.from_bytes(fmt[0:2], "little")
        self.channels = int.from_bytes(fmt[2:4], "little")
        self.rate = int.from_bytes(fmt[4:8], "little")
        self._align = int.from_bytes(fmt[12:14], "little")
        self._bits = int.from_bytes(fmt[14:16], "little")
        if code == _WAV_EXTENSIBLE and len(fmt) >= 26:
            code = int.from_bytes(fmt[24:26], "little")  # first bytes of the sub-format GUID
        width = self._bits // 8
        pcm_ok = code == _WAV_PCM and width in (1, 2, 3, 4)
        float_ok = code == _WAV_FLOAT and width in (4, 8)
        if not (pcm_ok or float_ok) or self.channels <= 0 or self._align != width * self.channels:
            raise _WavError(f"unsupported WAV encoding (format {code}, {self._bits} bits)")
        self._float = code == _WAV_FLOAT
        # Writers that stream often leave the data size unset: take what the file holds.
        available = size - self._f.tell()
        self.frames = min(clen, available) // self._align
        self.header_frames = clen // self._align  # what the header promises
        self.size_unset = clen == 0 or clen >= _UNSET_DATA_SIZE
        self._left = self.frames

    def blocks(self, size: int) -> Iterator[np.ndarray]:
        while self._left > 0:
            n = min(size, self._left)
            raw = self._f.read(n * self._align)
            n = len(raw) // self._align
            if n == 0:
                return
            self._left -= n
            raw = raw[: n * self._align]
            if self._float:
                data = np.frombuffer(raw, "<f4" if self._bits == 32 else "<f8")
            else:
                data = pcm_to_float(raw, self._bits // 8)
            yield data.astype(np.float32, copy=False).reshape(n, self.channels)

    def close(self) -> None:
        self._f.close()


def ffmpeg_exe(needed_for: str, extra: str = "") -> str:
    """The path of imageio-ffmpeg's static ffmpeg (H.264, AAC, MP3, G.722); when the wheel is
    missing, one InputError line saying what needed it and what to install."""
    try:
        from imageio_ffmpeg import get_ffmpeg_exe
    except ImportError:
        install = f"emosync[{extra}]" if extra else "imageio-ffmpeg"
        raise InputError(f"{needed_for} needs imageio-ffmpeg: pip install '{install}'") from None
    return get_ffmpeg_exe()


def pcm_to_float(raw: bytes, width: int) -> np.ndarray:
    """Little-endian PCM bytes (8-bit unsigned, 16/24/32-bit signed) to float32 in [-1, 1)."""
    if width == 1:
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = (v << 8) >> 8  # sign-extend 24 to 32 bits
        return v.astype(np.float32) / float(1 << 23)
    return (np.frombuffer(raw, "<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)


def _libsndfile_reason(err: BaseException, path: str) -> str:
    """libsndfile's complaint without the file name (already in our message)."""
    text = _one_line(err).replace(f"Error opening {path!r}: ", "").replace(path, "<file>")
    if "not a regular file" in text:  # what libsndfile says of unrecognised data as MP3
        return "format not recognised"
    return text.rstrip(".") or "unreadable"


def _check_file(path: str | os.PathLike) -> str:
    p = Path(path)
    name = _name(path)
    if not p.exists():
        raise InputError(f"audio file {name} does not exist")
    if p.is_dir():
        raise InputError(f"audio file {name} is a directory, not a file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise InputError(f"audio file {name} cannot be read ({_one_line(e)})") from None
    if size == 0:
        raise InputError(f"audio file {name} is empty (0 bytes)")
    if not os.access(p, os.R_OK):
        raise InputError(f"audio file {name} cannot be read (permission denied)")
    return str(p)


def _open_source(path: str | os.PathLike, prefer: str = "soundfile") -> _Source:
    """Open a checked file with soundfile, or as WAV when soundfile is absent or fails."""
    p = _check_file(path)
    errors: list[str] = []
    if prefer == "soundfile" and _sf is not None:
        try:
            return _SoundfileSource(p)
        except (RuntimeError, OSError, ValueError, TypeError) as e:
            errors.append(_libsndfile_reason(e, p))
    try:
        return _WavSource(p)
    except (OSError, ValueError) as e:
        errors.append(_one_line(e))
    hint = "" if _sf is not None else "; without soundfile only WAV can be read"
    raise InputError(
        f"audio file {_name(path)} is not audio or is corrupt ({errors[0]}{hint})"
    ) from None


def _check_info(path: str | os.PathLike, src: _Source) -> None:
    name = _name(path)
    if src.rate <= 0 or src.channels <= 0:
        raise InputError(f"audio file {name} has an invalid header (rate {src.rate} Hz)")
    if src.frames <= 0:
        raise InputError(f"audio file {name} holds no audio samples")
    if src.frames == 1:
        raise InputError(f"audio file {name} holds a single sample, not a recording")
    duration = src.frames / src.rate
    if duration < MIN_DURATION:
        raise InputError(
            f"audio file {name} is too short ({duration:.3f} s; at least {MIN_DURATION} s needed)"
        )


def _mono_blocks(path: str | os.PathLike, src: _Source, size: int) -> Iterator[np.ndarray]:
    """Decoded blocks downmixed by averaging the channels; decode errors become InputError."""
    it = src.blocks(size)
    while True:
        try:
            block = next(it)
        except StopIteration:
            return
        except (RuntimeError, OSError, ValueError) as e:
            reason = _one_line(e).removeprefix("Error : ").rstrip(".")
            raise InputError(f"audio file {_name(path)} is corrupt ({reason})") from None
        mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
        if not np.all(np.isfinite(mono)):
            raise InputError(f"audio file {_name(path)} holds invalid samples (NaN or infinity)")
        yield mono


# ---------------------------------------------------------------------------------------------
# Public entry points


def probe_audio(path: str | os.PathLike) -> AudioInfo:
    """Validate a file cheaply (header only) and describe it.

    Raises the same InputErrors as load_audio except silence, which needs a full decode.
    """
    src = _open_source(path)
    try:
        _check_info(path, src)
        return AudioInfo(src.frames / src.rate, src.rate, src.channels, src.format)
    finally:
        src.close()


def load_audio(path: str | os.PathLike) -> Audio:
    """Decode a whole file to 16 kHz mono float32 (channels averaged)."""
    src = _open_source(path)
    try:
        _check_info(path, src)
        pieces = list(_mono_blocks(path, src, _READ_FRAMES))
        rate, channels = src.rate, src.channels
    finally:
        src.close()
    mono = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    if len(mono) / rate < MIN_DURATION:
        raise InputError(
            f"audio file {_name(path)} is too short ({len(mono) / rate:.3f} s decoded; "
            f"at least {MIN_DURATION} s needed)"
        )
    samples = resample(mono, rate, SAMPLE_RATE)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak < SILENCE_PEAK:
        detail = f"peak {20.0 * math.log10(peak):.0f} dBFS" if peak > 0 else "all samples zero"
        raise InputError(f"audio file {_name(path)} is silent ({detail})")
    return Audio(samples, rate, channels, str(path))


def truncation_warning(path: str | os.PathLike) -> str | None:
    """A warning when a WAV file holds less audio than its header says (a cut-off copy or
    download), else None. Decoders play what is there, so EmoSync animates that and says so;
    a placeholder size left by a streaming writer is not a truncation."""
    try:
        src = _WavSource(_check_file(path))
    except (OSError, ValueError):
        return None  # not a WAV we parse: libsndfile reports what it can decode
    try:
        promised, held = src.header_frames, src.frames
        if src.size_unset or promised <= held:
            return None
        return (
            f"audio file {_name(path)} is truncated: its header promises "
            f"{promised / src.rate:.2f} s, the file holds {held / src.rate:.2f} s; "
            f"animated the {held / src.rate:.2f} s it holds"
        )
    finally:
        src.close()


def check_audible(path: str | os.PathLike, threshold_db: float = SILENT_DB) -> None:
    """Refuse a silent or near-silent file before any work: InputError unless some 10 ms of it
    is louder than `threshold_db` dBFS RMS.

    A streaming scan at the source rate (no resampling) that stops at the first loud 10 ms, so
    speech costs milliseconds; a silent file is read once as 16-bit integers (about 1 s per
    10 hours of 22 kHz mono WAV here). Memory is one block whatever the length.
    """
    src = _open_source(path)
    limit = 32768.0 * 10.0 ** (threshold_db / 20.0)  # in 16-bit steps
    hop = max(1, src.rate // 100)
    peak = 0.0
    try:
        for block in _int16_blocks(path, src, _SCAN_FRAMES):
            x = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
            block_peak = max(float(x.max()), -float(x.min()))
            peak = max(peak, block_peak)
            if block_peak < limit:  # no 10 ms can be louder than the block's peak
                continue
            n = x.size // hop
            frames = np.asarray(x[: n * hop], np.float32).reshape(n, hop)
            power = np.einsum("ij,ij->i", frames, frames) / hop  # float32: 16-bit steps fit
            if n and float(power.max()) >= limit * limit:
                return
    finally:
        src.close()
    if peak == 0.0:
        detail = "all samples zero"
    else:
        detail = (
            f"peak {20.0 * math.log10(peak / 32768.0):.0f} dBFS, no 10 ms louder than "
            f"{threshold_db:.0f} dBFS; nothing to animate"
        )
    raise InputError(f"audio file {_name(path)} is silent ({detail})")


def _int16_blocks(path: str | os.PathLike, src: _Source, size: int) -> Iterator[np.ndarray]:
    """[frames × channels] blocks in 16-bit steps: soundfile reads integers into one reused
    buffer (fast); our WAV reader's floats are scaled. Decode errors become InputError."""
    if not isinstance(src, _SoundfileSource):
        for mono in _mono_blocks(path, src, size):
            yield (mono * 32768.0)[:, None]
        return
    buf = np.empty((size, src.channels), np.int16)
    while True:
        try:
            n = src.read_int16(buf)
        except (RuntimeError, OSError, ValueError) as e:
            reason = _one_line(e).removeprefix("Error : ").rstrip(".")
            raise InputError(f"audio file {_name(path)} is corrupt ({reason})") from None
        if n == 0:
            return
        yield buf[:n]


def stream_audio(path: str | os.PathLike, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Yield the same 16 kHz mono signal as load_audio in blocks of block_seconds·16000 samples.

    The file is validated (probe_audio) before this returns; memory stays bounded by the block
    size whatever the file's length. The last block is shorter. Silence is not checked here.
    """
    block = int(round(block_seconds * SAMPLE_RATE))
    if block <= 0:
        raise InputError(f"block_seconds must be positive, got {block_seconds}")
    probe_audio(path)
    return _stream_blocks(path, block)


def _stream_blocks(path: str | os.PathLike, block: int) -> Iterator[np.ndarray]:
    src = _open_source(path)
    try:
        # a block's worth per read: the resampler's cost is per call (320 phase products
        # for 22.05 kHz), and 64k-frame reads made long files ten times slower on a busy CPU
        read = max(4096, min(_STREAM_READ_FRAMES, math.ceil(block * src.rate / SAMPLE_RATE)))
        rs = None if src.rate == SAMPLE_RATE else _StreamResampler(src.rate, SAMPLE_RATE)
        pending: list[np.ndarray] = []
        held = 0
        for mono in _mono_blocks(path, src, read):
            out = mono if rs is None else rs.push(mono)
            pending.append(out)
            held += len(out)
            while held >= block:
                joined = np.concatenate(pending)
                yield joined[:block]
                pending, held = [joined[block:]], held - block
        if rs is not None:
            pending.append(rs.finish())
        rest = np.concatenate(pending)
        for i in range(0, len(rest), block):
            yield rest[i : i + block]
    finally:
        src.close()
