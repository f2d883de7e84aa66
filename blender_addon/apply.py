"""Write one FaceCurves onto a character: shape keys through the mapping, the jaw bone, head
rotation on a bone or the object, a sound strip and the frame range. Used by the operator and
the batch entry point alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import bpy
import mathutils
import numpy as np

from emosync.errors import InputError
from emosync.exporters.gltf_rotation import axis_angle_quaternions, multiply, wxyz, xyzw
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import INDEX
from emosync.rigs.morph_names import KeyMapping, match_keys

from .keyframes import ActionWriter, assign, push_to_nla, write_curve

AXES = {"X": (1, 0, 0), "-X": (-1, 0, 0), "Y": (0, 1, 0), "-Y": (0, -1, 0), "Z": (0, 0, 1),
        "-Z": (0, 0, -1)}  # fmt: skip
HEAD_MODES = ("NONE", "BONE", "OBJECT")


@dataclass
class Target:
    """Where the curves go. Angles in radians."""

    mesh: bpy.types.Object | None
    scheme: str = "AUTO"
    custom: dict[str, str] = field(default_factory=dict)
    armature: bpy.types.Object | None = None
    jaw_bone: str = ""
    jaw_axis: str = "X"
    jaw_max_angle: float = math.radians(20.0)
    head: str = "NONE"
    head_bone: str = ""


@dataclass
class Result:
    action_names: list[str]
    n_keys: int
    frame_start: int
    frame_end: int
    mapping: KeyMapping | None
    notes: list[str] = field(default_factory=list)


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def shape_key_names(mesh: bpy.types.Object | None) -> list[str]:
    """The mesh's shape keys without the basis (the reference key)."""
    keys = getattr(getattr(mesh, "data", None), "shape_keys", None)
    if keys is None:
        return []
    ref = keys.reference_key.name if keys.reference_key else None
    return [kb.name for kb in keys.key_blocks if kb.name != ref]


def mapping_for(target: Target) -> KeyMapping:
    return match_keys(shape_key_names(target.mesh), target.scheme, target.custom)


def check_target(target: Target) -> KeyMapping | None:
    """Everything that would make the write fail, as one InputError, before any data changes."""
    if target.mesh is None and target.armature is None:
        raise InputError("select a mesh with shape keys (or set an armature with a jaw bone)")
    mapping = _check_mesh(target) if target.mesh is not None else None
    _check_bones(target)
    if target.jaw_axis not in AXES:
        raise InputError(f"jaw axis must be one of {', '.join(AXES)}")
    if target.head not in HEAD_MODES:
        raise InputError(f"head mode must be one of {', '.join(HEAD_MODES)}")
    return mapping


def _check_mesh(target: Target) -> KeyMapping:
    """The mesh's shape keys and how they map; some key must map unless a jaw bone animates."""
    if target.mesh.type != "MESH":
        raise InputError(f"'{target.mesh.name}' is not a mesh")
    names = shape_key_names(target.mesh)
    if not names:
        raise InputError(f"'{target.mesh.name}' has no shape keys to animate")
    mapping = mapping_for(target)
    if not mapping.targets and not (target.armature and target.jaw_bone):
        raise InputError(
            f"none of the {len(names)} shape keys of '{target.mesh.name}' matches an ARKit, "
            "VRM or viseme name; add a custom mapping"
        )
    return mapping


def _check_bones(target: Target) -> None:
    """The jaw bone (if set) and the head bone (when the head turns a bone) exist."""
    for bone, what in ((target.jaw_bone, "jaw"), (target.head_bone, "head")):
        if what == "head" and target.head != "BONE":
            continue
        if not bone:
            if what == "head":
                raise InputError("head rotation on a bone needs a head bone")
            continue
        if target.armature is None or target.armature.type != "ARMATURE":
            raise InputError(f"the {what} bone '{bone}' needs an armature")
        if bone not in target.armature.pose.bones:
            raise InputError(f"armature '{target.armature.name}' has no bone '{bone}'")


# --- rotations ----------------------------------------------------------------------------


def head_quats(curves: FaceCurves, on_bone: bool) -> np.ndarray:
    """Head rotation per frame, (w, x, y, z). ARKit's face frame is x to the subject's left,
    y up, z out of the face. A head bone pointing up has the same axes; an object facing -Y
    (Blender's front view) has x = X, y = Z and z = -Y."""
    yaw, pitch, roll = (curves.values[:, INDEX[n]] for n in ("headYaw", "headPitch", "headRoll"))
    if on_bone:
        parts = [((0, 1, 0), yaw), ((1, 0, 0), pitch), ((0, 0, 1), roll)]
    else:
        parts = [((0, 0, 1), yaw), ((1, 0, 0), pitch), ((0, -1, 0), roll)]
    q = axis_angle_quaternions(*parts[0])
    for axis, angles in parts[1:]:
        q = multiply(q, axis_angle_quaternions(axis, angles))
    return wxyz(q)


def rotation_curves(owner, quats: np.ndarray) -> tuple[str, np.ndarray]:
    """(property name, [frames × k] values) that pose `owner` (a pose bone or object) in its
    own rotation mode, applied on top of its current rotation."""
    mode = owner.rotation_mode
    base = np.array(owner.rotation_quaternion if mode == "QUATERNION" else _as_quat(owner))
    q = wxyz(multiply(xyzw(base), xyzw(quats)))
    if mode == "QUATERNION":
        return "rotation_quaternion", q
    if mode == "AXIS_ANGLE":
        raise InputError(
            f"'{owner.name}' uses axis-angle rotation; switch it to Euler or Quaternion"
        )
    previous = None
    out = np.empty((len(q), 3))
    for i, row in enumerate(q):
        quat = mathutils.Quaternion(row)
        euler = quat.to_euler(mode) if previous is None else quat.to_euler(mode, previous)
        out[i] = euler
        previous = euler
    return "rotation_euler", out


def _as_quat(owner) -> mathutils.Quaternion:
    return owner.rotation_euler.to_quaternion()


# --- writing ------------------------------------------------------------------------------


def apply_curves(
    curves: FaceCurves,
    target: Target,
    scene: bpy.types.Scene,
    start_frame: int,
    name: str,
    nla: bool = False,
    keep_previous: bool = True,
) -> Result:
    """Key `curves` onto `target` from `start_frame`, resampled to the scene's frame rate."""
    mapping = check_target(target)
    fps = scene_fps(scene)
    if abs(curves.fps - fps) > 1e-6:
        curves = curves.resample(fps)
    frames = start_frame + np.arange(curves.n_frames, dtype=np.float64)
    writer = ActionWriter(name)
    ids: list[bpy.types.ID] = []
    n_keys = 0
    if mapping is not None and mapping.targets:
        key_id = target.mesh.data.shape_keys
        bag = writer.channels(key_id)
        values = mapping.weights(curves.blendshapes())
        for col, key_target in enumerate(mapping.targets):
            path = f'key_blocks["{bpy.utils.escape_identifier(key_target.key)}"].value'
            write_curve(bag, path, frames, values[:, col], group="EmoSync")
            n_keys += len(frames)
        ids.append(key_id)
    rig_parts = _rotation_parts(curves, target)
    for owner_id, prefix, prop, values in rig_parts:
        bag = writer.channels(owner_id)
        for index in range(values.shape[1]):
            write_curve(bag, prefix + prop, frames, values[:, index], index=index, group="EmoSync")
            n_keys += len(frames)
        if owner_id not in ids:
            ids.append(owner_id)
    notes: list[str] = []
    for id_block in ids:
        if nla:
            push_to_nla(writer, id_block, start_frame)
        else:
            previous = assign(writer, id_block, keep_previous)
            if previous:
                notes.append(f"'{id_block.name}' had action '{previous}': kept in the file")
    end = int(start_frame + curves.n_frames - 1)
    return Result([a.name for a in writer.all_actions()], n_keys, start_frame, end, mapping, notes)


def _rotation_parts(curves: FaceCurves, target: Target) -> list[tuple]:
    parts = []
    if target.armature is not None and target.jaw_bone:
        bone = target.armature.pose.bones[target.jaw_bone]
        angles = curves.channel("jawOpen") * target.jaw_max_angle
        prop, values = rotation_curves(
            bone, wxyz(axis_angle_quaternions(AXES[target.jaw_axis], angles))
        )
        parts.append((target.armature, bone.path_from_id() + ".", prop, values))
    if target.head == "BONE":
        bone = target.armature.pose.bones[target.head_bone]
        prop, values = rotation_curves(bone, head_quats(curves, on_bone=True))
        parts.append((target.armature, bone.path_from_id() + ".", prop, values))
    elif target.head == "OBJECT":
        owner = target.mesh or target.armature
        prop, values = rotation_curves(owner, head_quats(curves, on_bone=False))
        parts.append((owner, "", prop, values))
    return parts


def add_sound_strip(scene: bpy.types.Scene, filepath: str, start_frame: int, name: str):
    """The clip as a sound strip at `start_frame`, on the first free channel; an existing strip
    of the same file at the same frame is reused."""
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    everything = editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all
    wanted = bpy.path.abspath(filepath)
    for strip in everything:
        sound = getattr(strip, "sound", None)
        if (
            sound is not None
            and bpy.path.abspath(sound.filepath) == wanted
            and int(strip.frame_start) == int(start_frame)
        ):
            return strip
    channel = 1 + max((s.channel for s in everything), default=0)
    return strips.new_sound(name, filepath, min(channel, 128), int(start_frame))


def set_frame_range(scene: bpy.types.Scene, start: int, end: int) -> None:
    scene.frame_start = int(start)
    scene.frame_end = int(max(end, start))
