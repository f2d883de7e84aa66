"""A whole batch: read the manifest, run its lines locally or on Ray, write OUTDIR/report.json.

The report is written atomically when the batch ends, also when it is interrupted (lines not
reached are "pending"). Resuming needs no report: each line's stamp says whether it is current.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosync import __version__
from emosync.atomic import atomic_write_text
from emosync.errors import InputError
from emosync.studio.jobs import STATE_DIR, LineResult
from emosync.studio.manifest import Line, plan_lines, read_manifest

REPORT_NAME = "report.json"
LOCK_NAME = "lock"
STATUSES = ("done", "skipped", "failed", "pending")


@dataclass
class BatchRun:
    """What to run and where; `ray` is None for the local pool, else a Ray address ("" = auto)."""

    manifest: str
    outdir: str
    defaults: dict[str, Any] = field(default_factory=dict)
    formats: tuple[str, ...] = (".glb",)
    workers: int = 1
    ray: str | None = None
    force: bool = False
    mesh: str | None = None


@dataclass
class BatchReport:
    lines: list[LineResult]
    seconds: float
    path: Path

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.lines)

    def summary(self) -> str:
        n, rate = len(self.lines), len(self.lines) / max(self.seconds, 1e-9)
        parts = ", ".join(
            f"{self.count(s)} {s}" for s in STATUSES if self.count(s) or s != "pending"
        )
        return (
            f"{n} lines: {parts} in {self.seconds:.1f} s ({rate:.2f} lines/s); report {self.path}"
        )


def default_workers() -> int:
    """The cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def prepare(run: BatchRun) -> list[Line]:
    """The manifest's lines (InputError when it cannot be read at all) and a ready OUTDIR."""
    rows, base = read_manifest(run.manifest)
    if run.mesh and not Path(run.mesh).is_file():
        raise InputError(f"mesh {run.mesh} not found")
    outdir = Path(run.outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"output folder {outdir} is a file")
    try:
        (outdir / STATE_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot make output folder {outdir}: {exc.strerror or exc}") from None
    if not os.access(outdir, os.W_OK):
        raise InputError(f"output folder {outdir} is not writable")
    return plan_lines(rows, base, run.defaults, run.formats, run.mesh)


def run_batch(
    run: BatchRun,
    on_result: Callable[[LineResult], None] | None = None,
    lines: list[Line] | None = None,
) -> BatchReport:
    """Run every line once (`lines` from `prepare`, else read here); the report is written
    even when the run is interrupted (Ctrl-C or SIGTERM)."""
    lines = prepare(run) if lines is None else lines
    outdir = str(Path(run.outdir).resolve())
    results: dict[int, LineResult] = {}

    def collect(result: LineResult) -> None:
        results[result.index] = result
        if on_result:
            on_result(result)

    with outdir_lock(Path(outdir)):
        started = time.perf_counter()
        try:
            with _term_as_interrupt():
                if run.ray is None:
                    from emosync.studio.pool import run_local

                    run_local(lines, outdir, run.workers, collect, run.force, run.mesh)
                else:
                    from emosync.studio.ray_runner import run_ray

                    run_ray(lines, outdir, run.ray or None, collect, run.force, run.mesh)
        finally:
            report = BatchReport(
                [results.get(line.index) or _pending(line) for line in lines],
                time.perf_counter() - started,
                Path(run.outdir) / REPORT_NAME,
            )
            write_report(report, run)
    return report


@contextlib.contextmanager
def outdir_lock(outdir: Path) -> Iterator[None]:
    """One batch at a time per output folder: two would redo each other's lines and trip over
    each other's temporary files. An advisory lock, released when the process ends."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    path = outdir / STATE_DIR / LOCK_NAME
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(
                f"another emosync batch is writing to {outdir}; wait for it to finish"
            ) from None
        yield


@contextlib.contextmanager
def _term_as_interrupt() -> Iterator[None]:
    """SIGTERM (a job scheduler stopping the run) ends the batch like Ctrl-C: the report is
    written. Only in the main thread, where Python can take signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _pending(line: Line) -> LineResult:
    return LineResult(line.index, line.label, "pending", list(line.outputs), audio=line.audio)


def write_report(report: BatchReport, run: BatchRun) -> Path:
    """OUTDIR/report.json, written atomically: every line with its status."""
    data = {
        "emosync": __version__,
        "manifest": str(Path(run.manifest).resolve()),
        "outdir": str(Path(run.outdir).resolve()),
        "runner": "local" if run.ray is None else "ray",
        "workers": run.workers if run.ray is None else None,
        "seconds": round(report.seconds, 3),
        "summary": {s: report.count(s) for s in STATUSES} | {"lines": len(report.lines)},
        "lines": [r.to_json() for r in report.lines],
    }
    return atomic_write_text(report.path, json.dumps(data, indent=1) + "\n", force=True)
