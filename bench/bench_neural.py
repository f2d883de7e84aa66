"""Neural engine speed: real-time factor on a 60-s clip (features included) and streaming latency.

Prints, for the benchmark clip of bench_animate.py (Asterisk test prompts joined to 60 s):
log-mel alone, the convertor over the whole clip (features + windows), and neural_face (model +
life + seals at 60 fps), each as wall/CPU seconds and real-time factor (audio s / wall s).
Then NeuralStream fed in chunks of 20, 40 and 100 ms: compute time per chunk as a share of the
chunk's duration (median and 95th percentile; below 1 keeps up with live audio) and the
algorithmic latency (the model's look-ahead + the last frame's second mel hop + half a mel
window). Without the shipped model (--model) it measures the random test-fixture network and
says so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from bench_animate import build_clip, timed

from emosync.inference.audio import SAMPLE_RATE, Audio
from emosync.inference.convertor import (
    NeuralConvertor,
    NeuralStream,
    default_model_path,
    neural_face,
)
from emosync.inference.features import log_mel

TARGET_RTF = 500.0  # issue 24: features + model, in process
CHUNKS_MS = (20, 40, 100)


def open_model(path: Path | None) -> tuple[NeuralConvertor, str]:
    path = path or default_model_path()
    if not path.is_file():
        sys.exit(f"bench_neural: no convertor model at {path}")
    conv = NeuralConvertor(path)
    return conv, f"{path} (version {conv.version})"


def stream_latency(conv: NeuralConvertor, samples: np.ndarray, chunk_ms: int) -> list[float]:
    """Compute seconds per chunk / chunk seconds, for every chunk of the clip."""
    step = int(SAMPLE_RATE * chunk_ms / 1000)
    stream = NeuralStream(conv, emotion=np.zeros(7, np.float32))
    ratios = []
    for a in range(0, samples.size, step):
        t0 = time.perf_counter()
        stream.push(samples[a : a + step])
        ratios.append((time.perf_counter() - t0) / (chunk_ms / 1000))
    stream.finish()
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="convertor ONNX (default: the shipped one)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seconds", type=float, default=60.0, help="clip length")
    parser.add_argument("--stream-seconds", type=float, default=20.0, help="audio streamed")
    args = parser.parse_args()

    samples, _text, n_prompts = build_clip(args.seconds)
    duration = samples.size / SAMPLE_RATE
    conv, label = open_model(args.model)
    print(f"model: {label}; provider {conv.model.provider}; cores {os.cpu_count()}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"clip: {duration:.1f} s ({n_prompts} Asterisk test prompts)")
    emotion = np.zeros(7, np.float32)
    conv.convert(samples[:SAMPLE_RATE], emotion)  # warm-up

    audio = Audio(samples, SAMPLE_RATE, 1)
    rows = [
        ("log-mel features", lambda: log_mel(samples)),
        ("convertor (features + model)", lambda: conv.convert(samples, emotion)),
        ("neural_face at 60 fps", lambda: neural_face(audio, emotion, fps=60.0, convertor=conv)),
    ]
    for name, fn in rows:
        wall, cpu, _ = timed(fn, args.repeat)
        rtf, rtf_cpu = duration / wall, duration / max(cpu, 1e-3)
        verdict = f"(target ≥ {TARGET_RTF:g}× wall: {'met' if rtf >= TARGET_RTF else 'NOT met'})"
        print(f"{name:<30} wall {wall:7.3f} s  cpu {cpu:7.3f} s  RTF {rtf:6.0f}×  "
              f"on CPU {rtf_cpu:6.0f}×  {verdict}")  # fmt: skip

    algorithmic = (conv.lookahead + 1) * 10.0 + 12.5
    print(f"streaming: look-ahead {conv.lookahead * 10} ms; newest frame trails the audio by "
          f"{algorithmic:.1f} ms + up to 20 ms until the next frame completes")  # fmt: skip
    part = samples[: int(args.stream_seconds * SAMPLE_RATE)]
    for chunk_ms in CHUNKS_MS:
        ratios = stream_latency(conv, part, chunk_ms)
        p95 = float(np.percentile(ratios, 95))
        print(f"  chunk {chunk_ms:3d} ms: compute/chunk median {statistics.median(ratios):.4f}, "
              f"p95 {p95:.4f}, max {max(ratios):.4f} of the chunk's duration")  # fmt: skip


if __name__ == "__main__":
    main()
