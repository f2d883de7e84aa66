"""The glTF scene of EmoSync's own demo face: EmoSync → Head → Face, EyeLeft, EyeRight.

Works on anything shaped like rigs.demo_face.DemoFace (vertices, faces, normals, colors,
target_names, targets, eyes, head_pivot), so the tests can hand it a small face of their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pygltflib import (
    GLTF2,
    Asset,
    Attributes,
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
from emosync.inference.facecurves import FaceCurves

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
) -> Primitive:
    """A triangle primitive with POSITION/NORMAL/COLOR_0 and optional POSITION morph targets."""
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
    return primitive


def skin_material() -> Material:
    """PBR, white base colour: the vertex colours (COLOR_0) give the face its look."""
    pbr = PbrMetallicRoughness(baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0)
    pbr.roughnessFactor = 0.6
    return Material(name="EmoSyncSkin", pbrMetallicRoughness=pbr)


def build_demo_document(
    curves: FaceCurves, face: Any, max_active_targets: int | None = None
) -> tuple[GLTF2, bytes]:
    """The demo face scene animated by `curves`: the document and its binary buffer."""
    gltf = GLTF2(asset=Asset(version="2.0", generator=GENERATOR))
    buffer = BufferBuilder(gltf)
    gltf.materials.append(skin_material())
    names = [str(n) for n in face.target_names]
    head_pivot = np.asarray(face.head_pivot, dtype=np.float64).reshape(3)

    face_primitive = add_primitive(
        buffer, face.vertices, face.faces, face.normals, face.colors, 0, targets=face.targets
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

    animation = AnimationBuilder(gltf, buffer, curves)
    weights = limit_active_targets(channel_columns(curves, names), max_active_targets)
    animation.add_weights([2], weights)
    head = angle_quaternions(curves, "head")
    if head is not None:
        animation.add_rotation(1, head)
    for node_name, prefix in EYE_NODES.items():
        eye = angle_quaternions(curves, prefix)
        if eye is not None and node_name in eye_nodes:
            animation.add_rotation(eye_nodes[node_name], eye)
    animation.finish()
    return gltf, buffer.finish()
