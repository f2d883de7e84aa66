"""Every class the extension registers, in order, and the properties it attaches."""

from __future__ import annotations

import bpy

from . import demo_scene, live, ops, panel, properties

CLASSES = (
    *properties.CLASSES,
    *ops.CLASSES,
    *demo_scene.CLASSES,
    *panel.CLASSES,
    *live.CLASSES,
)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.attach()
    bpy.types.VIEW3D_MT_mesh_add.append(demo_scene.menu_entry)


def unregister() -> None:
    bpy.types.VIEW3D_MT_mesh_add.remove(demo_scene.menu_entry)
    properties.detach()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
