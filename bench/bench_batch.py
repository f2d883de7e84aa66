"""Throughput of `emosync batch` on the local process pool: N lines of 2–6 s of speech.

    python bench/bench_batch.py [--lines 1000] [--workers 2] [--baseline 40] [--format glb]

The lines are espeak-ng sentences (seeded word windows of a fixed text, 2–6 s each), made once
and cached in --cache. First `animate` + export runs in this process on --baseline lines with
warm models ("animate's own time" per line); then a fresh batch runs all N lines. Prints lines
per second, the CPU seconds of the whole process tree against wall × workers (how busy the
workers kept their cores), the busy share of every core on the machine (other programs
included), peak memory, the per-line overhead beyond animate's own time, and a resumed run
(every line current, so skipped).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from emosync.exporters.dispatch import export
from emosync.inference.audio import probe_audio
from emosync.inference.pipeline import animate
from emosync.studio.batch import BatchRun, run_batch
from emosync.studio.options import animate_options

TEXT = (
    "the morning train was late again so we walked along the river and talked about the "
    "summer holidays while the rain came down over the hills and the old bridge where my "
    "grandfather used to fish every sunday before the market opened and the bakers started "
    "selling warm bread to the people waiting in the square near the station clock which "
    "has not told the right time for years but nobody seems to mind because the town "
    "moves at its own pace and everyone knows the baker the teacher and the doctor by name "
    "they will tell you that the winter was hard and the harvest was small but the music "
    "at the festival was the best they have heard since the new school was built"
).split()
MIN_S, MAX_S = 2.0, 6.0
SAMPLE_HZ = 0.25  # seconds between samples of CPU and memory


def make_lines(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """`n` espeak-ng clips of 2–6 s (cached: made once per folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    clips = []
    for i in range(n):
        path = folder / f"line_{i:05d}.wav"
        clips.append(path)
        if path.is_file():
            continue
        words = rng.randint(5, 15)
        for _ in range(10):
            start = rng.randrange(len(TEXT) - words)
            speed = rng.choice((150, 165, 175, 190))
            text = " ".join(TEXT[start : start + words])
            tmp = path.with_suffix(".part.wav")
            subprocess.run(["espeak-ng", "-s", str(speed), "-w", str(tmp), text], check=True)
            duration = probe_audio(tmp).duration
            if MIN_S <= duration <= MAX_S:
                tmp.replace(path)
                break
            words = max(3, words + (2 if duration < MIN_S else -2))
        else:
            raise SystemExit(f"could not make a 2–6 s clip for line {i}")
    return clips


class TreeSampler(threading.Thread):
    """CPU seconds and memory of this process and all its descendants, from /proc."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.cpu: dict[int, float] = {}  # last CPU seconds seen per pid
        self.peak_rss = 0
        self.peak_worker_rss = 0
        self.stop = threading.Event()
        self.tick = 100.0
        self.cores0 = _core_times()
        self.own_cpu = 0.0
        self.parent0 = 0.0

    def start(self) -> None:
        self.sample()
        import os

        self.parent0 = self.cpu.get(os.getpid(), 0.0)
        super().start()

    def run(self) -> None:
        import os

        self.tick = float(os.sysconf("SC_CLK_TCK"))
        while not self.stop.wait(SAMPLE_HZ):
            self.sample()
        self.own_cpu = time.thread_time()  # the sampler's own CPU is not the batch's

    def sample(self) -> None:
        import os

        pids = _tree(os.getpid())
        total_rss = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.cpu[pid] = (int(fields[11]) + int(fields[12])) / self.tick
            rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            total_rss += rss
            if pid != os.getpid():
                self.peak_worker_rss = max(self.peak_worker_rss, rss)
        self.peak_rss = max(self.peak_rss, total_rss)

    def finish(self) -> tuple[float, float, list[float]]:
        """CPU seconds of the tree less the sampler, of this process alone, and core use."""
        import os

        self.stop.set()
        self.join()
        self.sample()
        parent = self.cpu.pop(os.getpid(), 0.0) - self.parent0 - self.own_cpu
        cores1 = _core_times()
        busy = []
        for (b0, t0), (b1, t1) in zip(self.cores0, cores1, strict=True):
            busy.append((b1 - b0) / max(t1 - t0, 1))
        return sum(self.cpu.values()) + parent, parent, busy


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [root], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _core_times() -> list[tuple[int, int]]:
    """(busy, total) jiffies per core, from /proc/stat."""
    cores = []
    for row in Path("/proc/stat").read_text().splitlines():
        if row.startswith("cpu") and row[3:4].isdigit():
            v = [int(x) for x in row.split()[1:]]
            idle = v[3] + v[4]
            cores.append((sum(v[:8]) - idle, sum(v[:8])))
    return cores


def baseline(clips: list[Path], formats: tuple[str, ...], out: Path) -> dict[str, float]:
    """Mean wall and CPU seconds per line of animate alone and of animate + export, in this
    process (models warm: one line is run first and not counted)."""
    options = animate_options()
    animate(clips[0], options)
    times: dict[str, list[float]] = {"anim": [], "total": [], "anim_cpu": [], "total_cpu": []}
    for i, clip in enumerate(clips):
        w0, c0 = time.perf_counter(), time.process_time()
        curves = animate(clip, options)
        w1, c1 = time.perf_counter(), time.process_time()
        for suffix in formats:
            export(curves, out / f"base_{i}{suffix}", force=True)
        w2, c2 = time.perf_counter(), time.process_time()
        times["anim"].append(w1 - w0)
        times["total"].append(w2 - w0)
        times["anim_cpu"].append(c1 - c0)
        times["total_cpu"].append(c2 - c0)
    return {k: statistics.mean(v) for k, v in times.items()}


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=40, help="lines timed in-process")
    parser.add_argument("--format", default="glb", help="output formats, e.g. glb,csv")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "emosync_bench_batch"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        raise SystemExit("bench_batch needs espeak-ng")
    formats = tuple(f".{f.strip()}" for f in args.format.split(","))

    t0 = time.perf_counter()
    clips = make_lines(args.cache / "clips", args.lines)
    audio_s = sum(probe_audio(c).duration for c in clips)
    print(f"{len(clips)} lines, {audio_s:.0f} s of speech ({audio_s / len(clips):.2f} s per "
          f"line), ready in {time.perf_counter() - t0:.1f} s")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        base = baseline(clips[: args.baseline], formats, tmp_path)
        print(f"in-process, warm ({args.baseline} lines), per line: animate "
              f"{ms(base['anim'])} wall / {ms(base['anim_cpu'])} CPU, animate + export "
              f"{ms(base['total'])} wall / {ms(base['total_cpu'])} CPU")  # fmt: skip

        manifest = tmp_path / "lines.jsonl"
        manifest.write_text("".join(json.dumps({"audio": str(c)}) + "\n" for c in clips))
        run = BatchRun(str(manifest), str(tmp_path / "out"), formats=formats, workers=args.workers)
        sampler = TreeSampler()
        sampler.start()
        t0 = time.perf_counter()
        report = run_batch(run)
        wall = time.perf_counter() - t0
        cpu, parent_cpu, cores = sampler.finish()
        n, failed = len(clips), report.count("failed")
        inside = sum(r.seconds for r in report.lines)
        occupancy = inside / (wall * args.workers)
        cpu_line = cpu / n
        print(f"batch, {args.workers} workers: {n} lines in {wall:.1f} s = {n / wall:.2f} "
              f"lines/s ({audio_s / wall:.1f} s of speech per s), {failed} failed")  # fmt: skip
        print(f"  workers inside a line {100 * occupancy:.0f} % of the run "
              f"(mean {ms(inside / n)} wall per line in run_line)")  # fmt: skip
        print(f"  CPU per line, whole process tree (parent, pool start, workers): "
              f"{ms(cpu_line)}; beyond animate + export {ms(cpu_line - base['total_cpu'])}, "
              f"beyond animate {ms(cpu_line - base['anim_cpu'])}")  # fmt: skip
        print(f"  of which the parent (manifest, scheduling, report) {ms(parent_cpu / n)}")
        print(f"  the batch's processes used {cpu:.1f} CPU s = "
              f"{100 * cpu / (wall * args.workers):.0f} % of {args.workers} cores; every core on "
              f"the machine busy {', '.join(f'{100 * b:.0f} %' for b in cores)} "
              f"(other programs included)")  # fmt: skip
        print(f"  peak memory: {sampler.peak_rss / 2**20:.0f} MiB for the whole tree, "
              f"{sampler.peak_worker_rss / 2**20:.0f} MiB the largest child")  # fmt: skip

        t0 = time.perf_counter()
        again = run_batch(run)
        resume = time.perf_counter() - t0
        print(f"resumed run: {again.count('skipped')} skipped in {resume:.1f} s "
              f"({1000 * resume / len(clips):.1f} ms per line)")  # fmt: skip
    if args.json:
        figures = {
            "lines": n, "workers": args.workers, "wall_s": wall, "lines_per_s": n / wall,
            "baseline": base, "occupancy": occupancy, "cpu_s_per_line": cpu_line,
            "cpu_share": cpu / (wall * args.workers), "cores_busy": cores,
            "peak_rss_mib": sampler.peak_rss / 2**20, "resume_s": resume,
        }  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
