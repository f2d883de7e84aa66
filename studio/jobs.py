"""One batch line: animate, retarget, export; skipped when its outputs are current.

A line is current when all its outputs exist and a stamp in OUTDIR/.emosync-batch/ holds the
same key: a hash of the EmoSync version, the content of every input file (audio, transcript,
emotion image or voice, timeline, mesh) and the options. The stamp is written "pending" before
the first output and "complete" after the last, so a run killed mid-line redoes that line, and
only outputs a batch wrote itself are ever replaced without --force. Every output is written
atomically. `run_line` never raises: a failure is a result with its reason.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosync import __version__
from emosync.atomic import atomic_write_text
from emosync.checksum import file_sha256
from emosync.errors import InputError
from emosync.studio.manifest import FILE_KEYS, Line

if TYPE_CHECKING:
    from emosync.exporters.flame import FlameRig

STATE_DIR = ".emosync-batch"
GLTF_SUFFIXES = (".glb", ".gltf")


@dataclass
class LineResult:
    index: int
    label: str
    status: str  # "done", "skipped" or "failed"
    outputs: list[str] = field(default_factory=list)
    reason: str | None = None
    seconds: float = 0.0
    audio: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_line(line: Line, outdir: str, force: bool = False, mesh: str | None = None) -> LineResult:
    """Run one line; every problem ends up in the result, nothing is raised."""
    started = time.perf_counter()
    result = LineResult(line.index, line.label, "failed", list(line.outputs), audio=line.audio)
    try:
        if line.error:
            raise InputError(line.error)
        result.status, result.warnings = _run(line, Path(outdir), force, mesh)
    except InputError as exc:
        result.reason = str(exc)
    except Exception as exc:  # one broken line must not stop the batch
        result.reason = f"internal error: {type(exc).__name__}: {exc}"
    result.seconds = round(time.perf_counter() - started, 4)
    return result


def run_line_in_worker(
    line: Line, outdir: str, force: bool = False, mesh: str | None = None
) -> LineResult:
    """`run_line` in a pool or Ray worker: the batch already keeps every core busy with lines,
    so the aligner does not start processes of its own for long clips."""
    os.environ.setdefault("EMOSYNC_ALIGN_WORKERS", "1")
    return run_line(line, outdir, force, mesh)


def _run(line: Line, outdir: Path, force: bool, mesh: str | None) -> tuple[str, list[str]]:
    from emosync.exporters.dispatch import export
    from emosync.exporters.flame import write_flame_outputs
    from emosync.exporters.rig_presets import apply_rig
    from emosync.inference.pipeline import animate
    from emosync.studio.options import animate_options

    key = line_key(line, mesh)
    stamp = stamp_path(outdir, line)
    previous = _read_stamp(stamp)
    outputs = [outdir / o for o in line.outputs]
    current = previous.get("key") == key and previous.get("complete")
    if not force and current and all(p.is_file() for p in outputs):
        return "skipped", []
    if not force and not previous:
        for p in outputs:
            if p.exists():
                raise InputError(f"output {p} exists (use --force to overwrite)")
    curves = animate(line.audio or "", animate_options(**line.settings))
    _clear_leftovers(stamp)
    _write_stamp(stamp, line, key, complete=False)
    for p in outputs:
        p.parent.mkdir(parents=True, exist_ok=True)
        _clear_leftovers(p)
    if line.flame is not None:
        write_flame_outputs(curves, outputs, _flame_rig(*line.flame), force=True)
    else:
        curves = apply_rig(curves, line.rig)
        for p in outputs:
            export(curves, p, force=True, mesh=mesh if p.suffix.lower() in GLTF_SUFFIXES else None)
    _write_stamp(stamp, line, key, complete=True)
    return "done", list(curves.metadata.get("warnings", []))


def line_key(line: Line, mesh: str | None = None) -> str:
    """The hash that says whether a line's outputs are current."""
    settings = dict(line.settings)
    for name in FILE_KEYS:
        if settings.get(name):
            settings[name] = file_digest(settings[name], name.replace("_", " "))
    if settings.get("transcript"):  # a file (text is in the settings as it is)
        settings["transcript"] = file_digest(settings["transcript"], "transcript")
    data: dict[str, Any] = {
        "emosync": __version__,
        "audio": file_digest(line.audio or "", "audio"),
        "settings": {k: str(v) for k, v in sorted(settings.items())},
        "rig": line.rig,
        "outputs": list(line.outputs),
        "mesh": file_digest(mesh, "mesh") if mesh else None,
    }
    if line.flame is not None:
        model, landmarks, n_expressions = line.flame
        data["flame"] = [
            file_digest(model, "FLAME model"),
            file_digest(landmarks, "FLAME landmarks") if landmarks else None,
            n_expressions,
        ]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@functools.cache
def _flame_rig(model: str, landmarks: str | None, n_expressions: int | None) -> FlameRig:
    """The FLAME rig once per worker process (its fit is cached beside the model file)."""
    from emosync.exporters.flame import load_flame_rig

    return load_flame_rig(model, landmarks, n_expressions)


def file_digest(path: str, what: str) -> str:
    """The SHA-256 of an input file; a missing or unreadable one is the line's InputError."""
    try:
        return file_sha256(path)
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def stamp_path(outdir: Path, line: Line) -> Path:
    """One stamp per set of outputs (the same outputs, the same stamp, whatever row they are)."""
    name = hashlib.sha256("\n".join(line.outputs).encode()).hexdigest()[:32]
    return outdir / STATE_DIR / f"{name}.json"


def _clear_leftovers(path: Path) -> None:
    """Remove the temporary files of an atomic write of `path` that a killed worker left (only
    this line writes `path`, and the worker that left them is gone)."""
    if path.parent.is_dir():
        for part in path.parent.glob(f".{glob.escape(path.name)}.*.part"):
            part.unlink(missing_ok=True)


def _read_stamp(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_stamp(path: Path, line: Line, key: str, complete: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = {"key": key, "complete": complete, "outputs": list(line.outputs), "audio": line.audio}
    atomic_write_text(path, json.dumps(stamp, indent=1) + "\n", force=True)
