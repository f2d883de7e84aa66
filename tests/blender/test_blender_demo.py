"""The "Add › Mesh › EmoSync Demo Head" operator in real Blender: the mesh, its 52 shape keys,
the vertex-colour material and the eyes, and that Generate animates it end to end."""

from __future__ import annotations

import bpy
import numpy as np
from blender_scene import curve_values

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.demo_face import load_demo_face


def _key_co(block) -> np.ndarray:
    co = np.empty(3 * len(block.data), dtype=np.float32)
    block.data.foreach_get("co", co)
    return co.reshape(-1, 3)


def test_add_demo_head_builds_the_character(scene):
    assert bpy.ops.emosync.add_demo_head() == {"FINISHED"}
    head = bpy.context.active_object
    face = load_demo_face()
    assert len(head.data.vertices) == len(face.vertices)
    assert len(head.data.polygons) == len(face.faces)
    names = [kb.name for kb in head.data.shape_keys.key_blocks]
    assert names == ["Basis", *ARKIT_NAMES]
    assert sorted(c.name for c in head.children) == ["EyeLeft", "EyeRight"]
    # Blender is Z up and the face looks along -Y: the chin is below the brow, the nose in
    # front (more negative Y) of the eyes, the subject's left eye at +X.
    world = np.array([head.matrix_world @ v.co for v in head.data.vertices])
    assert np.ptp(world[:, 2]) > np.ptp(world[:, 1])
    left = bpy.data.objects["EyeLeft"].matrix_world.translation
    assert left.x > 0 and left.z > head.matrix_world.translation.z
    assert world[:, 1].min() < left.y
    # The material shows the vertex colours: a Color Attribute node feeds the base colour.
    material = head.data.materials[0]
    bsdf = next(n for n in material.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
    link = bsdf.inputs["Base Color"].links[0]
    assert link.from_node.type == "VERTEX_COLOR"
    assert link.from_node.layer_name in head.data.color_attributes
    # Each shape key holds the demo face's own target delta, in Blender's axes.
    blocks = head.data.shape_keys.key_blocks
    for name in ("jawOpen", "mouthSmileLeft", "eyeBlinkRight"):
        delta = _key_co(blocks[name]) - _key_co(blocks["Basis"])
        expected = face.targets[ARKIT_NAMES.index(name)]
        np.testing.assert_allclose(delta, expected[:, [0, 2, 1]] * [1, -1, 1], atol=1e-5)
        assert np.abs(delta).max() > 1e-3


def test_generate_animates_the_demo_head(scene, speech):
    bpy.ops.emosync.add_demo_head()
    head = bpy.context.active_object
    settings = scene.emosync
    settings.audio_path = str(speech)
    settings.preset = "HAPPY"
    settings.head = "OBJECT"
    assert bpy.ops.emosync.generate() == {"FINISHED"}
    assert "52 shape keys" in settings.status
    _, jaw = curve_values(head.data.shape_keys, 'key_blocks["jawOpen"].value')
    _, smile = curve_values(head.data.shape_keys, 'key_blocks["mouthSmileLeft"].value')
    assert jaw.max() > 0.2 and smile.mean() > 0.1
    assert head.animation_data.action is not None  # head rotation keyed on the object
