"""`emosync live` latency, compute and drift.

1. Latency, from an audio sample entering the process to its frame leaving (all senders, to
   loopback ports): the benchmark clip (bench_animate.py's 60 s of real speech) arrives in
   20 ms blocks, as the microphone delivers them. The sample at a frame's time enters when the
   block holding it has arrived; the frame leaves when the block that completes its look-ahead
   has been computed and sent. Algorithmic latency is the audio time between the two; compute
   is that block's measured time (LiveFace + Live Link, VMC and OSC senders). Printed per frame
   rate: median and maximum of algorithmic + compute, against the 150 ms target.
2. Compute per 20 ms block: median and 95th percentile over the clip (target: median <= 5 ms).
3. Drift: an hour of audio (the clip repeated) fed as fast as it computes in 1 s blocks at
   60 fps: frames out against round(3600 x 60), and the lag between the audio in and the
   newest frame out in the first and the last minute (constant lag = no drift). Then `--realtime`
   pacing over `--pace-seconds`: wall clock against audio time at the end.

    .venv/bin/python bench/bench_live.py            # --hours 1 --pace-seconds 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emosync.cli.live_sources import CHUNK, paced
from emosync.exporters.live_livelink import LiveLinkSender
from emosync.exporters.live_osc import OscSender, VmcSender
from emosync.inference.audio import SAMPLE_RATE, load_audio
from emosync.inference.convertor import shipped_convertor
from emosync.inference.live_face import LiveFace

ROOT = Path(__file__).resolve().parents[1]
TARGET_LATENCY_MS = 150.0
TARGET_COMPUTE_MS = 5.0
SINK = "127.0.0.1"  # nothing listens on the sink ports: the packets are built and sent all the same


def clip(seconds: float) -> tuple[np.ndarray, str]:
    try:
        from bench_animate import build_clip

        samples, _, n = build_clip(seconds)
        return samples, f"bench_animate.py's clip ({n} Asterisk test prompts, {seconds:g} s)"
    except Exception as exc:  # no Asterisk prompts on this machine: the bundled example
        x = load_audio(ROOT / "examples" / "hello.wav").samples
        reps = int(np.ceil(seconds * SAMPLE_RATE / x.size))
        why = f"{type(exc).__name__}"
        return np.tile(x, reps)[: int(seconds * SAMPLE_RATE)], f"examples/hello.wav tiled ({why})"


def senders(fps: float) -> list:
    return [
        LiveLinkSender(SINK, 9, "Bench", fps),
        VmcSender(SINK, 9, "arkit", fps),
        OscSender(SINK, 9),
    ]


def latency(samples: np.ndarray, fps: float) -> dict[str, float]:
    face = LiveFace(shipped_convertor(), fps=fps)
    outs = senders(fps)
    block_ms = 1000.0 * CHUNK / SAMPLE_RATE
    emitted_by: list[int] = []  # block index that sent each frame
    compute: list[float] = []
    cpu: list[float] = []
    for b, a in enumerate(range(0, samples.size - CHUNK + 1, CHUNK)):
        t0, c0 = time.perf_counter(), time.process_time()
        frames = face.push(samples[a : a + CHUNK])
        for out in outs:
            out.send(len(emitted_by), frames)
        compute.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        emitted_by += [b] * len(frames)
    j = np.arange(len(emitted_by))
    sample_at = np.round(j / fps * SAMPLE_RATE).astype(int)
    entered_ms = (sample_at // CHUNK + 1) * block_ms  # end of the block holding the sample
    left_ms = (np.array(emitted_by) + 1) * block_ms
    algorithmic = left_ms - entered_ms
    compute_ms = 1000.0 * np.array(compute)[emitted_by]
    total = algorithmic + compute_ms
    return {
        "frames": len(emitted_by),
        "algo_median": float(np.median(algorithmic)),
        "algo_max": float(algorithmic.max()),
        "total_median": float(np.median(total)),
        "total_p95": float(np.percentile(total, 95)),
        "total_max": float(total.max()),
        "compute_median": 1000.0 * statistics.median(compute),
        "compute_p95": 1000.0 * float(np.percentile(compute, 95)),
        "compute_max": 1000.0 * max(compute),
        "cpu_median": 1000.0 * statistics.median(cpu),
        "cpu_p95": 1000.0 * float(np.percentile(cpu, 95)),
    }


def drift(samples: np.ndarray, hours: float, fps: float = 60.0) -> dict[str, float]:
    face = LiveFace(shipped_convertor(), fps=fps)
    total = int(hours * 3600 * SAMPLE_RATE)
    lags: list[tuple[float, float]] = []  # (audio seconds in, lag of the newest frame out)
    t0 = time.perf_counter()
    fed = 0
    while fed < total:
        a = fed % samples.size
        block = samples[a : a + min(SAMPLE_RATE, total - fed, samples.size - a)]
        face.push(block)
        fed += block.size
        audio_s = fed / SAMPLE_RATE
        lags.append((audio_s, audio_s - face.frames_out / fps))
    face.finish()
    wall = time.perf_counter() - t0
    lag = np.array(lags)
    first = lag[lag[:, 0] <= 60.0, 1]
    last = lag[lag[:, 0] > lag[-1, 0] - 60.0, 1]
    return {
        "seconds": total / SAMPLE_RATE,
        "frames": face.frames_out,
        "expected": round(total / SAMPLE_RATE * fps),
        "lag_first_ms": 1000.0 * float(np.mean(first)),
        "lag_last_ms": 1000.0 * float(np.mean(last)),
        "wall": wall,
    }


def pacing(seconds: float) -> tuple[float, float]:
    """(audio seconds released, wall seconds it took) for `paced` 20 ms blocks."""
    n = int(seconds * SAMPLE_RATE / CHUNK)
    blocks = (np.zeros(CHUNK, np.float32) for _ in range(n))
    t0 = time.perf_counter()
    for _ in paced(blocks):
        pass
    return n * CHUNK / SAMPLE_RATE, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="latency clip length")
    parser.add_argument("--hours", type=float, default=1.0, help="audio fed for the drift check")
    parser.add_argument("--pace-seconds", type=float, default=30.0, help="realtime pacing run")
    args = parser.parse_args()
    samples, what = clip(args.seconds)
    print(f"clip: {what}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    shipped_convertor()  # load once, outside the timings
    for fps in (50.0, 60.0):
        r = latency(samples, fps)
        verdict = "met" if r["total_median"] <= TARGET_LATENCY_MS else "NOT met"
        print(
            f"latency at {fps:g} fps ({r['frames']} frames, 20 ms blocks): algorithmic median "
            f"{r['algo_median']:.1f} ms max {r['algo_max']:.1f}; + compute: median "
            f"{r['total_median']:.1f} ms, p95 {r['total_p95']:.1f}, max {r['total_max']:.1f} "
            f"(target <= {TARGET_LATENCY_MS:g} at the median: {verdict})"
        )
        verdict = "met" if r["compute_median"] <= TARGET_COMPUTE_MS else "NOT met"
        print(
            f"compute per 20 ms block at {fps:g} fps (face + Live Link + VMC + OSC): median "
            f"{r['compute_median']:.2f} ms, p95 {r['compute_p95']:.2f}, max "
            f"{r['compute_max']:.1f}; CPU time (all threads) median {r['cpu_median']:.2f} ms, "
            f"p95 {r['cpu_p95']:.2f} (target median <= {TARGET_COMPUTE_MS:g} ms: {verdict})"
        )
    print(f"load average now {os.getloadavg()[0]:.1f}")
    if args.hours > 0:
        d = drift(samples, args.hours)
        print(
            f"drift: {d['seconds']:.0f} s of audio in {d['wall']:.0f} s wall -> "
            f"{d['frames']} frames at 60 fps, expected {d['expected']} (difference "
            f"{d['frames'] - d['expected']}); lag of the newest frame behind the audio: first "
            f"minute {d['lag_first_ms']:.1f} ms, last minute {d['lag_last_ms']:.1f} ms"
        )
    if args.pace_seconds > 0:
        audio_s, wall_s = pacing(args.pace_seconds)
        print(
            f"--realtime pacing: {audio_s:.2f} s of audio released in {wall_s:.3f} s wall "
            f"(off by {1000 * (wall_s - audio_s):+.1f} ms)"
        )


if __name__ == "__main__":
    main()
