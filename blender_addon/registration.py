"""Every class the extension registers, in order, and the properties it attaches."""

from __future__ import annotations

import bpy

from . import ops, panel, properties

CLASSES = (*properties.CLASSES, *ops.CLASSES, *panel.CLASSES)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.attach()


def unregister() -> None:
    properties.detach()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
