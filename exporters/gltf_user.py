"""A user's own glTF/GLB with ARKit-named morph targets: read it, map its targets to channels,
and add an EmoSync animation while keeping everything the file already had. Targets named as
VRM expressions or Oculus visemes follow the ARKit curves through rigs.retarget, matched by
rigs.morph_names exactly as the Blender add-on matches shape keys.

The EmoSync clip becomes animation 0 and the file's own animations follow it unchanged: viewers
(three.js, Babylon, model-viewer) play the first clip, and Blender's importer makes the first
clip the active action, so the new animation is the one a user sees; theirs stay in the file.
"""

from __future__ import annotations

import base64
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
from pygltflib import GLTF2

from emosync.errors import InputError
from emosync.exporters.gltf_animation import (
    AnimationBuilder,
    angle_quaternions,
    channel_columns,
    limit_active_targets,
)
from emosync.exporters.gltf_buffer import BufferBuilder
from emosync.exporters.gltf_rotation import conjugate, matrix_to_quaternion, multiply
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ARKIT_NAMES, ROTATION_NAMES, canonical_name
from emosync.rigs.morph_names import match_keys

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


@dataclass
class MorphMesh:
    """A mesh with morph targets and the curve channel each target follows (None: none);
    `retargeted`: target index -> (VRM or viseme name, [52] row over the ARKit weights)."""

    index: int
    name: str
    target_names: list[str | None]
    channels: list[str | None]
    names_on_primitive: bool
    retargeted: dict[int, tuple[str, np.ndarray]] = field(default_factory=dict)


# --- reading ---------------------------------------------------------------------------------
def _data_uri(uri: str) -> tuple[bytes, str]:
    header, _, data = uri.partition(",")
    mime = header[5:].split(";")[0]
    raw = base64.b64decode(data) if ";base64" in header else unquote(data).encode("latin-1")
    return raw, mime


def _external(base: Path, uri: str, what: str) -> bytes:
    file = base / unquote(uri)
    try:
        return file.read_bytes()
    except OSError:
        raise InputError(f"{what} {uri} referenced by the mesh cannot be read") from None


def _gather_buffers(gltf: GLTF2, base: Path) -> bytes:
    """Every buffer concatenated into one (buffer 0); bufferViews re-pointed into it."""
    blob = bytearray()
    starts = []
    for i, buffer in enumerate(gltf.buffers):
        if buffer.uri is None:
            if i != 0 or gltf.binary_blob() is None:
                raise InputError(f"buffer {i} of the mesh has no data")
            raw = gltf.binary_blob()
        elif buffer.uri.startswith("data:"):
            raw = _data_uri(buffer.uri)[0]
        else:
            raw = _external(base, buffer.uri, "buffer")
        if len(raw) < buffer.byteLength:
            raise InputError(f"buffer {i} of the mesh is shorter than its byteLength")
        blob.extend(b"\0" * (-len(blob) % 8))
        starts.append(len(blob))
        blob.extend(raw[: buffer.byteLength])
    for view in gltf.bufferViews:
        if view.buffer is None or view.buffer >= len(starts):
            raise InputError("a bufferView of the mesh points at a missing buffer")
        view.byteOffset = starts[view.buffer] + (view.byteOffset or 0)
        view.buffer = 0
    gltf.buffers = []
    return bytes(blob)


def _embed_images(gltf: GLTF2, buffer: BufferBuilder, base: Path) -> None:
    """Images referenced by URI move into the buffer so the output stands alone."""
    for image in gltf.images:
        if image.uri is None:
            continue
        if image.uri.startswith("data:"):
            raw, mime = _data_uri(image.uri)
        else:
            raw = _external(base, image.uri, "image")
            mime = _MIME.get(Path(unquote(image.uri)).suffix.lower(), "image/png")
        image.bufferView = buffer.add_view(raw)
        image.mimeType = image.mimeType or mime
        image.uri = None


def load_user_gltf(path: str | Path) -> tuple[GLTF2, BufferBuilder]:
    """The user's document with all its data in one buffer, ready to be added to."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"mesh {path} does not exist")
    try:
        with path.open("rb") as f:
            binary = f.read(4) == b"glTF"
        with warnings.catch_warnings():  # pygltflib warns on stderr before it fails
            warnings.simplefilter("ignore")
            gltf = GLTF2().load_binary(str(path)) if binary else GLTF2().load_json(str(path))
    except Exception as exc:  # pygltflib raises anything from struct to json errors
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"mesh {path.name} is not a readable glTF/GLB file ({reason})") from None
    if gltf is None or gltf.asset is None or not str(gltf.asset.version).startswith("2"):
        raise InputError(f"mesh {path.name} is not a glTF 2.0 file")
    for accessor in gltf.accessors:
        if accessor.bufferView is None:  # all-zero or sparse-only data (Blender's morph targets):
            accessor.byteOffset = None  # pygltflib reads "absent" as 0, which needs a bufferView
    buffer = BufferBuilder(gltf, _gather_buffers(gltf, path.parent))
    _embed_images(gltf, buffer, path.parent)
    return gltf, buffer


# --- mapping ---------------------------------------------------------------------------------
def _extras(obj: Any) -> dict:
    return obj.extras if isinstance(getattr(obj, "extras", None), dict) else {}


def target_channel(name: str | None, channels: tuple[str, ...]) -> str | None:
    """The curve channel a morph target named `name` follows: the exact channel name, else
    its ARKit spelling (case, prefixes, PascalCase ignored); rotations never drive targets."""
    if not name:
        return None
    if name in channels and name not in ROTATION_NAMES:
        return name
    arkit = canonical_name(name)
    return arkit if arkit in channels and arkit not in ROTATION_NAMES else None


def morph_meshes(gltf: GLTF2, channels: tuple[str, ...]) -> list[MorphMesh]:
    """Every mesh with morph targets, its target names (mesh or primitive extras) and mapping."""
    found = []
    for index, mesh in enumerate(gltf.meshes):
        if not mesh.primitives or not mesh.primitives[0].targets:
            continue
        count = len(mesh.primitives[0].targets)
        names = _extras(mesh).get("targetNames")
        on_primitive = False
        if not isinstance(names, list):
            names = next(
                (
                    _extras(p)["targetNames"]
                    for p in mesh.primitives
                    if isinstance(_extras(p).get("targetNames"), list)
                ),
                [],
            )
            on_primitive = bool(names)
        names = [str(n) if n is not None else None for n in names[:count]]
        names += [None] * (count - len(names))
        mapped = [target_channel(n, channels) for n in names]
        retargeted = _retargeted(names, mapped, channels)
        name = mesh.name or f"mesh {index}"
        found.append(MorphMesh(index, name, names, mapped, on_primitive, retargeted))
    return found


def _retargeted(
    names: list[str | None], mapped: list[str | None], channels: tuple[str, ...]
) -> dict[int, tuple[str, np.ndarray]]:
    """Targets no channel drives that rigs.morph_names reads as VRM expressions or visemes
    (only for ARKit curves, which those retargets read)."""
    if not set(ARKIT_NAMES) <= set(channels):
        return {}
    free = [n for n, c in zip(names, mapped, strict=True) if n and c is None]
    auto = {t.key: t for t in match_keys(free).targets if t.scheme != "arkit"}
    return {
        j: (f"{auto[n].scheme}:{auto[n].source}", auto[n].row)
        for j, (n, c) in enumerate(zip(names, mapped, strict=True))
        if c is None and n in auto
    }


def _tokens(name: str | None) -> list[str]:
    return [t.lower() for t in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name or "")]


def find_node(gltf: GLTF2, part: str) -> int | None:
    """The node that is the head ("head") or an eye ("leftEye", "rightEye") by its name:
    `mixamorig:Head`, `CC_Base_Head`, `J_Bip_C_Head`, `EyeLeft`, `eye_L`, `LeftEye`, VRoid's
    `J_Adj_L_FaceEye`. Bones win over meshes."""
    side = {"leftEye": ("left", "l"), "rightEye": ("right", "r")}.get(part)
    hits = []
    for i, node in enumerate(gltf.nodes):
        tokens = _tokens(node.name)
        if side is None:
            ok = bool(tokens) and tokens[-1] == "head"
        else:
            last = set(tokens[-2:])
            ok = len(last) == 2 and "eye" in last and bool(set(tokens) & set(side))
        if ok:
            hits.append((node.mesh is not None, i))
    return min(hits)[1] if hits else None


# --- head and eye rotation in the model's axes ------------------------------------------------
def _local_rotation(node: Any) -> np.ndarray:
    if node.matrix is not None:
        m = np.asarray(node.matrix, dtype=np.float64).reshape(4, 4).T
        return matrix_to_quaternion(m[:3, :3])
    return np.asarray(node.rotation, dtype=np.float64) if node.rotation else _IDENTITY


def _to_trs(node: Any) -> None:
    """Animated nodes may not use `matrix`: split it into translation/rotation/scale."""
    if node.matrix is None:
        return
    m = np.asarray(node.matrix, dtype=np.float64).reshape(4, 4).T
    node.translation = m[:3, 3].tolist()
    node.rotation = matrix_to_quaternion(m[:3, :3]).tolist()
    node.scale = np.linalg.norm(m[:3, :3], axis=0).tolist()
    node.matrix = None


def _parent_rotation(gltf: GLTF2, node: int) -> np.ndarray:
    parents = {c: i for i, n in enumerate(gltf.nodes) for c in (n.children or [])}
    q = _IDENTITY
    while node in parents:
        node = parents[node]
        q = multiply(_local_rotation(gltf.nodes[node]), q)
    return q


def model_space_rotation(gltf: GLTF2, node: int, delta: np.ndarray) -> np.ndarray:
    """Local rotations [N, 4] that turn `node` by `delta` [N, 4] about the model's own axes
    (the convention in gltf_rotation.py), on top of the node's rest pose."""
    parent = _parent_rotation(gltf, node)
    rest = _local_rotation(gltf.nodes[node])
    return multiply(multiply(multiply(conjugate(parent), delta), parent), rest)


# --- building --------------------------------------------------------------------------------
def _add_node_rotations(
    gltf: GLTF2, animation: AnimationBuilder, curves: FaceCurves, notes: list[str]
) -> None:
    missing = []
    for part, label in (("head", "head"), ("leftEye", "left eye"), ("rightEye", "right eye")):
        delta = angle_quaternions(curves, part)
        if delta is None:
            continue
        node = find_node(gltf, part)
        if node is None:
            missing.append(label)
            continue
        _to_trs(gltf.nodes[node])
        animation.add_rotation(node, model_space_rotation(gltf, node, delta))
    if missing:
        notes.append(f"no node named like the {', '.join(missing)}: that rotation is not animated")


def build_user_document(
    curves: FaceCurves, mesh_path: str | Path, max_active_targets: int | None = None
) -> tuple[GLTF2, bytes, list[str]]:
    """The user's document plus an EmoSync animation: (document, buffer, notes for the user)."""
    gltf, buffer = load_user_gltf(mesh_path)
    name = Path(mesh_path).name
    meshes = [m for m in morph_meshes(gltf, curves.channels) if any(m.channels) or m.retargeted]
    if not meshes:
        raise InputError(
            f"{name} has no morph targets named like ARKit blendshapes, VRM expressions or visemes"
        )
    notes: list[str] = []
    animation = AnimationBuilder(gltf, buffer, curves)
    for morph in meshes:
        mesh = gltf.meshes[morph.index]
        if morph.names_on_primitive:
            mesh.extras = {**_extras(mesh), "targetNames": morph.target_names}
        rest = np.zeros(len(morph.channels), dtype=np.float32)
        if mesh.weights:
            rest[: len(mesh.weights)] = mesh.weights[: len(rest)]
        weights = channel_columns(curves, morph.channels)
        if morph.retargeted:
            arkit = channel_columns(curves, list(ARKIT_NAMES))
            for j, (_name, row) in morph.retargeted.items():
                weights[:, j] = np.clip(arkit @ row, 0.0, 1.0)
        unmapped = [
            j for j, c in enumerate(morph.channels) if c is None and j not in morph.retargeted
        ]
        weights[:, unmapped] = rest[unmapped]
        nodes = [i for i, node in enumerate(gltf.nodes) if node.mesh == morph.index]
        if not nodes:
            notes.append(f"mesh {morph.name} is used by no node: not animated")
        animation.add_weights(nodes, limit_active_targets(weights, max_active_targets))
    if not animation.animation.channels:
        raise InputError(f"{name}: no node uses a mesh with ARKit-named morph targets")
    _add_node_rotations(gltf, animation, curves, notes)
    if notes:
        animation.animation.extras = {"emosync": {"notes": notes}}
    index = animation.finish()
    if index is not None:  # ours first: the clip viewers and Blender's importer play
        gltf.animations.insert(0, gltf.animations.pop(index))
    return gltf, buffer.finish(), notes


def mapping_report(mesh_path: str | Path) -> dict[str, Any]:
    """Which ARKit channels found a morph target in the user's mesh, and which did not."""
    gltf, _ = load_user_gltf(mesh_path)
    meshes = morph_meshes(gltf, ARKIT_NAMES)
    found = {c for m in meshes for c in m.channels if c is not None}
    return {
        "mesh": str(mesh_path),
        "meshes": [
            {
                "index": m.index,
                "name": m.name,
                "targets": len(m.target_names),
                "mapped": {
                    n: c or m.retargeted[j][0]
                    for j, (n, c) in enumerate(zip(m.target_names, m.channels, strict=True))
                    if n and (c or j in m.retargeted)
                },
                "unmapped": [
                    n
                    for j, (n, c) in enumerate(zip(m.target_names, m.channels, strict=True))
                    if c is None and j not in m.retargeted
                ],
            }
            for m in meshes
        ],
        "found": [c for c in ARKIT_NAMES if c in found],
        "missing": [c for c in ARKIT_NAMES if c not in found],
        "head_node": _node_name(gltf, find_node(gltf, "head")),
        "eye_nodes": [_node_name(gltf, find_node(gltf, p)) for p in ("leftEye", "rightEye")],
    }


def _node_name(gltf: GLTF2, index: int | None) -> str | None:
    return None if index is None else (gltf.nodes[index].name or f"node {index}")
