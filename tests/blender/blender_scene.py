"""Scene builders and readers shared by the Blender tests."""

from __future__ import annotations

import bpy
import numpy as np

from emosync.rigs.channels import ARKIT_NAMES


def make_face(name: str = "Face", keys=None, prefix: str = "") -> bpy.types.Object:
    """A small mesh whose shape keys are named `prefix + key`."""
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    if keys is None:
        keys = ARKIT_NAMES
    if keys:
        obj.shape_key_add(name="Basis")
        for key in keys:
            obj.shape_key_add(name=prefix + key)
    return obj


def make_rig(bones=("jaw", "head")) -> bpy.types.Object:
    data = bpy.data.armatures.new("Rig")
    rig = bpy.data.objects.new("Rig", data)
    bpy.context.scene.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    for i, name in enumerate(bones):
        bone = data.edit_bones.new(name)
        bone.head, bone.tail = (0, 0, i), (0, 0, i + 0.5)
    bpy.ops.object.mode_set(mode="OBJECT")
    return rig


def curve_values(id_block, data_path: str, index: int = 0):
    """Keyed values of one F-curve of the active action (any Blender version)."""
    anim = id_block.animation_data
    action = anim.action
    if "slots" in bpy.types.Action.bl_rna.properties and action.layers:
        bag = action.layers[0].strips[0].channelbag(anim.action_slot)
        fcurves = bag.fcurves
    else:
        fcurves = action.fcurves
    fc = fcurves.find(data_path, index=index)
    assert fc is not None, f"no F-curve {data_path}[{index}]"
    co = np.empty(2 * len(fc.keyframe_points), dtype=np.float32)
    fc.keyframe_points.foreach_get("co", co)
    return co[0::2], co[1::2]
