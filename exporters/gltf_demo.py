"""The glTF scene of EmoSync's own demo face: EmoSync → Head → Face, EyeLeft, EyeRight.

Works on anything shaped like rigs.demo_face.DemoFace (vertices, faces, normals, colors,
target_names, targets, eyes, head_pivot), so the tests can hand it a small face of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from pygltflib import (
    GLTF2,
    Asset,
    Attributes,
    Buffer,
    Material,
    Mesh,
    Node,
    PbrMetallicRoughness,
    Primitive,
    Scene,
)

from emosync.exporters.gltf_animation import (
    AnimationBuilder,
    angle_quaternions,
    channel_columns,
    limit_active_targets,
)
from emosync.exporters.gltf_buffer import ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, BufferBuilder
from emosync.exporters.gltf_rotation import continuous_rows
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.demo_face import vertex_wrinkles

GENERATOR = "EmoSync glTF exporter"
EYE_NODES = {"EyeLeft": "leftEye", "EyeRight": "rightEye"}


def unit_normals(normals: np.ndarray) -> np.ndarray:
    """Normals scaled to unit length (the validator rejects others); zero ones point at +Z."""
    n = np.asarray(normals, dtype=np.float64).reshape(-1, 3)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    n = np.where(length > 1e-12, n / np.maximum(length, 1e-12), [0.0, 0.0, 1.0])
    return n.astype(np.float32)


def add_primitive(
    buffer: BufferBuilder,
    vertices: np.ndarray,
    faces: np.ndarray,
    normals: np.ndarray,
    colors: np.ndarray,
    material: int,
    targets: np.ndarray | None = None,
    color_targets: np.ndarray | None = None,
) -> Primitive:
    """A triangle primitive with POSITION/NORMAL/COLOR_0 and optional morph targets: POSITION
    deltas, and COLOR_0 deltas for the targets that `color_targets` [T, V, 3] does not leave
    zero (glTF lets a client morph vertex colours; not every client does)."""
    n_vertices = len(vertices)
    attributes = Attributes(
        POSITION=buffer.add_accessor(
            np.asarray(vertices, np.float32), target=ARRAY_BUFFER, min_max=True
        ),
        NORMAL=buffer.add_accessor(unit_normals(normals), target=ARRAY_BUFFER),
        COLOR_0=buffer.add_accessor(
            np.clip(np.asarray(colors, np.float32).reshape(-1, 3), 0.0, 1.0), target=ARRAY_BUFFER
        ),
    )
    index_type = np.uint16 if n_vertices <= 0xFFFF else np.uint32
    indices = buffer.add_accessor(
        np.asarray(faces).reshape(-1).astype(index_type), target=ELEMENT_ARRAY_BUFFER
    )
    primitive = Primitive(attributes=attributes, indices=indices, material=material, mode=4)
    if targets is not None:
        primitive.targets = [
            Attributes(
                POSITION=buffer.add_accessor(
                    np.asarray(delta, np.float32), target=ARRAY_BUFFER, min_max=True
                )
            )
            for delta in targets
        ]
        if color_targets is not None:
            for attributes, delta in zip(primitive.targets, color_targets, strict=True):
                if np.any(delta):
                    attributes.COLOR_0 = buffer.add_accessor(
                        np.asarray(delta, np.float32), target=ARRAY_BUFFER
                    )
    return primitive


def skin_material() -> Material:
    """PBR, white base colour: the vertex colours (COLOR_0) give the face its look."""
    pbr = PbrMetallicRoughness(baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0)
    pbr.roughnessFactor = 0.6
    return Material(name="EmoSyncSkin", pbrMetallicRoughness=pbr)


class DemoLayout:
    """The demo face document for a whole clip, laid out from its first piece: `head` is the
    buffer's mesh data, `size` the whole buffer's length, and `rows(piece)` gives each
    piece's animation bytes with their offsets in the buffer, so a long clip is written piece
    by piece (exporters.gltf.GltfWriter)."""

    def __init__(self, first: FaceCurves, face: Any, max_active_targets: int | None) -> None:
        gltf = GLTF2(asset=Asset(version="2.0", generator=GENERATOR))
        buffer = BufferBuilder(gltf)
        gltf.materials.append(skin_material())
        self.names = [str(n) for n in face.target_names]
        self.max_active_targets = max_active_targets
        eye_nodes = _demo_scene(gltf, buffer, face, self.names)
        animation = AnimationBuilder(gltf, buffer, first, reserve=True)
        self.times = animation.times_offset
        self.weights = animation.reserve_weights([2], len(self.names))
        # (offset, channel prefix) of each rotation; the last float64 row written, per prefix
        self.rotations: list[tuple[int, str]] = []
        if any(f"head{a}" in first.channels for a in ("Yaw", "Pitch", "Roll")):
            self.rotations.append((animation.reserve_rotation(1), "head"))
        for node_name, prefix in EYE_NODES.items():
            has = any(f"{prefix}{a}" in first.channels for a in ("Yaw", "Pitch", "Roll"))
            if has and node_name in eye_nodes:
                self.rotations.append((animation.reserve_rotation(eye_nodes[node_name]), prefix))
        self.last: dict[str, np.ndarray | None] = {prefix: None for _, prefix in self.rotations}
        animation.finish()
        self.head = buffer.finish()
        self.size = buffer.size
        gltf.buffers = [Buffer(byteLength=self.size)]
        self.gltf = gltf

    def rows(self, piece: FaceCurves) -> Iterator[tuple[int, bytes]]:
        """(buffer offset, bytes) of the piece's times, morph weights and rotations."""
        k = piece.start
        yield self.times + 4 * k, piece.times.astype(np.float32).tobytes()
        weights = channel_columns(piece, self.names)
        weights = limit_active_targets(weights, self.max_active_targets)
        yield self.weights + 4 * len(self.names) * k, weights.astype(np.float32).tobytes()
        for offset, prefix in self.rotations:
            quaternions = angle_quaternions(piece, prefix)
            assert quaternions is not None  # the channels are there (checked on the first)
            rows = continuous_rows(quaternions, self.last[prefix])
            if len(rows):
                self.last[prefix] = rows[-1]
            yield offset + 16 * k, rows.astype(np.float32).tobytes()


def _demo_scene(gltf: GLTF2, buffer: BufferBuilder, face: Any, names: list[str]) -> dict[str, int]:
    """The face and eye meshes, nodes and scene; returns the eye nodes by name."""
    head_pivot = np.asarray(face.head_pivot, dtype=np.float64).reshape(3)
    wrinkles = vertex_wrinkles(face)  # darkening [52, V]; all zero for a face without maps
    face_primitive = add_primitive(
        buffer,
        face.vertices,
        face.faces,
        face.normals,
        face.colors,
        0,
        targets=face.targets,
        color_targets=-wrinkles[:, :, None] * np.asarray(face.colors, np.float32)[None],
    )
    gltf.meshes.append(
        Mesh(
            name="Face",
            primitives=[face_primitive],
            weights=[0.0] * len(names),
            extras={"targetNames": names},
        )
    )
    gltf.nodes.append(Node(name="EmoSync", children=[1]))
    gltf.nodes.append(Node(name="Head", translation=head_pivot.tolist(), children=[2]))
    gltf.nodes.append(Node(name="Face", mesh=0, translation=(-head_pivot).tolist()))

    eye_nodes: dict[str, int] = {}
    for eye in face.eyes:
        primitive = add_primitive(buffer, eye.vertices, eye.faces, eye.normals, eye.colors, 0)
        gltf.meshes.append(Mesh(name=eye.name, primitives=[primitive]))
        offset = np.asarray(eye.center, dtype=np.float64).reshape(3) - head_pivot
        gltf.nodes.append(
            Node(name=eye.name, mesh=len(gltf.meshes) - 1, translation=offset.tolist())
        )
        eye_nodes[eye.name] = len(gltf.nodes) - 1
        gltf.nodes[1].children.append(eye_nodes[eye.name])
    gltf.scenes.append(Scene(name="EmoSync", nodes=[0]))
    gltf.scene = 0
    return eye_nodes
