"""Pick the exporter or reader by the file suffix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from emosync.atomic import check_writable
from emosync.errors import InputError
from emosync.exporters.curves_file import read_curves, write_curves
from emosync.exporters.gltf import export_gltf
from emosync.exporters.livelink import read_livelink_csv, write_livelink_csv
from emosync.exporters.pieces import Progress
from emosync.inference.facecurves import FaceCurves

SUFFIXES = (".glb", ".gltf", ".csv", ".json", ".npz")
READABLE = (".csv", ".json", ".npz", ".glb", ".gltf")


def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise InputError(
            f"cannot {what} {path.name!r}: the suffix must be one of {', '.join(allowed)}"
        )
    return suffix


def check_outputs(paths: Sequence[Path], *, force: bool) -> None:
    """Before any work: each output has a format `export` writes, may be written (--force for an
    existing file) and is named once."""
    for path in paths:
        if path.suffix.lower() not in SUFFIXES:
            raise InputError(
                f"unknown output format '{path.suffix or path.name}'; "
                f"use one of: {', '.join(SUFFIXES)}"
            )
        check_writable(path, force=force)
    if len(set(paths)) != len(paths):
        raise InputError("the same output is named twice")


def export(
    curves: FaceCurves,
    path: str | Path,
    force: bool = False,
    mesh: str | Path | None = None,
    max_active_targets: int | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write `curves` to `path` in the format its suffix names; `mesh` and
    `max_active_targets` only apply to .glb/.gltf. `progress` gets (frames written, frames):
    frame by frame for the text formats, at the start and end for the others."""
    path = Path(path)
    suffix = _suffix(path, SUFFIXES, "write")
    if mesh is not None and suffix not in (".glb", ".gltf"):
        raise InputError(f"a mesh can only be animated in .glb or .gltf output, not {suffix}")
    if suffix == ".csv":
        return write_livelink_csv(curves, path, force=force, progress=progress)
    if suffix == ".json":
        return write_curves(curves, path, force=force, progress=progress)
    if progress is not None:
        progress(0.0, float(curves.n_frames))
    if suffix in (".glb", ".gltf"):
        out = export_gltf(curves, path, mesh, force, max_active_targets)
    else:
        out = write_curves(curves, path, force=force)
    if progress is not None:
        progress(float(curves.n_frames), float(curves.n_frames))
    return out


def read(path: str | Path) -> FaceCurves:
    """Read FaceCurves from a Live Link CSV, FaceCurves JSON or NPZ, or the blendshape weights
    of a GLB/glTF's first animation (exporters.gltf_read)."""
    path = Path(path)
    suffix = _suffix(path, READABLE, "read")
    if suffix in (".glb", ".gltf"):
        from emosync.exporters.gltf_read import read_gltf_curves

        return read_gltf_curves(path)
    return read_livelink_csv(path) if suffix == ".csv" else read_curves(path)
