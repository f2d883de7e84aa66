"""The EmoSync tab of the 3D View sidebar."""

from __future__ import annotations

import bpy

from .apply import Target, mapping_for, shape_key_names
from .audio_source import sound_strips
from .request import custom_map

_CATEGORY = "EmoSync"


class _Base:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = _CATEGORY


class EMOSYNC_UL_segments(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_prop, index=0):
        row = layout.row(align=True)
        row.prop(item, "start", text="")
        row.prop(item, "end", text="")
        row.prop(item, "emotion", text="")


class EMOSYNC_UL_map(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_prop, index=0):
        row = layout.row(align=True)
        row.prop(item, "name", text="", emboss=False)
        row.prop(item, "source", text="")


class EMOSYNC_PT_main(_Base, bpy.types.Panel):
    bl_label = "EmoSync"

    def draw(self, context):
        settings = context.scene.emosync
        layout = self.layout
        layout.prop(settings, "audio_source", expand=True)
        if settings.audio_source == "FILE":
            layout.prop(settings, "audio_path")
            layout.prop(settings, "start_frame")
        else:
            names = [s.name for s in sound_strips(context.scene)]
            layout.prop(settings, "strip_name")
            if settings.strip_name and settings.strip_name not in names:
                layout.label(text="No such sound strip", icon="ERROR")
        layout.prop(settings, "transcript")
        layout.prop(settings, "transcript_path")
        layout.prop(settings, "engine")
        layout.separator()
        layout.operator("emosync.generate", icon="PLAY_SOUND")
        if settings.status:
            layout.label(text=settings.status)


class EMOSYNC_PT_emotion(_Base, bpy.types.Panel):
    bl_label = "Emotion"
    bl_parent_id = "EMOSYNC_PT_main"

    def draw(self, context):
        settings = context.scene.emosync
        layout = self.layout
        layout.prop(settings, "preset")
        layout.prop(settings, "prompt")
        layout.prop(settings, "intensity", slider=True)
        layout.prop(settings, "timeline_source")
        if settings.timeline_source == "LIST":
            row = layout.row()
            row.template_list(
                "EMOSYNC_UL_segments", "", settings, "segments", settings, "segment_index", rows=3
            )
            col = row.column(align=True)
            col.operator("emosync.segment_add", icon="ADD", text="")
            col.operator("emosync.segment_remove", icon="REMOVE", text="")
        elif settings.timeline_source == "MARKERS":
            layout.label(text="Name markers with emotions, e.g. 'happy'", icon="MARKER")


class EMOSYNC_PT_target(_Base, bpy.types.Panel):
    bl_label = "Target"
    bl_parent_id = "EMOSYNC_PT_main"

    def draw(self, context):
        settings = context.scene.emosync
        layout = self.layout
        obj = context.active_object
        layout.label(text=f"Mesh: {obj.name if obj else 'none selected'}", icon="MESH_DATA")
        layout.prop(settings, "armature")
        if settings.armature:
            layout.prop_search(settings, "jaw_bone", settings.armature.pose, "bones")
            row = layout.row(align=True)
            row.prop(settings, "jaw_axis", text="")
            row.prop(settings, "jaw_max_angle")
        layout.prop(settings, "head")
        if settings.head == "BONE" and settings.armature:
            layout.prop_search(settings, "head_bone", settings.armature.pose, "bones")
        layout.prop(settings, "use_nla")
        layout.prop(settings, "replace")
        layout.prop(settings, "add_sound")
        layout.prop(settings, "set_range")


class EMOSYNC_PT_mapping(_Base, bpy.types.Panel):
    bl_label = "Mapping"
    bl_parent_id = "EMOSYNC_PT_main"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 (Blender reads a set)

    def draw(self, context):
        settings = context.scene.emosync
        layout = self.layout
        layout.prop(settings, "scheme")
        obj = context.active_object
        if obj is None or obj.type != "MESH":
            layout.label(text="Select a mesh with shape keys", icon="INFO")
            return
        row = layout.row()
        row.template_list(
            "EMOSYNC_UL_map", "", obj.emosync, "custom_map", obj.emosync, "custom_index", rows=2
        )
        col = row.column(align=True)
        col.operator("emosync.map_add", icon="ADD", text="")
        col.operator("emosync.map_remove", icon="REMOVE", text="")
        if not shape_key_names(obj):
            layout.label(text=f"'{obj.name}' has no shape keys", icon="ERROR")
            return
        mapping = mapping_for(Target(obj, settings.scheme, custom_map(obj)))
        box = layout.box()
        box.label(text=f"{len(mapping.targets)} keys driven, {len(mapping.unused_keys)} unused")
        box.label(
            text=f"{len(mapping.matched_channels)}/52 ARKit channels reach a key",
            icon="CHECKMARK" if not mapping.unmatched_channels else "INFO",
        )
        for name in mapping.unmatched_channels[:8]:
            box.label(text=f"no target: {name}")
        if len(mapping.unmatched_channels) > 8:
            box.label(text=f"… and {len(mapping.unmatched_channels) - 8} more")
        for error in mapping.errors:
            box.label(text=error, icon="ERROR")


class EMOSYNC_PT_life(_Base, bpy.types.Panel):
    bl_label = "Life"
    bl_parent_id = "EMOSYNC_PT_main"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 (Blender reads a set)

    def draw(self, context):
        settings = context.scene.emosync
        layout = self.layout
        layout.prop(settings, "blink", slider=True)
        layout.prop(settings, "gaze", slider=True)
        layout.prop(settings, "head_motion", slider=True)
        fps = context.scene.render.fps / context.scene.render.fps_base
        layout.label(text=f"Keys at the scene rate: {fps:g} fps")


CLASSES = (
    EMOSYNC_UL_segments,
    EMOSYNC_UL_map,
    EMOSYNC_PT_main,
    EMOSYNC_PT_emotion,
    EMOSYNC_PT_target,
    EMOSYNC_PT_mapping,
    EMOSYNC_PT_life,
)
