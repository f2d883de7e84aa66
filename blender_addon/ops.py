"""Operators: Generate (modal with progress and Esc in the UI, straight through in background
mode) and the small list editors of the panel."""

from __future__ import annotations

import threading
import traceback

import bpy

from emosync.errors import InputError
from emosync.inference.facecurves import FaceCurves
from emosync.inference.pipeline import animate

from . import audio_source, request
from .apply import add_sound_strip, apply_curves, check_target, set_frame_range


class _Cancelled(Exception):
    pass


class _Job:
    """`animate` on a worker thread; it touches no Blender data, so this is safe."""

    def __init__(self, audio, options) -> None:
        self.cancel = threading.Event()
        self.done = 0.0
        self.total = max(audio.duration, 1e-6)
        self.curves: FaceCurves | None = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, args=(audio, options), daemon=True)

    def _progress(self, done: float, total: float) -> None:
        if self.cancel.is_set():
            raise _Cancelled
        self.done, self.total = done, max(total, 1e-6)

    def _run(self, audio, options) -> None:
        try:
            self.curves = animate(audio, options, progress=self._progress)
        except _Cancelled:
            pass
        except InputError as exc:
            self.error = str(exc)
        except Exception as exc:  # an internal fault: keep the trace in the console
            traceback.print_exc()
            self.error = f"internal error: {type(exc).__name__}: {exc}"


def generate(context: bpy.types.Context, req: request.Request, curves: FaceCurves) -> str:
    """Write the curves, the sound strip and the frame range; returns the summary line."""
    scene = context.scene
    settings = scene.emosync
    result = apply_curves(
        curves,
        req.target,
        scene,
        req.start_frame,
        req.name,
        nla=settings.use_nla,
        keep_previous=not settings.replace,
    )
    if settings.add_sound and settings.audio_source == "FILE":
        add_sound_strip(scene, req.audio_path, req.start_frame, req.name)
    if settings.set_range:
        set_frame_range(scene, result.frame_start, result.frame_end)
    mapped = len(result.mapping.targets) if result.mapping else 0
    summary = (
        f"EmoSync: {', '.join(result.action_names)}: {mapped} shape keys, "
        f"{result.n_keys} keys, frames {result.frame_start}–{result.frame_end}"
    )
    for note in result.notes:
        summary += f"; {note}"
    settings.status = summary
    return summary


class EMOSYNC_OT_generate(bpy.types.Operator):
    """Animate the active mesh's shape keys (and jaw/head) from the clip and the emotion"""

    bl_idname = "emosync.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a set)

    _job: _Job | None = None
    _timer = None
    _req: request.Request | None = None

    def _prepare(self, context):
        req = request.build(context)
        check_target(req.target)
        audio = audio_source.decode(req.audio_path)
        return req, audio

    def execute(self, context):
        try:
            req, audio = self._prepare(context)
            curves = animate(audio, req.options)
            self.report({"INFO"}, generate(context, req, curves))
        except InputError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
        try:
            self._req, audio = self._prepare(context)
        except InputError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._job = _Job(audio, self._req.options)
        self._job.thread.start()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.progress_begin(0, 100)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        job = self._job
        if event.type == "ESC":
            job.cancel.set()
            self._stop(context)
            self.report({"WARNING"}, "EmoSync: cancelled")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        context.window_manager.progress_update(int(100 * job.done / job.total))
        if context.area:
            context.area.header_text_set(
                f"EmoSync: {job.done:.0f}/{job.total:.0f} s of audio (Esc cancels)"
            )
        if job.thread.is_alive():
            return {"RUNNING_MODAL"}
        self._stop(context)
        if job.error or job.curves is None:
            self.report({"ERROR"}, job.error or "EmoSync: no result")
            return {"CANCELLED"}
        try:
            self._req.target = _refresh(self._req.target)
            self.report({"INFO"}, generate(context, self._req, job.curves))
        except InputError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}

    def _stop(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        if context.area:
            context.area.header_text_set(None)


def _refresh(target):
    """The objects may have been deleted while the worker ran: look them up again by name."""
    for attr in ("mesh", "armature"):
        obj = getattr(target, attr)
        if obj is None:
            continue
        try:
            name = obj.name
        except ReferenceError:
            raise InputError(f"the target {attr} was deleted while generating") from None
        setattr(target, attr, bpy.data.objects.get(name))
    return target


class EMOSYNC_OT_segment_add(bpy.types.Operator):
    """Add an emotion segment after the last one"""

    bl_idname = "emosync.segment_add"
    bl_label = "Add Segment"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a set)

    def execute(self, context):
        segments = context.scene.emosync.segments
        start = max((s.end for s in segments), default=0.0)
        item = segments.add()
        item.start, item.end, item.emotion = start, start + 2.0, "happy"
        context.scene.emosync.segment_index = len(segments) - 1
        return {"FINISHED"}


class EMOSYNC_OT_segment_remove(bpy.types.Operator):
    """Remove the selected emotion segment"""

    bl_idname = "emosync.segment_remove"
    bl_label = "Remove Segment"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a set)

    def execute(self, context):
        settings = context.scene.emosync
        if 0 <= settings.segment_index < len(settings.segments):
            settings.segments.remove(settings.segment_index)
            settings.segment_index = max(0, settings.segment_index - 1)
        return {"FINISHED"}


class EMOSYNC_OT_map_add(bpy.types.Operator):
    """Map a shape key by hand (saved with the object in the .blend)"""

    bl_idname = "emosync.map_add"
    bl_label = "Add Mapping"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a set)

    key: bpy.props.StringProperty(name="Shape Key")
    source: bpy.props.StringProperty(name="Source")

    @classmethod
    def poll(cls, context):
        return context.active_object is not None

    def execute(self, context):
        entries = context.active_object.emosync.custom_map
        entry = entries.get(self.key) if self.key else None
        entry = entry or entries.add()
        entry.name, entry.source = self.key, self.source
        context.active_object.emosync.custom_index = len(entries) - 1
        return {"FINISHED"}


class EMOSYNC_OT_map_remove(bpy.types.Operator):
    """Remove the selected custom mapping"""

    bl_idname = "emosync.map_remove"
    bl_label = "Remove Mapping"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a set)

    @classmethod
    def poll(cls, context):
        return context.active_object is not None

    def execute(self, context):
        props = context.active_object.emosync
        if 0 <= props.custom_index < len(props.custom_map):
            props.custom_map.remove(props.custom_index)
            props.custom_index = max(0, props.custom_index - 1)
        return {"FINISHED"}


CLASSES = (
    EMOSYNC_OT_generate,
    EMOSYNC_OT_segment_add,
    EMOSYNC_OT_segment_remove,
    EMOSYNC_OT_map_add,
    EMOSYNC_OT_map_remove,
)
