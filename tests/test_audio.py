"""Audio decoding, downmix, resampling and streaming, on real files from espeak-ng/sox/ffmpeg."""

from __future__ import annotations

import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emosync.errors import InputError
from emosync.inference.audio import (
    SAMPLE_RATE,
    Audio,
    _open_source,
    load_audio,
    probe_audio,
    resample,
    stream_audio,
)

TEXT = "The quick brown fox jumps over the lazy dog while we sing a merry song."


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def _sox(src: Path, dst: Path, *opts: str) -> Path:
    _run("sox", str(src), *opts, str(dst))
    return dst


def _ffmpeg() -> str:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    return imageio_ffmpeg.get_ffmpeg_exe()


def _best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 800) -> float:
    """Highest normalised cross-correlation of a and b over lags within ±max_lag samples."""
    n = min(len(a), len(b))
    a, b = a[:n].astype(np.float64), b[:n].astype(np.float64)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    xc = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    lags = np.concatenate([xc[: max_lag + 1], xc[-max_lag:]])
    return float(lags.max() / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "speech.wav"  # espeak-ng writes 22.05 kHz 16-bit
    _run("espeak-ng", "-w", str(path), TEXT)
    return path


@pytest.fixture(scope="module")
def reference(speech: Path) -> np.ndarray:
    data, rate = sf.read(speech, dtype="float64")
    return resample(data, rate, SAMPLE_RATE)


# (file name, sox options, source rate, channels)
SOX_VARIANTS = [
    ("pcm8_44k1_stereo.wav", ["-r", "44100", "-c", "2", "-b", "8", "-e", "unsigned"], 44100, 2),
    ("pcm16_48k.wav", ["-r", "48000", "-b", "16"], 48000, 1),
    ("pcm24_8k.wav", ["-r", "8000", "-b", "24"], 8000, 1),
    ("pcm32_22k05.wav", ["-b", "32"], 22050, 1),
    ("float32_44k1.wav", ["-r", "44100", "-e", "floating-point", "-b", "32"], 44100, 1),
    ("stereo_16k.wav", ["-r", "16000", "-c", "2"], 16000, 2),
    ("flac24_48k.flac", ["-r", "48000", "-b", "24"], 48000, 1),
    ("vorbis_44k1.ogg", ["-r", "44100", "-c", "2"], 44100, 2),
]


@pytest.mark.parametrize(("name", "opts", "rate", "channels"), SOX_VARIANTS)
def test_formats_decode_to_16k_mono(
    speech: Path,
    reference: np.ndarray,
    tmp_path: Path,
    name: str,
    opts: list[str],
    rate: int,
    channels: int,
) -> None:
    path = _sox(speech, tmp_path / name, *opts)
    audio = load_audio(path)
    assert isinstance(audio, Audio)
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert (audio.source_rate, audio.source_channels) == (rate, channels)
    assert audio.path == str(path)
    assert abs(audio.duration - len(reference) / SAMPLE_RATE) < 0.01
    # Same speech as the reference; 8-bit and 8 kHz lose detail, lossy codecs more.
    floor = 0.97 if name.startswith(("pcm8", "pcm24_8k", "vorbis")) else 0.999
    assert _best_correlation(audio.samples, reference) > floor
    info = probe_audio(path)
    assert (info.source_rate, info.channels) == (rate, channels)
    assert abs(info.duration - audio.duration) < 0.01


def test_mp3_decodes(speech: Path, reference: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "speech.mp3"
    _run(_ffmpeg(), "-loglevel", "error", "-y", "-i", str(speech), "-ar", "44100", "-ac", "2",
         str(path))  # fmt: skip
    audio = load_audio(path)
    assert (audio.source_rate, audio.source_channels) == (44100, 2)
    assert probe_audio(path).format == "MP3"
    assert abs(audio.duration - len(reference) / SAMPLE_RATE) < 0.06
    assert _best_correlation(audio.samples, reference) > 0.95


def test_downmix_averages_channels(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    left = 0.4 * np.sin(2 * np.pi * 220 * t)
    right = 0.2 * rng.standard_normal(len(t)).clip(-3, 3) / 3
    path = tmp_path / "lr.wav"
    sf.write(path, np.stack([left, right], axis=1), SAMPLE_RATE, subtype="FLOAT")
    audio = load_audio(path)
    np.testing.assert_allclose(audio.samples, (left + right) / 2, atol=1e-6)


def test_own_wav_reader_matches_soundfile(speech: Path, tmp_path: Path) -> None:
    """The RIFF reader used where soundfile is missing decodes every WAV encoding the same."""
    variants = [
        ["-b", "8", "-e", "unsigned"],
        ["-b", "16", "-c", "2"],
        ["-b", "24", "-c", "2"],  # sox writes WAVE_FORMAT_EXTENSIBLE here
        ["-b", "32"],
        ["-e", "floating-point", "-b", "32"],
        ["-e", "floating-point", "-b", "64"],
    ]
    for i, opts in enumerate(variants):
        path = _sox(speech, tmp_path / f"v{i}.wav", *opts)
        ours = _open_source(path, prefer="wav")
        theirs = sf.read(path, dtype="float32", always_2d=True)[0]
        assert (ours.rate, ours.channels, ours.frames) == (22050, theirs.shape[1], len(theirs))
        decoded = np.concatenate(list(ours.blocks(5000)))
        ours.close()
        np.testing.assert_array_equal(decoded, theirs, err_msg=str(opts))


# ---------------------------------------------------------------------------------------------
# Resampler


def _tones(rate: int, seconds: float, freqs: list[float]) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return sum(0.3 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate(freqs))


@pytest.mark.parametrize("rate", [44100, 48000, 22050, 8000, 11025])
def test_resample_matches_librosa_and_scipy(rate: int) -> None:
    librosa = pytest.importorskip("librosa")
    signal = pytest.importorskip("scipy.signal")
    top = 0.85 * min(rate, SAMPLE_RATE) / 2  # the top of the passband both rates share
    x = _tones(rate, 2.0, [440.0, 1500.0, 3000.0, top])
    y = resample(x, rate, SAMPLE_RATE)
    ref = librosa.resample(x, orig_sr=rate, target_sr=SAMPLE_RATE)  # soxr "HQ"
    assert len(y) == len(ref) == int(np.ceil(len(x) * SAMPLE_RATE / rate))
    inner = slice(1000, -1000)  # the filters treat the edges differently
    assert np.abs(y - ref)[inner].max() < 2e-4
    # scipy's polyphase filter is shorter and softer: compare where both are flat.
    x = _tones(rate, 2.0, [440.0, 1500.0, 0.5 * min(rate, SAMPLE_RATE) / 2])
    g = np.gcd(rate, SAMPLE_RATE)
    poly = signal.resample_poly(x, SAMPLE_RATE // g, rate // g, window=("kaiser", 10.0))
    assert np.abs(resample(x, rate, SAMPLE_RATE) - poly[: len(y)])[inner].max() < 1e-4


def _tone_after_resampling(freq: float, rate: int) -> tuple[float, float]:
    """A unit sine at `freq` resampled from `rate` to 16 kHz: (level in dB, strongest Hz)."""
    t = np.arange(rate * 2) / rate
    y = resample(np.sin(2 * np.pi * freq * t), rate, SAMPLE_RATE)[2000:-2000].astype(np.float64)
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    peak_hz = np.argmax(spec) * SAMPLE_RATE / len(y)
    level = 20 * np.log10(np.sqrt(2 * np.mean(y**2)) + 1e-20)
    return level, peak_hz


@pytest.mark.parametrize("rate", [44100, 48000])
def test_resample_keeps_tones_and_suppresses_aliases(rate: int) -> None:
    for freq in (1000.0, 5500.0, 7000.0):
        level, peak = _tone_after_resampling(freq, rate)
        assert abs(level) < 0.05 and abs(peak - freq) < 2.0, (freq, level, peak)
    for freq in (8600.0, 9000.0, 11000.0, 15000.0, 20000.0):  # would fold to 7.4 … 4 kHz
        level, _ = _tone_after_resampling(freq, rate)
        assert level < -90.0, (freq, level)


def test_resample_identity_and_upsampling() -> None:
    x = _tones(SAMPLE_RATE, 0.5, [300.0])
    np.testing.assert_array_equal(resample(x, SAMPLE_RATE, SAMPLE_RATE), x.astype(np.float32))
    low = _tones(8000, 1.0, [500.0])
    up = resample(low, 8000, SAMPLE_RATE)
    assert len(up) == 2 * len(low)
    np.testing.assert_allclose(up[::2][200:-200], low[200:-200], atol=1e-4)
    with pytest.raises(ValueError):
        resample(x, 0, SAMPLE_RATE)


# ---------------------------------------------------------------------------------------------
# Bad input


def _make_bad(kind: str, folder: Path, speech: Path) -> Path:
    path = folder / f"{kind}.wav"
    if kind == "missing":
        return folder / "nowhere.wav"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not audio\n")
    elif kind == "random_mp3":
        path = folder / "random.mp3"
        path.write_bytes(np.random.default_rng(0).bytes(4000))
    elif kind == "truncated_header":
        path.write_bytes(speech.read_bytes()[:30])
    elif kind == "corrupt_flac":
        flac = _sox(speech, folder / "whole.flac")
        path = folder / "corrupt.flac"
        data = bytearray(flac.read_bytes())
        data[4000:] = np.random.default_rng(2).bytes(len(data) - 4000)
        path.write_bytes(bytes(data))
    else:
        _make_bad_samples(kind, path)
    return path


def _make_bad_samples(kind: str, path: Path) -> None:
    """The bad files that are well-formed audio: too few samples, NaNs, silence, too short."""
    if kind == "one_sample":
        sf.write(path, np.array([0.5], np.float32), SAMPLE_RATE)
    elif kind == "no_samples":
        sf.write(path, np.zeros(0, np.float32), SAMPLE_RATE)
    elif kind == "too_short":
        _run("sox", "-n", "-r", "44100", str(path), "synth", "0.05", "sine", "440")
    elif kind == "nan":
        sf.write(path, np.tile([0.5, np.nan], 2000).astype(np.float32), SAMPLE_RATE, "FLOAT")
    elif kind == "silent":
        _run("sox", "-n", "-r", "16000", str(path), "trim", "0", "1")
    elif kind == "near_silent":  # -66 dBFS peak
        _run("sox", "-n", "-r", "16000", "-b", "16", str(path), "synth", "1", "sine", "440",
             "vol", "0.0005")  # fmt: skip


BAD = {
    "missing": "does not exist",
    "directory": "is a directory",
    "empty": "is empty",
    "text": "not audio",
    "random_mp3": "not audio",
    "truncated_header": "",
    "corrupt_flac": "corrupt",
    "one_sample": "single sample",
    "no_samples": "no audio samples",
    "too_short": "too short",
    "nan": "invalid samples",
    "silent": "is silent",
    "near_silent": "is silent",
}
FOUND_ONLY_BY_DECODING = {"silent", "near_silent", "nan", "corrupt_flac"}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_is_one_line_input_error(kind: str, tmp_path: Path, speech: Path) -> None:
    path = _make_bad(kind, tmp_path, speech)
    with pytest.raises(InputError) as err:
        load_audio(path)
    message = str(err.value)
    assert "\n" not in message and path.name in message and BAD[kind] in message
    if kind in FOUND_ONLY_BY_DECODING:
        probe_audio(path)  # the header is fine; only decoding finds these
    else:
        with pytest.raises(InputError, match=path.name):
            probe_audio(path)
        with pytest.raises(InputError, match=path.name):
            stream_audio(path)  # raises on the call, before any block is asked for


# ---------------------------------------------------------------------------------------------
# Streaming


@pytest.mark.parametrize("opts", [["-r", "44100", "-c", "2"], ["-r", "16000"], ["-r", "8000"]])
def test_stream_equals_load(speech: Path, tmp_path: Path, opts: list[str]) -> None:
    path = _sox(speech, tmp_path / "s.wav", *opts)
    whole = load_audio(path).samples
    blocks = list(stream_audio(path, block_seconds=0.7))
    size = int(0.7 * SAMPLE_RATE)
    assert len(blocks) == -(-len(whole) // size)
    assert all(len(b) == size for b in blocks[:-1]) and 0 < len(blocks[-1]) <= size
    np.testing.assert_allclose(np.concatenate(blocks), whole, atol=1e-4)
    with pytest.raises(InputError):
        stream_audio(path, block_seconds=0)


def test_stream_memory_is_bounded(tmp_path: Path) -> None:
    """Two minutes of 48 kHz stereo (46 MB as float32) stream through a few MB."""
    path = tmp_path / "long.wav"
    _run("sox", "-n", "-r", "48000", "-c", "2", "-b", "16", str(path), "synth", "120",
         "sine", "300", "sine", "3000", "vol", "0.3")  # fmt: skip
    tracemalloc.start()
    try:
        total = 0
        for block in stream_audio(path, block_seconds=2.0):
            total += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 120 * SAMPLE_RATE
    assert peak < 12e6, peak
