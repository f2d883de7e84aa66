"""FaceCurves as files: `.json` (readable, 6 decimals) or `.npz` (exact float32, no pickles)."""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from emosync.atomic import check_writable
from emosync.errors import InputError
from emosync.exporters.pieces import PIECE_ROWS, Opener, Progress, TextWriter, write_all
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
    """Write `curves` to `path` (.json or .npz by suffix), atomically, piece by piece, with
    `progress` getting (frames written, frames)."""
    path = Path(path)
    opener = curves_opener(path)
    check_writable(path, force=force)
    return write_all(curves.pieces(PIECE_ROWS), [opener], force, progress)[0]


def curves_opener(path: Path) -> tuple[Path, str, Opener]:
    """(path, file mode, opener) of a .json or .npz output for exporters.pieces.write_all."""
    if _suffix(path) == ".json":
        return path, "w", lambda f, first: TextWriter(f, lambda p: p.json_pieces(JSON_ROWS))
    return path, "wb", NpzWriter


class NpzWriter:
    """The .npz that np.savez_compressed writes (members values, fps, channels, metadata), with
    `values` streamed into its zip member piece by piece: its .npy header is made from the
    clip's frame count, then each piece's rows follow as raw float32."""

    def __init__(self, f: IO[Any], first: FaceCurves) -> None:
        self.zip = zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED)
        self.first = first
        self.member = self.zip.open("values.npy", "w", force_zip64=True)
        shape = (first.clip_frames, len(first.channels))
        header = {"descr": "<f4", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(self.member, header)

    def write(self, piece: FaceCurves) -> None:
        self.member.write(np.ascontiguousarray(piece.values, "<f4").tobytes())

    def close(self) -> None:
        self.member.close()
        for name, value in self.first.npz_arrays().items():
            if name != "values":
                with self.zip.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
        self.zip.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # the file is removed anyway
            self.member.close()
            self.zip.close()


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
