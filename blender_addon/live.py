"""Live Link Face stream into the viewport: a UDP receiver that drives the selected character's
shape keys (and jaw bone and head, as the Target panel says) as packets arrive (from
`emosync live --livelink`, the iPhone app, or any sender of the same packets), polled by a
modal timer so the UI never waits on the network, and optionally recorded to a new action with
the same keyframe writer as Generate.

Shape keys are matched by rigs/morph_names.py (ARKit, VRM or viseme names, the object's own
map); recording goes through apply.apply_curves, so jaw bone and head settings apply there too.
"""

from __future__ import annotations

import contextlib
import socket
import time

import bpy
import numpy as np

from emosync.errors import InputError
from emosync.exporters.live_livelink import DEFAULT_PORT, decode_packet
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import N_BLENDSHAPES

from .apply import Target, _rotation_parts, apply_curves, check_target
from .request import build_target

POLL_SECONDS = 1.0 / 60.0  # the modal timer: a frame at 60 Hz in the viewport
MAX_PER_POLL = 512  # datagrams drained per tick (a burst never stalls the UI)


class LiveReceiver:
    """Receives Live Link Face packets on a UDP port and sets shape key values.

    `poll()` never blocks: it drains what has arrived, shows the newest frame and, when
    recording, keeps every frame by its frame number."""

    def __init__(self, target: Target, port: int = DEFAULT_PORT, host: str = "0.0.0.0") -> None:
        mapping = check_target(target)
        if mapping is None or not mapping.targets:
            raise InputError("select a mesh whose shape keys EmoSync can drive")
        self.target, self.mapping = target, mapping
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, int(port)))
        except OSError as exc:
            self.sock.close()
            raise InputError(f"cannot listen on UDP port {port}: {exc.strerror or exc}") from None
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.frames: dict[int, np.ndarray] = {}
        self.rate: tuple[int, int] | None = None
        self.received = 0
        self.rejected = 0
        self.subject = ""
        self.last: np.ndarray | None = None
        self._rest = [
            (o, o.rotation_quaternion.copy(), o.rotation_euler.copy()) for o in _owners(target)
        ]

    def poll(self, record: bool = False) -> int:
        """Apply what arrived since the last call; returns the number of packets read."""
        newest = None
        count = 0
        for _ in range(MAX_PER_POLL):
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            try:
                frame = decode_packet(data)
            except ValueError:
                self.rejected += 1
                continue
            count += 1
            self.rate, self.subject = frame.rate, frame.subject
            if newest is None or frame.frame >= newest.frame:
                newest = frame
            if record:
                self.frames[frame.frame] = frame.values
        self.received += count
        if newest is not None:
            self.show(newest.values)
        return count

    def show(self, values: np.ndarray) -> None:
        """Pose the character in one frame (61 values in CHANNELS order): shape keys, and the
        jaw bone and head as the panel's Target settings say, on top of their rest rotation."""
        self.last = values
        weights = self.mapping.weights(values[None, :N_BLENDSHAPES])[0]
        blocks = self.target.mesh.data.shape_keys.key_blocks
        for key_target, value in zip(self.mapping.targets, weights, strict=True):
            block = blocks.get(key_target.key)
            if block is not None:
                block.value = float(value)
        if self._rest:
            self._restore()
            frame = FaceCurves(50.0, np.asarray(values, np.float32)[None])
            for owner_id, prefix, prop, rows in _rotation_parts(frame, self.target):
                owner = owner_id.path_resolve(prefix[:-1]) if prefix else owner_id
                setattr(owner, prop, rows[0])

    def _restore(self) -> None:
        for owner, quaternion, euler in self._rest:
            owner.rotation_quaternion, owner.rotation_euler = quaternion, euler

    def recording(self) -> FaceCurves | None:
        """The recorded frames in frame-number order; a lost packet's frame is interpolated."""
        if not self.frames or self.rate is None:
            return None
        numbers = np.array(sorted(self.frames))
        values = np.stack([self.frames[n] for n in numbers])
        every = np.arange(numbers[0], numbers[-1] + 1)
        filled = np.stack(
            [np.interp(every, numbers, values[:, c]) for c in range(values.shape[1])], axis=1
        )
        fps = self.rate[0] / self.rate[1]
        meta = {"source_audio": f"live:{self.subject}", "first_frame": int(numbers[0])}
        return FaceCurves(fps, filled.astype(np.float32), metadata=meta)

    def close(self) -> None:
        """Stop listening; the jaw and head go back to their rest rotation."""
        self.sock.close()
        with contextlib.suppress(ReferenceError):  # deleted while receiving
            self._restore()


def _owners(target: Target) -> list:
    """The pose bones or object that the jaw and head settings rotate."""
    owners = []
    if target.armature is not None and target.jaw_bone:
        owners.append(target.armature.pose.bones[target.jaw_bone])
    if target.head == "BONE":
        owners.append(target.armature.pose.bones[target.head_bone])
    elif target.head == "OBJECT":
        owners.append(target.mesh or target.armature)
    return owners


def finish(context, receiver: LiveReceiver, record: bool) -> str:
    """Stop: write the recording (if any) as a new action from the current frame."""
    receiver.close()
    settings = context.scene.emosync
    summary = f"EmoSync Live: {receiver.received} frames received"
    curves = receiver.recording() if record else None
    if curves is not None:
        target = _refresh(receiver.target)
        result = apply_curves(
            curves, target, context.scene, context.scene.frame_current, "EmoSync Live",
            nla=settings.use_nla, keep_previous=not settings.replace,
        )  # fmt: skip
        summary += f"; recorded {', '.join(result.action_names)} ({curves.n_frames} frames)"
    settings.live_status = summary
    settings.live_running = False
    return summary


def _refresh(target: Target) -> Target:
    """Objects may have been renamed or deleted while receiving: look them up again."""
    try:
        target.mesh = bpy.data.objects.get(target.mesh.name)
    except ReferenceError:
        raise InputError("the target mesh was deleted while receiving") from None
    if target.mesh is None:
        raise InputError("the target mesh was deleted while receiving")
    return target


class EMOSYNC_OT_live_receive(bpy.types.Operator):
    """Receive a Live Link Face stream on a UDP port and drive the selected mesh's shape keys
    (Esc or Stop ends it; with Record, the frames become a new action)"""

    bl_idname = "emosync.live_receive"
    bl_label = "Receive Live"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a set)

    seconds: bpy.props.FloatProperty(
        name="Seconds", default=0.0, min=0.0,
        description="Without the UI (scripts, background mode): receive this long, then stop",
    )  # fmt: skip

    _receiver: LiveReceiver | None = None
    _timer = None

    def _start(self, context) -> LiveReceiver:
        settings = context.scene.emosync
        receiver = LiveReceiver(build_target(context), settings.live_port)
        settings.live_running = True
        settings.live_stop = False
        settings.live_status = f"EmoSync Live: listening on UDP port {receiver.port}"
        return receiver

    def execute(self, context):
        """Blocking form for scripts: receive for `seconds`, then stop (and record)."""
        settings = context.scene.emosync
        try:
            receiver = self._start(context)
            end = time.monotonic() + self.seconds
            while time.monotonic() < end:
                if not receiver.poll(settings.live_record):
                    time.sleep(0.002)
            self.report({"INFO"}, finish(context, receiver, settings.live_record))
        except InputError as exc:
            settings.live_running = False
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}

    def invoke(self, context, event):
        if bpy.app.background or self.seconds > 0:
            return self.execute(context)
        try:
            self._receiver = self._start(context)
        except InputError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(POLL_SECONDS, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        settings = context.scene.emosync
        if event.type == "ESC" or settings.live_stop:
            return self._stop(context)
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            self._receiver.poll(settings.live_record)
        except ReferenceError:  # the mesh was deleted under us
            return self._stop(context)
        if context.area:
            context.area.tag_redraw()
        return {"PASS_THROUGH"}

    def _stop(self, context):
        context.window_manager.event_timer_remove(self._timer)
        try:
            self.report(
                {"INFO"}, finish(context, self._receiver, context.scene.emosync.live_record)
            )
        except InputError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}


class EMOSYNC_OT_live_stop(bpy.types.Operator):
    """Stop receiving the live stream"""

    bl_idname = "emosync.live_stop"
    bl_label = "Stop"

    def execute(self, context):
        context.scene.emosync.live_stop = True
        return {"FINISHED"}


class EMOSYNC_PT_live(bpy.types.Panel):
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "EmoSync"
    bl_label = "Live"
    bl_parent_id = "EMOSYNC_PT_main"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 (Blender reads a set)

    def draw(self, context):
        settings = context.scene.emosync
        layout = self.layout
        layout.label(text="Live Link Face UDP (emosync live --livelink)")
        row = layout.row(align=True)
        row.prop(settings, "live_port")
        row.prop(settings, "live_record", toggle=True, icon="REC")
        if settings.live_running:
            layout.operator("emosync.live_stop", icon="PAUSE")
        else:
            layout.operator("emosync.live_receive", icon="PLAY")
        if settings.live_status:
            layout.label(text=settings.live_status)


CLASSES = (EMOSYNC_OT_live_receive, EMOSYNC_OT_live_stop, EMOSYNC_PT_live)
