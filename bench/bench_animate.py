"""Speed of `animate` on 60 s of real speech, of writing its GLB, Live Link CSV and JSON, and of
the whole `emosync animate` process on a 300 s clip.

    python bench/bench_animate.py [--repeat N] [--seconds S] [--cli-seconds S]

The clip is test-split Asterisk prompts in name order, joined by 0.3 s of silence until the
next one would pass 60 s, then padded with silence to exactly 60 s; its transcript is theirs
joined. Prints real-time factors (audio seconds / wall seconds, and audio seconds / CPU
seconds, the number that holds on a shared machine) and the ratio against the reference
tool's 36 CPU-seconds per 60 s of audio. The process rows run `emosync animate CLIP -o OUT -q`
(no transcript, default engine) in a subprocess: start-up, imports, model load and writing
included; their CPU seconds are the child's and its children's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_bytes
from emosync.evaluation.asterisk import SAMPLE_RATE, decode_g722, list_prompts, wav_bytes
from emosync.inference.alignment import shutdown_workers

REFERENCE_CPU_SECONDS = 36.0  # the reference tool's CPU time for 60 s of speech
TARGET_SPEEDUP = 10.0
TARGET_PROCESS_RTF = 150.0  # issue 24: the whole `emosync animate` process, no transcript
GAP_SECONDS = 0.3
EMOSYNC = Path(sys.executable).with_name("emosync")


def build_clip(seconds: float = 60.0) -> tuple[np.ndarray, str, int]:
    """(samples, transcript, number of prompts) of the deterministic benchmark clip."""
    gap = np.zeros(int(GAP_SECONDS * SAMPLE_RATE), np.float32)
    total = int(seconds * SAMPLE_RATE)
    pieces, words, used = [], [], 0
    for prompt in list_prompts("test"):
        samples = decode_g722(prompt.audio_path)
        if used + len(samples) + len(gap) > total:
            continue
        pieces += [samples, gap]
        words.append(prompt.text)
        used += len(samples) + len(gap)
    pieces.append(np.zeros(total - used, np.float32))
    return np.concatenate(pieces), " ".join(words), len(words)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (recognition runs in workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of `repeat` calls, and the last result. The aligner's worker
    pool is shut down after each call so that its workers' CPU time is counted (and a run pays
    for starting it, as a CLI run does)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), cpu_seconds()
        result = fn()
        shutdown_workers()
        walls.append(time.perf_counter() - w0)
        cpus.append(cpu_seconds() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def process_rows(seconds: float, repeat: int, folder: Path) -> None:
    """The whole `emosync animate` process on a `seconds` clip without a transcript, per format."""
    samples, _text, n_prompts = build_clip(seconds)
    duration = len(samples) / SAMPLE_RATE
    wav = folder / "process.wav"
    atomic_write_bytes(wav, wav_bytes(samples))
    print(f"process: {duration:.1f} s clip ({n_prompts} prompts), `emosync animate` default engine")
    for suffix in (".json", ".glb", ".csv", ".npz"):
        cmd = [str(EMOSYNC), "animate", str(wav), "-o", str(folder / f"p{suffix}"), "-q", "--force"]
        wall, cpu, _ = timed(lambda c=cmd: subprocess.run(c, check=True), repeat)
        verdict = "met" if duration / wall >= TARGET_PROCESS_RTF else "NOT met"
        print(
            f"{'emosync animate -o ' + suffix:<28}{wall:9.3f}{cpu:9.3f}{duration / wall:8.1f}x"
            f"{duration / cpu:8.1f}x  (target {TARGET_PROCESS_RTF:g}x wall: {verdict})"
        )


def in_process(args: argparse.Namespace) -> None:
    """animate in this process on the 60 s clip, each engine; then the three exports."""
    from emosync.exporters.dispatch import export
    from emosync.inference.pipeline import AnimateOptions, animate

    samples, transcript, n_prompts = build_clip(args.seconds)
    duration = len(samples) / SAMPLE_RATE
    print(f"in process: {duration:.1f} s clip, {n_prompts} test-split Asterisk prompts")
    ref_cpu = REFERENCE_CPU_SECONDS * duration / 60.0
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "bench.wav"
        atomic_write_bytes(wav, wav_bytes(samples))
        curves = None
        for label, text, engine in (
            ("animate, with transcript", transcript, "phonetic"),
            ("animate, recognition", None, "phonetic"),
            ("animate, no transcript, auto", None, "auto"),
        ):
            options = AnimateOptions(transcript=text, fps=60.0, engine=engine)
            wall, cpu, result = timed(lambda o=options: animate(wav, o), args.repeat)
            curves = curves or result
            speedup = ref_cpu / cpu if cpu > 0 else float("inf")
            verdict = "ok" if speedup >= TARGET_SPEEDUP else f"< {TARGET_SPEEDUP:g}x target"
            print(
                f"{label:<28}{wall:9.3f}{cpu:9.3f}{duration / wall:8.1f}x"
                f"{duration / cpu:8.1f}x{speedup:11.1f}x  {verdict}"
            )
        for suffix in (".glb", ".csv", ".json"):
            out = Path(tmp) / f"bench{suffix}"
            wall, cpu, _ = timed(lambda p=out: export(curves, p, force=True), args.repeat)
            size = out.stat().st_size / 1e6
            print(
                f"{'export ' + suffix + f' ({size:.1f} MB)':<28}{wall:9.3f}{cpu:9.3f}"
                f"{duration / wall:8.0f}x{duration / max(cpu, 1e-3):8.0f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seconds", type=float, default=60.0, help="clip length")
    parser.add_argument(
        "--cli-seconds", type=float, default=300.0, help="clip of the process rows (0: skip them)"
    )
    parser.add_argument("--only-process", action="store_true", help="only the process rows")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'run':<28}{'wall s':>9}{'CPU s':>9}{'RTF':>9}{'RTF CPU':>8}{'vs ref CPU':>12}")
    if args.cli_seconds > 0:
        with tempfile.TemporaryDirectory() as tmp:
            process_rows(args.cli_seconds, args.repeat, Path(tmp))
    if not args.only_process:
        in_process(args)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
