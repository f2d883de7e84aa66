"""Peak memory of `emosync animate` on long clips: every engine, the main output formats.

Generates long files under /tmp by repeating a real clip (examples/hello.wav, 22.05 kHz, so the
resampler runs as it does for most users' files) and silent / near-silent files of the same
length, then runs the real CLI in a subprocess and samples the resident memory of its whole
process tree (the recognition workers included) from /proc every 0.2 s. Prints one Markdown
row per run: peak RSS of the tree, peak of the main process (from wait4), wall seconds, exit
code and the last stderr line.

    nice -n 15 .venv/bin/python bench/bench_memory.py --minutes 10 60
    nice -n 15 .venv/bin/python bench/bench_memory.py --minutes 600 --engines neural --formats npz

Runs side by side need their own --folder (the outputs are named out.<suffix> in it); --keep
keeps the generated clips for the next run. Linux only (/proc). Results: docs/reliability.md,
"Memory and length".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "hello.wav"
TRANSCRIPT = ROOT / "examples" / "hello.txt"
EMOSYNC = ROOT / ".venv" / "bin" / "emosync"
ENGINES = ("neural", "phonetic", "phonetic+transcript")
KINDS = ("speech", "silence", "near-silent")
FORMATS = (".npz", ".csv", ".json", ".glb")
BLOCK = 1 << 20  # frames written per call when generating


def make_clip(kind: str, seconds: float, folder: Path) -> Path:
    """A `seconds`-long WAV at the example clip's rate: the clip repeated, zeros, or a -70 dBFS
    hiss (near-silent: above digital zero, far below speech). Reused when already there."""
    info = sf.info(str(CLIP))
    path = folder / f"{kind}_{seconds:g}s.wav"
    if path.exists():
        return path
    total = int(round(seconds * info.samplerate))
    speech, _ = sf.read(str(CLIP), dtype="int16")
    rng = np.random.default_rng(0)
    tmp = path.with_suffix(".part")
    with sf.SoundFile(tmp, "w", info.samplerate, 1, "PCM_16", format="WAV") as f:
        done = 0
        while done < total:
            n = min(BLOCK, total - done)
            if kind == "speech":
                idx = (np.arange(done, done + n) % len(speech)).astype(np.int64)
                block = speech[idx]
            elif kind == "silence":
                block = np.zeros(n, np.int16)
            else:
                block = (rng.standard_normal(n) * 10.0).astype(np.int16)  # ~ -70 dBFS RMS
            f.write(block)
            done += n
    tmp.rename(path)
    return path


def make_transcript(seconds: float, folder: Path) -> Path:
    """The example's transcript once per repetition of the clip."""
    reps = int(np.ceil(seconds / sf.info(str(CLIP)).duration))
    path = folder / f"transcript_{seconds:g}s.txt"
    path.write_text(" ".join([TRANSCRIPT.read_text().strip()] * reps) + "\n")
    return path


def tree_memory(root: int) -> tuple[int, int]:
    """(resident bytes, proportional set size) of `root` and all its descendants, from /proc.
    PSS shares each page among the processes that map it, so forked workers that share the
    parent's pages are not counted twice."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, pss, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        pss += _pss(pid)
        todo.extend(children.get(pid, []))
    return total, pss


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run(
    cmd: list[str], timeout: float, interval: float = 0.2
) -> tuple[int, float, int, int, int, str]:
    """(exit code, wall s, peak tree RSS, peak tree PSS, peak main RSS, last stderr line); the
    tree is sampled every `interval` s (a sample reads all of /proc: at 50 ms it took a tenth
    of a core on the 2-core machine)."""
    err_path = Path(f"/tmp/emosync_bench_memory.{os.getpid()}.stderr")
    with open(err_path, "w") as err:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        peak = peak_pss = 0
        status = None
        while status is None:
            rss, pss = tree_memory(proc.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            pid, status_code, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = status_code
                break
            if time.monotonic() - start > timeout:
                proc.kill()
            time.sleep(interval)
        wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    main_peak = usage.ru_maxrss * 1024  # KiB on Linux
    lines = [ln for ln in err_path.read_text(errors="replace").splitlines() if ln.strip()]
    err_path.unlink()
    last = lines[-1].split("\r")[-1].strip() if lines else ""
    return proc.returncode, wall, max(peak, main_peak), peak_pss, main_peak, last


def command(audio: Path, engine: str, outs: list[Path], transcript: Path | None) -> list[str]:
    cmd = [str(EMOSYNC), "animate", str(audio), "--force", "-q"]
    cmd += ["--engine", "phonetic" if engine.startswith("phonetic") else "neural"]
    if transcript is not None:
        cmd += ["--transcript", str(transcript)]
    for out in outs:
        cmd += ["-o", str(out)]
    return cmd


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    ap.add_argument("--formats", nargs="+", default=["all"], help="all, each, or suffixes")
    ap.add_argument("--folder", type=Path, default=Path("/tmp/emosync_bench_memory"))
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--keep", action="store_true", help="keep the generated clips")
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between tree samples")
    args = ap.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    if args.formats == ["all"]:
        sets = [list(FORMATS)]
    elif args.formats == ["each"]:
        sets = [[s] for s in FORMATS]
    else:
        sets = [[s if s.startswith(".") else f".{s}" for s in args.formats]]
    print(
        "| clip | engine | outputs | exit | wall s | peak MB: main RSS | tree PSS | tree RSS "
        "| last stderr line |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for minutes in args.minutes:
        seconds = minutes * 60.0
        for kind in args.kinds:
            audio = make_clip(kind, seconds, args.folder)
            for engine in args.engines:
                transcript = None
                if engine == "phonetic+transcript":
                    transcript = make_transcript(seconds, args.folder)
                for suffixes in sets if kind == "speech" else [[".npz"]]:
                    outs = [args.folder / f"out{s}" for s in suffixes]
                    cmd = command(audio, engine, outs, transcript)
                    code, wall, peak, pss, main_peak, last = run(cmd, args.timeout, args.interval)
                    label = f"{kind} {minutes:g} min"
                    print(
                        f"| {label} | {engine} | {' '.join(suffixes)} | {code} | {wall:.1f} "
                        f"| {main_peak / 1e6:.0f} | {pss / 1e6:.0f} | {peak / 1e6:.0f} "
                        f"| {last[:100]} |",
                        flush=True,
                    )
                    for out in outs:
                        out.unlink(missing_ok=True)
            if not args.keep:
                audio.unlink(missing_ok=True)
    if not args.keep:
        shutil.rmtree(args.folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
