"""Where `emosync live` hears its voice: the microphone, a file or raw PCM on standard input.

Each source yields float32 mono blocks at 16 kHz as they become available. Pacing: the
microphone is real time by nature; a file or a pipe is read as fast as it comes, or with
`realtime` released on an absolute schedule (start + samples / rate), so an hour of pacing
drifts no more than one sleep's jitter.
"""

from __future__ import annotations

import os
import queue
import sys
import time
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from emosync.errors import InputError
from emosync.inference.audio import SAMPLE_RATE, _StreamResampler, load_audio

CHUNK = 320  # samples: 20 ms, one model frame
PCM_READ = 4096  # bytes asked of the pipe per read; a read returns what has arrived


def paced(blocks: Iterator[np.ndarray], rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """Release each block when real time reaches the audio time of its last sample."""
    start = time.perf_counter()
    done = 0
    for block in blocks:
        done += len(block)
        wait = start + done / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        yield block


def file_blocks(path: str, chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """A decoded file (any format `animate` reads), resampled to 16 kHz, in chunks."""
    samples = load_audio(path).samples
    for a in range(0, samples.size, chunk):
        yield samples[a : a + chunk]


def pcm_blocks(stream: BinaryIO, rate: int) -> Iterator[np.ndarray]:
    """Raw signed 16-bit little-endian mono PCM at `rate` Hz, resampled to 16 kHz, yielded as
    soon as it arrives (a TTS or voice-chat process writing into a pipe)."""
    if not 8000 <= rate <= 192000:
        raise InputError(f"--rate must be between 8000 and 192000 Hz, got {rate}")
    resampler = None if rate == SAMPLE_RATE else _StreamResampler(rate, SAMPLE_RATE)
    fd = stream.fileno()
    carry = b""
    while True:
        data = os.read(fd, PCM_READ)
        if not data:
            break
        data = carry + data
        usable = len(data) - len(data) % 2
        carry = data[usable:]
        x = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
        out = resampler.push(x) if resampler else x
        for a in range(0, out.size, CHUNK):  # paced 20 ms at a time, not a pipe buffer at once
            yield out[a : a + CHUNK]
    if resampler is not None:
        tail = resampler.finish()
        if tail.size:
            yield tail


def _sounddevice():
    """The sounddevice module, or one clear line saying why the microphone cannot be used."""
    try:
        import sounddevice
    except ImportError:
        raise InputError("--mic needs sounddevice: pip install 'emosync[live]'") from None
    except OSError:
        raise InputError(
            "--mic needs the PortAudio library (Debian/Ubuntu: apt install libportaudio2)"
        ) from None
    return sounddevice


def mic_blocks(device: int | str | None = None, chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """The default (or named) input device, 20 ms blocks, resampled to 16 kHz when the device
    will not open at that rate."""
    sd = _sounddevice()
    try:
        info = sd.query_devices(device, kind="input")
    except (ValueError, sd.PortAudioError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "none found"
        raise InputError(
            f"no audio input device for --mic ({reason}); connect one, or use --input"
        ) from None
    blocks: queue.Queue[np.ndarray] = queue.Queue()

    def callback(indata, frames, time_info, status) -> None:  # PortAudio's thread
        blocks.put(indata[:, 0].copy())

    rate = SAMPLE_RATE
    try:
        sd.check_input_settings(device=device, samplerate=rate, channels=1, dtype="float32")
    except (ValueError, sd.PortAudioError):
        rate = int(info["default_samplerate"])
    resampler = None if rate == SAMPLE_RATE else _StreamResampler(rate, SAMPLE_RATE)
    block = int(round(chunk * rate / SAMPLE_RATE))
    try:
        stream = sd.InputStream(
            device=device, samplerate=rate, channels=1, dtype="float32", blocksize=block,
            callback=callback,
        )  # fmt: skip
    except (ValueError, sd.PortAudioError) as exc:
        raise InputError(f"cannot open the input device {info['name']!r}: {exc}") from None
    print(f"emosync: listening on {info['name']} at {rate} Hz", file=sys.stderr)
    with stream:
        while True:
            x = blocks.get()
            out = resampler.push(x) if resampler else x
            if out.size:
                yield out
