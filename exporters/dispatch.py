"""Pick the exporter or reader by the file suffix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from emosync.atomic import check_writable
from emosync.errors import InputError
from emosync.exporters.curves_file import curves_opener, read_curves
from emosync.exporters.gltf import gltf_opener
from emosync.exporters.livelink import livelink_opener, read_livelink_csv
from emosync.exporters.pieces import PIECE_ROWS, Opener, Progress, write_all
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
    """Write `curves` (a whole clip) to `path` in the format its suffix names; `mesh` and
    `max_active_targets` only apply to .glb/.gltf. `progress` gets (frames written, frames)."""
    suffix = _suffix(Path(path), SUFFIXES, "write")
    if mesh is not None and suffix not in (".glb", ".gltf"):
        raise InputError(f"a mesh can only be animated in .glb or .gltf output, not {suffix}")
    pieces = curves.pieces(PIECE_ROWS)
    return export_pieces(pieces, [Path(path)], force, mesh, max_active_targets, progress)[0]


def export_pieces(
    pieces: Iterable[FaceCurves],
    paths: Sequence[Path],
    force: bool = False,
    mesh: str | Path | None = None,
    max_active_targets: int | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write a clip that arrives as FaceCurves pieces to every path in `paths`, each in the
    format its suffix names, all from one pass (exporters.pieces.write_all); `mesh` and
    `max_active_targets` apply to the .glb/.gltf ones."""
    return write_all(pieces, [opener(Path(p), mesh, max_active_targets) for p in paths],
                     force, progress)  # fmt: skip


def opener(
    path: Path, mesh: str | Path | None = None, max_active_targets: int | None = None
) -> tuple[Path, str, Opener]:
    """(path, file mode, opener) of the writer for `path`'s suffix (a new format: one more
    line here and its suffix in SUFFIXES)."""
    suffix = _suffix(path, SUFFIXES, "write")
    if suffix in (".glb", ".gltf"):
        return gltf_opener(path, mesh, max_active_targets)
    return livelink_opener(path) if suffix == ".csv" else curves_opener(path)


def read(path: str | Path) -> FaceCurves:
    """Read FaceCurves from a Live Link CSV, FaceCurves JSON or NPZ, or the blendshape weights
    of a GLB/glTF's first animation (exporters.gltf_read)."""
    path = Path(path)
    suffix = _suffix(path, READABLE, "read")
    if suffix in (".glb", ".gltf"):
        from emosync.exporters.gltf_read import read_gltf_curves

        return read_gltf_curves(path)
    return read_livelink_csv(path) if suffix == ".csv" else read_curves(path)
