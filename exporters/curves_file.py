"""FaceCurves as files: `.json` (readable, 6 decimals) or `.npz` (exact float32, no pickles)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_open, check_writable
from emosync.errors import InputError
from emosync.exporters.pieces import Progress, write_pieces
from emosync.inference.facecurves import JSON_ROWS, FaceCurves

CURVE_SUFFIXES = (".json", ".npz")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in CURVE_SUFFIXES:
        raise InputError(f"curves file must end in .json or .npz, got {path.name}")
    return suffix


def write_curves(
    curves: FaceCurves,
    path: str | Path,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write `curves` to `path` (.json or .npz by suffix), atomically; JSON piece by piece,
    with `progress` getting (frames written, frames)."""
    path = Path(path)
    suffix = _suffix(path)
    check_writable(path, force=force)
    if suffix == ".json":
        pieces = curves.json_pieces(JSON_ROWS)
        return write_pieces(path, pieces, curves.n_frames, JSON_ROWS, force, progress)
    with atomic_open(path, "wb", force=force) as f:
        np.savez_compressed(f, **curves.npz_arrays())
    return path


def read_curves(path: str | Path) -> FaceCurves:
    """Read a FaceCurves .json or .npz; InputError (one line) for missing or corrupt files."""
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    try:
        if suffix == ".json":
            return FaceCurves.from_json(path.read_text(encoding="utf-8"))
        with np.load(path, allow_pickle=False) as arrays:
            return FaceCurves.from_npz_arrays(arrays)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
    except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        # ValueError also covers UnicodeDecodeError, JSON errors, bad shapes and pickled arrays
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path.name} is not a valid FaceCurves file ({reason})") from None
