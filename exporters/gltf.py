"""GLB / glTF export: the demo face, or the user's own morph-target mesh, animated by FaceCurves.

`.glb` gives one binary file; `.gltf` gives JSON with the buffer embedded as base64, so either
is a single self-contained file. The head/eye axis convention is in gltf_rotation.py.
"""

from __future__ import annotations

import base64
import logging
import struct
from pathlib import Path
from typing import Any

from pygltflib import GLTF2, Buffer

from emosync.atomic import atomic_write_bytes, atomic_write_text, check_writable
from emosync.errors import InputError
from emosync.exporters.gltf_demo import build_demo_document
from emosync.exporters.gltf_user import build_user_document, mapping_report
from emosync.inference.facecurves import FaceCurves

__all__ = ["export_face_gltf", "export_gltf", "mapping_report", "serialise"]

log = logging.getLogger(__name__)
GLTF_SUFFIXES = (".glb", ".gltf")


def _glb(json_text: str, blob: bytes) -> bytes:
    """The GLB container: 12-byte header, JSON chunk (space padded), BIN chunk (zero padded)."""
    json_bytes = json_text.encode("utf-8")
    json_bytes += b" " * (-len(json_bytes) % 4)
    blob += b"\0" * (-len(blob) % 4)
    chunks = struct.pack("<II", len(json_bytes), 0x4E4F534A) + json_bytes
    if blob:
        chunks += struct.pack("<II", len(blob), 0x004E4942) + blob
    return struct.pack("<III", 0x46546C67, 2, 12 + len(chunks)) + chunks


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


def _write(gltf: GLTF2, blob: bytes, path: Path, suffix: str, force: bool) -> Path:
    data = serialise(gltf, blob, suffix)
    if suffix == ".glb":
        return atomic_write_bytes(path, data, force=force)
    return atomic_write_text(path, data.decode("utf-8"), force=force)


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
    gltf, blob = build_demo_document(curves, face, max_active_targets)
    return _write(gltf, blob, path, suffix, force)


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
    suffix = _suffix(path)
    check_writable(path, force=force)
    if mesh is None:
        from emosync.rigs.demo_face import load_demo_face

        return export_face_gltf(curves, path, load_demo_face(), force, max_active_targets)
    gltf, blob, notes = build_user_document(curves, mesh, max_active_targets)
    for note in notes:
        log.warning("%s", note)
    return _write(gltf, blob, path, suffix, force)
