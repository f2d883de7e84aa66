"""Bulk keyframe writing that works on Blender 4.2 (legacy actions), 4.4+ (slotted actions) and
5.x (where `Action.fcurves` is gone).

Keys are written a whole F-curve at a time with `keyframe_points.add` + `foreach_set`; inserting
them one by one with `keyframe_insert` is about a hundred times slower.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
import numpy as np

_INTERPOLATION = "LINEAR"  # one key per frame: linear is exact and cheap to evaluate


def _enum_value(item_type: type, prop: str, identifier: str) -> int:
    return item_type.bl_rna.properties[prop].enum_items[identifier].value


@dataclass
class Channels:
    """Where one ID's F-curves live: a channelbag (4.4+) or a legacy action."""

    fcurves: object
    groups: object


@dataclass
class ActionWriter:
    """One new action named `name`. On 4.4+ it holds one slot per animated ID; on older
    versions (no slots) each further ID gets its own action, named `name.<id name>`."""

    name: str
    legacy: bool = False  # force the 4.2 code path (tests run it on newer versions)
    actions: dict[int, bpy.types.Action] = field(default_factory=dict)
    _bags: dict[int, Channels] = field(default_factory=dict)
    _slots: dict[int, object] = field(default_factory=dict)
    _first: bpy.types.Action | None = None

    @property
    def layered(self) -> bool:
        return not self.legacy and "slots" in bpy.types.Action.bl_rna.properties

    @property
    def action(self) -> bpy.types.Action:
        """The main action (the first one created)."""
        if self._first is None:
            self._first = bpy.data.actions.new(self.name)
        return self._first

    def channels(self, id_block: bpy.types.ID) -> Channels:
        """The F-curve collection (and groups) for `id_block` in this writer's action(s)."""
        key = id_block.as_pointer()
        if key in self._bags:
            return self._bags[key]
        if self.layered:
            action = self.action
            slot = action.slots.new(id_type=id_block.id_type, name=id_block.name)
            if not action.layers:
                action.layers.new("EmoSync").strips.new(type="KEYFRAME")
            strip = action.layers[0].strips[0]
            bag = strip.channelbag(slot, ensure=True)
            channels = Channels(bag.fcurves, bag.groups)
            self._slots[key] = slot
        else:
            if self._first is None:
                action = self.action
            else:
                action = bpy.data.actions.new(f"{self.name}.{id_block.name}")
            action.id_root = id_block.id_type
            channels = Channels(action.fcurves, action.groups)
        self.actions[key] = self.action if self.layered else action
        self._bags[key] = channels
        return channels

    def slot(self, id_block: bpy.types.ID):
        return self._slots.get(id_block.as_pointer())

    def all_actions(self) -> list[bpy.types.Action]:
        return list(dict.fromkeys(self.actions.values()))


def write_curve(
    channels: Channels,
    data_path: str,
    frames: np.ndarray,
    values: np.ndarray,
    index: int = 0,
    group: str | None = None,
) -> bpy.types.FCurve:
    """One F-curve with a key per frame, written in bulk."""
    fcurve = channels.fcurves.new(data_path, index=index)
    if group:
        fcurve.group = channels.groups.get(group) or channels.groups.new(group)
    n = len(frames)
    points = fcurve.keyframe_points
    points.add(n)
    co = np.empty(2 * n, dtype=np.float32)
    co[0::2] = frames
    co[1::2] = values
    points.foreach_set("co", co)
    interp = _enum_value(bpy.types.Keyframe, "interpolation", _INTERPOLATION)
    points.foreach_set("interpolation", np.full(n, interp, dtype=np.int32))
    fcurve.update()
    return fcurve


def assign(writer: ActionWriter, id_block: bpy.types.ID, keep_previous: bool = True) -> str | None:
    """Make the writer's action the active one on `id_block`. A previous action is kept in the
    file with a fake user (unless `keep_previous` is False); its name is returned."""
    anim = id_block.animation_data or id_block.animation_data_create()
    previous = anim.action
    if previous is not None and keep_previous:
        previous.use_fake_user = True
    anim.action = writer.actions[id_block.as_pointer()]
    slot = writer.slot(id_block)
    if slot is None and getattr(anim, "action_slot", False) is None:
        # A legacy-built action on 4.4+: its one "Legacy Slot" is not picked automatically.
        slot = next(iter(anim.action_suitable_slots), None)
    if slot is not None:
        anim.action_slot = slot
    return previous.name if previous is not None else None


def push_to_nla(
    writer: ActionWriter, id_block: bpy.types.ID, start_frame: int, track_name: str = "EmoSync"
) -> bpy.types.NlaStrip:
    """Put the writer's action on a new NLA track of `id_block` starting at `start_frame`."""
    anim = id_block.animation_data or id_block.animation_data_create()
    action = writer.actions[id_block.as_pointer()]
    track = anim.nla_tracks.new()
    track.name = track_name
    strip = track.strips.new(action.name, int(start_frame), action)
    slot = writer.slot(id_block)
    if slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = slot
    return strip
