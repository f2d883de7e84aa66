"""Settings stored in the .blend: the scene's generate settings and each object's custom map."""

from __future__ import annotations

import math

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from emosync.rigs.emotions import EMOTIONS

from .apply import AXES

# Since 4.5 a path property must say it takes "//" (relative to the .blend); 4.2-4.4 have no
# such option and accept it anyway. Clips saved with a scene stay found when the folder moves.
PATH_OPTIONS = {"PATH_SUPPORTS_BLEND_RELATIVE"} if bpy.app.version >= (4, 5, 0) else set()

PRESETS = [("NONE", "Neutral", "No emotion preset")] + [
    (name.upper(), name.capitalize(), f"The {name} preset") for name in EMOTIONS
]


def _is_armature(_self, obj: bpy.types.Object) -> bool:
    return obj.type == "ARMATURE"


class EMOSYNC_PG_segment(bpy.types.PropertyGroup):
    start: FloatProperty(name="Start", description="Seconds from the clip start", min=0.0)
    end: FloatProperty(name="End", description="Seconds from the clip start", min=0.0, default=1)
    emotion: StringProperty(name="Emotion", description="A preset or prompt, e.g. '0.6 happy'")


class EMOSYNC_PG_map_entry(bpy.types.PropertyGroup):
    """One custom map entry; `name` is the shape key."""

    source: StringProperty(
        name="Source",
        description="ARKit channel (jawOpen), vrm:happy or viseme:PP; empty excludes the key",
    )


class EMOSYNC_PG_object(bpy.types.PropertyGroup):
    custom_map: CollectionProperty(type=EMOSYNC_PG_map_entry)
    custom_index: IntProperty()


class EMOSYNC_PG_settings(bpy.types.PropertyGroup):
    audio_source: EnumProperty(
        name="Audio",
        items=[("FILE", "File", "An audio file"), ("STRIP", "Sound Strip", "A sequencer strip")],
    )
    audio_path: StringProperty(name="File", subtype="FILE_PATH", options=PATH_OPTIONS)
    strip_name: StringProperty(name="Strip", description="A sound strip in the sequencer")
    transcript: StringProperty(name="Transcript", description="What is said (optional)")
    transcript_path: StringProperty(
        name="Transcript File", subtype="FILE_PATH", options=PATH_OPTIONS
    )
    engine: EnumProperty(
        name="Engine",
        items=[
            ("AUTO", "Automatic", "Phonetic with a transcript, the neural network without one"),
            ("NEURAL", "Neural", "The network hears the audio: any voice or language, no text"),
            ("PHONETIC", "Phonetic", "The transcript's phones, or recognised English words (slow)"),
        ],
    )
    preset: EnumProperty(name="Emotion", items=PRESETS, default="NONE")
    prompt: StringProperty(
        name="Prompt", description="Free text, e.g. 'slightly sad + a bit surprised'"
    )
    intensity: FloatProperty(name="Intensity", default=1.0, min=0.0, max=1.5)
    timeline_source: EnumProperty(
        name="Segments",
        items=[
            ("NONE", "None", "One emotion for the whole clip"),
            ("LIST", "List", "The segments listed below"),
            ("MARKERS", "Markers", "Timeline markers named with an emotion start segments"),
        ],
    )
    segments: CollectionProperty(type=EMOSYNC_PG_segment)
    segment_index: IntProperty()
    scheme: EnumProperty(
        name="Mapping",
        items=[
            ("AUTO", "Automatic", "ARKit names, then VRM or viseme names"),
            ("ARKIT", "ARKit", "ARKit-52 names only"),
            ("VRM", "VRM 1.0", "VRM expressions"),
            ("VISEMES", "Visemes", "The 15 Oculus visemes"),
        ],
    )
    armature: PointerProperty(name="Armature", type=bpy.types.Object, poll=_is_armature)
    jaw_bone: StringProperty(name="Jaw Bone")
    jaw_axis: EnumProperty(name="Jaw Axis", items=[(a, a, f"Open about {a}") for a in AXES])
    jaw_max_angle: FloatProperty(
        name="Max Angle", subtype="ANGLE", default=math.radians(20.0), min=0.0, max=math.pi / 2
    )
    head: EnumProperty(
        name="Head",
        items=[
            ("NONE", "None", "No head rotation"),
            ("BONE", "Bone", "Rotate a head bone"),
            ("OBJECT", "Object", "Rotate the mesh object"),
        ],
    )
    head_bone: StringProperty(name="Head Bone")
    blink: FloatProperty(name="Blink", default=1.0, min=0.0, max=3.0)
    gaze: FloatProperty(name="Gaze", default=1.0, min=0.0, max=3.0)
    head_motion: FloatProperty(name="Head Motion", default=1.0, min=0.0, max=3.0)
    start_frame: IntProperty(name="Start Frame", default=1)
    use_nla: BoolProperty(name="As NLA Strip", description="Put the action on a new NLA track")
    replace: BoolProperty(
        name="Replace Active Action",
        description="Let the previous active action go instead of keeping it with a fake user",
    )
    add_sound: BoolProperty(name="Add Sound Strip", default=True)
    set_range: BoolProperty(name="Set Frame Range", default=True)
    status: StringProperty(name="Status")
    live_port: IntProperty(
        name="Port", default=11111, min=1, max=65535, description="UDP port to receive on"
    )
    live_record: BoolProperty(
        name="Record", description="Keep the received frames and write them as a new action"
    )
    live_running: BoolProperty(name="Receiving")
    live_stop: BoolProperty(name="Stop Requested")
    live_status: StringProperty(name="Live Status")


CLASSES = (EMOSYNC_PG_segment, EMOSYNC_PG_map_entry, EMOSYNC_PG_object, EMOSYNC_PG_settings)


def attach() -> None:
    bpy.types.Scene.emosync = PointerProperty(type=EMOSYNC_PG_settings)
    bpy.types.Object.emosync = PointerProperty(type=EMOSYNC_PG_object)


def detach() -> None:
    del bpy.types.Scene.emosync
    del bpy.types.Object.emosync
