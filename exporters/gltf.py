"""GLB / glTF export: the demo face, or the user's own morph-target mesh, animated by FaceCurves.

`.glb` gives one binary file; `.gltf` gives JSON with the buffer embedded as base64, so either
is a single self-contained file. The head/eye axis convention is in gltf_rotation.py.
"""

from __future__ import annotations

import base64
import logging
import struct
from pathlib import Path
from typing import IO, Any

from pygltflib import GLTF2, Buffer

from emosync.atomic import check_writable
from emosync.errors import InputError
from emosync.exporters.gltf_demo import DemoLayout
from emosync.exporters.gltf_user import build_user_document, mapping_report
from emosync.exporters.pieces import PIECE_ROWS, Opener, write_all
from emosync.inference.facecurves import FaceCurves

__all__ = ["export_face_gltf", "export_gltf", "gltf_opener", "mapping_report", "serialise"]

log = logging.getLogger(__name__)
GLTF_SUFFIXES = (".glb", ".gltf")


def _glb(json_text: str, blob: bytes) -> bytes:
    """The GLB container: 12-byte header, JSON chunk (space padded), BIN chunk (zero padded)."""
    return _glb_head(json_text, len(blob)) + blob + b"\0" * (-len(blob) % 4)


def _glb_head(json_text: str, bin_length: int) -> bytes:
    """A GLB up to its BIN chunk's data: header, JSON chunk, BIN chunk header (if any)."""
    json_bytes = json_text.encode("utf-8")
    json_bytes += b" " * (-len(json_bytes) % 4)
    bin_length += -bin_length % 4
    head = struct.pack("<II", len(json_bytes), 0x4E4F534A) + json_bytes
    total = 12 + len(head) + (8 + bin_length if bin_length else 0)
    if bin_length:
        head += struct.pack("<II", bin_length, 0x004E4942)
    return struct.pack("<III", 0x46546C67, 2, total) + head


def serialise(gltf: GLTF2, blob: bytes, suffix: str) -> bytes:
    """The document with `blob` as its only buffer, as GLB bytes or glTF JSON (UTF-8)."""
    gltf.buffers = [Buffer(byteLength=len(blob))] if blob else []
    if suffix == ".gltf" and blob:
        data = base64.b64encode(blob).decode("ascii")
        gltf.buffers[0].uri = f"data:application/octet-stream;base64,{data}"
    text = gltf.gltf_to_json(separators=(",", ":"), indent=None)
    return _glb(text, blob) if suffix == ".glb" else text.encode("utf-8")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in GLTF_SUFFIXES:
        raise InputError(f"glTF output must end in .glb or .gltf, got {path.name}")
    return suffix


def _document_text(gltf: GLTF2, blob: bytes, suffix: str) -> str | bytes:
    data = serialise(gltf, blob, suffix)
    return data if suffix == ".glb" else data.decode("utf-8")


def gltf_opener(
    path: Path, mesh: str | Path | None = None, max_active_targets: int | None = None
) -> tuple[Path, str, Opener]:
    """(path, file mode, opener) of a .glb/.gltf output for exporters.pieces.write_all: the
    demo face written piece by piece, or the user's `mesh` (whose clip is joined first)."""
    suffix = _suffix(path)
    mode = "wb" if suffix == ".glb" else "w"
    if mesh is not None:
        return path, mode, lambda f, first: MeshWriter(f, suffix, mesh, max_active_targets)

    def demo(f: IO[Any], first: FaceCurves) -> GltfWriter:
        from emosync.rigs.demo_face import load_demo_face

        return GltfWriter(f, first, load_demo_face(), suffix, max_active_targets)

    return path, mode, demo


class GltfWriter:
    """A face (DemoFace-shaped) animated by a clip that arrives piece by piece. A .glb's JSON
    and mesh data are written first (the buffer's size follows from the frame count), then each
    piece's animation bytes at their place in the BIN chunk; a .gltf (its buffer is base64
    inside the JSON) fills its buffer in memory and is written at the end."""

    def __init__(
        self, f: IO[Any], first: FaceCurves, face: Any, suffix: str, max_active: int | None
    ) -> None:
        self.f, self.layout = f, DemoLayout(first, face, max_active)
        self.blob: bytearray | None = None
        self.base = 0
        if suffix == ".glb":
            text = self.layout.gltf.gltf_to_json(separators=(",", ":"), indent=None)
            head = _glb_head(text, self.layout.size)
            f.write(head + self.layout.head)
            self.base = len(head)
        else:
            self.blob = bytearray(self.layout.size)
            self.blob[: len(self.layout.head)] = self.layout.head

    def write(self, piece: FaceCurves) -> None:
        for offset, data in self.layout.rows(piece):
            if self.blob is None:
                self.f.seek(self.base + offset)
                self.f.write(data)
            else:
                self.blob[offset : offset + len(data)] = data

    def close(self) -> None:
        if self.blob is None:
            self.f.truncate(self.base + self.layout.size)
        else:
            self.f.write(_document_text(self.layout.gltf, bytes(self.blob), ".gltf"))

    def abort(self) -> None:
        self.blob = None


class MeshWriter:
    """The user's mesh with one more animation: not streamed, the clip is joined at the end."""

    def __init__(self, f: IO[Any], suffix: str, mesh: str | Path, max_active: int | None) -> None:
        self.f, self.suffix, self.mesh, self.max_active = f, suffix, mesh, max_active
        self.pieces: list[FaceCurves] = []

    def write(self, piece: FaceCurves) -> None:
        self.pieces.append(piece)

    def close(self) -> None:
        curves = FaceCurves.join(self.pieces)
        self.pieces.clear()
        gltf, blob, notes = build_user_document(curves, self.mesh, self.max_active)
        for note in notes:
            log.warning("%s", note)
        self.f.write(_document_text(gltf, blob, self.suffix))

    def abort(self) -> None:
        self.pieces.clear()


def export_face_gltf(
    curves: FaceCurves,
    path: str | Path,
    face: Any,
    force: bool = False,
    max_active_targets: int | None = None,
) -> Path:
    """Write `face` (DemoFace-shaped) animated by `curves` to `path` (.glb or .gltf)."""
    path = Path(path)
    suffix = _suffix(path)
    check_writable(path, force=force)
    mode = "wb" if suffix == ".glb" else "w"

    def opener(f: IO[Any], first: FaceCurves) -> GltfWriter:
        return GltfWriter(f, first, face, suffix, max_active_targets)

    return write_all(curves.pieces(PIECE_ROWS), [(path, mode, opener)], force)[0]


def export_gltf(
    curves: FaceCurves,
    path: str | Path,
    mesh: str | Path | None = None,
    force: bool = False,
    max_active_targets: int | None = None,
) -> Path:
    """Write the animation to `path` (.glb binary, .gltf JSON with an embedded buffer).

    Without `mesh` the scene is EmoSync's demo face. With `mesh` (a .glb/.gltf with morph
    targets named like ARKit blendshapes) the output is the user's file, everything kept, with
    one more animation, placed first (the one viewers and Blender's importer play).
    `max_active_targets` keeps the k largest weights of each frame.
    """
    path = Path(path)
    opener = gltf_opener(path, mesh, max_active_targets)
    check_writable(path, force=force)
    return write_all(curves.pieces(PIECE_ROWS), [opener], force)[0]
