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
    assert all(kb.value == 0.0 for kb in head.data.shape_keys.key_blocks[1:])  # rests neutral
    assert sorted(c.name for c in head.children) == ["EyeLeft", "EyeRight"]
    # Blender is Z up and the face looks along -Y: the chin is below the brow, the nose in
    # front (more negative Y) of the eyes, the subject's left eye at +X.
    world = np.array([head.matrix_world @ v.co for v in head.data.vertices])
    assert np.ptp(world[:, 2]) > np.ptp(world[:, 1])
    left = bpy.data.objects["EyeLeft"].matrix_world.translation
    assert left.x > 0 and left.z > head.matrix_world.translation.z
    assert world[:, 1].min() < left.y
    # The material shows the vertex colours: a Color Attribute node feeds the base colour
    # (through the wrinkles' darkening on the head, directly on the eyes).
    material = head.data.materials[0]
    colour = next(n for n in material.node_tree.nodes if n.type == "VERTEX_COLOR")
    assert colour.layer_name in head.data.color_attributes
    eye_material = bpy.data.objects["EyeLeft"].data.materials[0]
    bsdf = next(n for n in eye_material.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
    assert bsdf.inputs["Base Color"].links[0].from_node.type == "VERTEX_COLOR"
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


def test_wrinkles_follow_the_shape_keys(scene):
    """One image per wrinkling target on the "Wrinkles" UV map, each scaled by a driver on the
    head's shape key: keying browDownLeft turns its furrows on, nothing else."""
    bpy.ops.emosync.add_demo_head()
    head = bpy.context.active_object
    face = load_demo_face()
    assert "Wrinkles" in head.data.uv_layers
    material = head.data.materials[0]
    drivers = {
        d.driver.variables[0].targets[0].data_path: d
        for d in material.node_tree.animation_data.drivers
    }
    wanted = {f'key_blocks["{face.target_names[k]}"].value' for k in face.wrinkle_targets}
    assert set(drivers) == wanted
    assert all(
        d.driver.variables[0].targets[0].id == head.data.shape_keys for d in drivers.values()
    )

    def scale_of(name: str) -> float:
        path = drivers[f'key_blocks["{name}"].value'].data_path  # nodes["Math.003"].inputs[1]...
        return material.node_tree.path_resolve(path)

    head.data.shape_keys.key_blocks["browDownLeft"].value = 0.7
    bpy.context.scene.frame_set(1)
    assert abs(scale_of("browDownLeft") - 0.7) < 1e-6 and scale_of("browDownRight") == 0.0
    image = bpy.data.images["EmoSync wrinkles browDownLeft"]
    pixels = np.empty(len(image.pixels), dtype=np.float32)
    image.pixels.foreach_get(pixels)
    assert pixels.reshape(-1, 4)[:, 0].max() > 0.5  # the furrows are in the image
