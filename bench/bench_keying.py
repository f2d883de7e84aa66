"""Keying speed: 52 shape keys × 1800 frames plus a jaw bone, bulk writer against a naive loop.

Run: .venv/bin/python bench/bench_keying.py [--frames 1800] [--naive]
(or .venv-blender5/bin/python for Blender 5.x). Prints seconds and keys per second.
"""

from __future__ import annotations

import argparse
import math
import time

import bpy
import numpy as np

from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS


def build_scene() -> tuple[bpy.types.Object, bpy.types.Object]:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_plane_add()
    mesh = bpy.context.active_object
    mesh.shape_key_add(name="Basis")
    for name in ARKIT_NAMES:
        mesh.shape_key_add(name=name)
    arm_data = bpy.data.armatures.new("Rig")
    rig = bpy.data.objects.new("Rig", arm_data)
    bpy.context.scene.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    bone = arm_data.edit_bones.new("jaw")
    bone.head, bone.tail = (0, 0, 0), (0, -0.1, 0)
    bpy.ops.object.mode_set(mode="OBJECT")
    bpy.context.scene.render.fps = 30
    return mesh, rig


def naive(mesh: bpy.types.Object, values: np.ndarray) -> None:
    keys = mesh.data.shape_keys
    for f in range(values.shape[0]):
        for c, name in enumerate(ARKIT_NAMES):
            block = keys.key_blocks[name]
            block.value = float(values[f, c])
            block.keyframe_insert("value", frame=f + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1800)
    parser.add_argument("--naive", action="store_true", help="also time keyframe_insert")
    args = parser.parse_args()
    from emosync.blender_addon.apply import Target, apply_curves

    mesh, rig = build_scene()
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1, (args.frames, len(CHANNELS))).astype(np.float32)
    curves = FaceCurves(30.0, values)
    target = Target(mesh, armature=rig, jaw_bone="jaw", jaw_max_angle=math.radians(20))
    start = time.perf_counter()
    result = apply_curves(curves, target, bpy.context.scene, 1, "bench")
    elapsed = time.perf_counter() - start
    print(
        f"blender {bpy.app.version_string}: bulk writer keyed {result.n_keys} keys "
        f"({len(ARKIT_NAMES)} shape keys + jaw bone × {args.frames} frames) in {elapsed:.4f} s "
        f"= {result.n_keys / elapsed:,.0f} keys/s"
    )
    if args.naive:
        n = min(args.frames, 300)
        start = time.perf_counter()
        naive(mesh, values[:n, : len(ARKIT_NAMES)])
        per_key = (time.perf_counter() - start) / (n * len(ARKIT_NAMES))
        total = per_key * len(ARKIT_NAMES) * args.frames
        print(
            f"naive keyframe_insert: {1 / per_key:,.0f} keys/s "
            f"(timed on {n} frames; {total:.2f} s for the same {args.frames}-frame clip)"
        )


if __name__ == "__main__":
    main()
