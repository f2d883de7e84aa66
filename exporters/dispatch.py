"""Pick the exporter or reader by the file suffix."""

from __future__ import annotations

from pathlib import Path

from emosync.errors import InputError
from emosync.exporters.curves_file import read_curves, write_curves
from emosync.exporters.gltf import export_gltf
from emosync.exporters.livelink import read_livelink_csv, write_livelink_csv
from emosync.inference.facecurves import FaceCurves

SUFFIXES = (".glb", ".gltf", ".csv", ".json", ".npz")
READABLE = (".csv", ".json", ".npz")


def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise InputError(
            f"cannot {what} {path.name!r}: the suffix must be one of {', '.join(allowed)}"
        )
    return suffix


def export(
    curves: FaceCurves,
    path: str | Path,
    force: bool = False,
    mesh: str | Path | None = None,
    max_active_targets: int | None = None,
) -> Path:
    """Write `curves` to `path` in the format its suffix names; `mesh` and
    `max_active_targets` only apply to .glb/.gltf."""
    path = Path(path)
    suffix = _suffix(path, SUFFIXES, "write")
    if mesh is not None and suffix not in (".glb", ".gltf"):
        raise InputError(f"a mesh can only be animated in .glb or .gltf output, not {suffix}")
    if suffix in (".glb", ".gltf"):
        return export_gltf(curves, path, mesh, force, max_active_targets)
    if suffix == ".csv":
        return write_livelink_csv(curves, path, force=force)
    return write_curves(curves, path, force=force)


def read(path: str | Path) -> FaceCurves:
    """Read FaceCurves from a Live Link CSV, FaceCurves JSON or NPZ."""
    path = Path(path)
    suffix = _suffix(path, READABLE, "read")
    return read_livelink_csv(path) if suffix == ".csv" else read_curves(path)
