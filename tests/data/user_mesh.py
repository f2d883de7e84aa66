"""Builds a small 'user' glTF the way other tools write them, for the exporter tests.

A skinned, textured quad with morph targets named in foreign spellings (prefixes, PascalCase,
snake case, one that is not ARKit), names on primitives[0].extras (VRM-0 style) or on the mesh,
a bone hierarchy with a rotated `mixamorig:Head`, and an existing animation "Idle".
Run as a script to (re)write tests/data/user_face.glb.
"""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import numpy as np
from pygltflib import (
    GLTF2,
    Animation,
    AnimationChannel,
    AnimationChannelTarget,
    AnimationSampler,
    Asset,
    Attributes,
    Buffer,
    Image,
    Material,
    Mesh,
    Node,
    PbrMetallicRoughness,
    Primitive,
    Sampler,
    Scene,
    Skin,
    Texture,
    TextureInfo,
)

from emosync.exporters.gltf_buffer import ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, BufferBuilder

TARGET_NAMES = [
    "ARKit_JawOpen",
    "EyeBlinkLeft",
    "eye_blink_right",
    "A01_Brow_Inner_Up",
    "mouthSmile_L",  # not an ARKit spelling: stays unmapped
    "MouthFunnel",
]
HEAD_REST = [0.0, 0.0, np.sin(np.pi / 8), np.cos(np.pi / 8)]  # 45° about Z
NECK_REST = [np.sin(np.pi / 4), 0.0, 0.0, np.cos(np.pi / 4)]  # 90° about X


def tiny_png() -> bytes:
    """A 2×2 RGB PNG."""
    rows = b"".join(b"\0" + bytes([200, 150, 120] * 2) for _ in range(2))
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def build(names_on_primitive: bool = True, names: list[str] | None = None, head: bool = True):
    """(document, binary buffer) of the user file."""
    names = TARGET_NAMES if names is None else names
    gltf = GLTF2(asset=Asset(version="2.0", generator="EmoSync test rig"))
    buf = BufferBuilder(gltf)
    grid = np.array([[x, y, 0.0] for y in (0.0, 0.1, 0.2) for x in (-0.1, 0.0, 0.1)], np.float32)
    faces = []
    for r in range(2):
        for c in range(2):
            a = r * 3 + c
            faces += [[a, a + 1, a + 4], [a, a + 4, a + 3]]
    uv = grid[:, :2] * 5 + 0.5
    joints = np.zeros((9, 4), np.uint8)
    joints[:, 0] = 2  # every vertex follows the head bone
    weights = np.zeros((9, 4), np.float32)
    weights[:, 0] = 1
    attrs = Attributes(
        POSITION=buf.add_accessor(grid, ARRAY_BUFFER, min_max=True),
        NORMAL=buf.add_accessor(np.tile(np.float32([0, 0, 1]), (9, 1)), ARRAY_BUFFER),
        TEXCOORD_0=buf.add_accessor(uv.astype(np.float32), ARRAY_BUFFER),
        JOINTS_0=buf.add_accessor(joints, ARRAY_BUFFER),
        WEIGHTS_0=buf.add_accessor(weights, ARRAY_BUFFER),
    )
    targets = []
    for j in range(len(names)):
        delta = np.zeros((9, 3), np.float32)
        delta[j % 9, 2] = 0.001 * (j + 1)
        targets.append(Attributes(POSITION=buf.add_accessor(delta, ARRAY_BUFFER, min_max=True)))
    prim = Primitive(
        attributes=attrs,
        indices=buf.add_accessor(np.uint16(faces).reshape(-1), ELEMENT_ARRAY_BUFFER),
        material=0,
        targets=targets,
    )
    mesh = Mesh(name="FaceMesh", primitives=[prim], weights=[0.0] * len(names))
    if names_on_primitive:
        prim.extras = {"targetNames": names}
    else:
        mesh.extras = {"targetNames": names}
    gltf.meshes.append(mesh)
    gltf.images.append(Image(bufferView=buf.add_view(tiny_png()), mimeType="image/png"))
    gltf.samplers.append(Sampler())
    gltf.textures.append(Texture(source=0, sampler=0))
    pbr = PbrMetallicRoughness(baseColorTexture=TextureInfo(index=0), metallicFactor=0.0)
    gltf.materials.append(Material(name="Skin", pbrMetallicRoughness=pbr))
    head_name = "mixamorig:Head" if head else "mixamorig:Skull"
    gltf.nodes += [
        Node(name="Armature", children=[1]),
        Node(name="mixamorig:Neck", translation=[0, 1.5, 0], rotation=NECK_REST, children=[2]),
        Node(name=head_name, translation=[0, 0.1, 0], rotation=HEAD_REST),
        Node(name="Face", mesh=0, skin=0),
    ]
    ibm = np.stack([np.eye(4, dtype=np.float32)] * 3)
    ibm[1, 3, :3] = [0, -1.5, 0]  # column-major: translation in the last column → row 3 here
    ibm[2, 3, :3] = [0, -1.6, 0]
    gltf.skins.append(Skin(joints=[0, 1, 2], inverseBindMatrices=buf.add_accessor(ibm)))
    times = buf.add_accessor(np.float32([0.0, 1.0]), min_max=True)
    moves = buf.add_accessor(np.float32([[0, 0, 0], [0, 0.05, 0]]))
    gltf.animations.append(
        Animation(
            name="Idle",
            samplers=[AnimationSampler(input=times, output=moves)],
            channels=[
                AnimationChannel(
                    sampler=0, target=AnimationChannelTarget(node=0, path="translation")
                )
            ],
        )
    )
    gltf.scenes.append(Scene(nodes=[0, 3]))
    gltf.scene = 0
    return gltf, buf.finish()


def write_glb(path: Path, **kwargs) -> Path:
    from emosync.exporters.gltf import serialise

    gltf, blob = build(**kwargs)
    path.write_bytes(serialise(gltf, blob, ".glb"))
    return path


def write_gltf_external(path: Path, **kwargs) -> Path:
    """A .gltf with its buffer in a .bin file beside it."""
    gltf, blob = build(**kwargs)
    bin_name = path.with_suffix(".bin").name
    path.with_suffix(".bin").write_bytes(blob)
    gltf.buffers = [Buffer(byteLength=len(blob), uri=bin_name)]
    path.write_text(gltf.gltf_to_json())
    return path


def data_uri(blob: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(blob).decode()


if __name__ == "__main__":
    write_glb(Path(__file__).with_name("user_face.glb"))
