"""Run with a Python that has the `bpy` module (Blender's own exporter, not ours).

    python blender_glb.py export OUT.glb   a face with 10 ARKit shape keys and its own clip
    python blender_glb.py active IN.glb    import IN.glb; print the face's active action name
"""

import sys

import bpy

from emosync.rigs.channels import ARKIT_NAMES


def export(path: str) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_uv_sphere_add(segments=16, ring_count=8)
    face = bpy.context.active_object
    face.name = "Face"
    face.shape_key_add(name="Basis")
    for i, name in enumerate(ARKIT_NAMES[:10]):
        face.shape_key_add(name=name).data[i].co.z += 0.1
    key = face.data.shape_keys.key_blocks[ARKIT_NAMES[0]]
    for frame, value in ((1, 0.0), (20, 1.0)):  # the mesh's own old animation
        key.value = value
        key.keyframe_insert("value", frame=frame)
    face.data.shape_keys.animation_data.action.name = "OldClip"
    bpy.ops.export_scene.gltf(filepath=path, export_format="GLB")


def active(path: str) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=path)
    for obj in bpy.data.objects:
        keys = obj.data.shape_keys if obj.type == "MESH" else None
        if keys is not None and keys.animation_data and keys.animation_data.action:
            print("ACTIVE", keys.animation_data.action.name)


if __name__ == "__main__":
    {"export": export, "active": active}[sys.argv[1]](sys.argv[2])
