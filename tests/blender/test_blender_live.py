"""The add-on's live receiver under the real bpy module: Live Link Face packets sent on loopback
(by the runtime's sender, as `emosync live --livelink` sends them) drive the selected mesh's
shape keys, and a recording becomes a new action with a key per received frame."""

from __future__ import annotations

import importlib
import threading
import time

import bpy
import numpy as np
import pytest
from blender_scene import curve_values, make_face, make_rig

from emosync.exporters.live_livelink import LiveLinkSender
from emosync.rigs.channels import ARKIT_NAMES, N_CHANNELS


def frames(n: int, seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).random((n, N_CHANNELS)).astype(np.float32)
    values[:, 52:] -= 0.5  # rotations in radians, either sign
    return values


def send(port: int, values: np.ndarray, fps: float = 24.0, pause: float = 0.0) -> None:
    sender = LiveLinkSender("127.0.0.1", port, "Test", fps)
    for i, row in enumerate(values):
        sender.send(i, row[None])
        if pause:
            time.sleep(pause)
    sender.close()


def test_receiver_drives_shape_keys_and_records(scene, addon):
    live = importlib.import_module(addon.__name__ + ".live")
    apply = importlib.import_module(addon.__name__ + ".apply")
    face = make_face()
    receiver = live.LiveReceiver(apply.Target(face), port=0, host="127.0.0.1")
    values = frames(30)
    send(receiver.port, values)
    deadline = time.monotonic() + 10.0
    while receiver.received < len(values) and time.monotonic() < deadline:
        receiver.poll(record=True)
    assert receiver.received == len(values) and receiver.rejected == 0
    keys = face.data.shape_keys.key_blocks
    for name in ("jawOpen", "jawLeft", "mouthRight", "eyeBlinkLeft", "tongueOut"):
        assert keys[name].value == pytest.approx(values[-1, ARKIT_NAMES.index(name)], abs=1e-6)
    receiver.sock.sendto(b"not a packet", ("127.0.0.1", receiver.port))
    time.sleep(0.05)
    receiver.poll(record=True)
    assert receiver.rejected == 1
    scene.frame_current = 10
    summary = live.finish(bpy.context, receiver, record=True)
    assert "recorded" in summary and "30 frames" in summary
    frames_at, jaw = curve_values(face.data.shape_keys, 'key_blocks["jawOpen"].value')
    np.testing.assert_array_equal(frames_at, 10 + np.arange(30))
    np.testing.assert_allclose(jaw, values[:, ARKIT_NAMES.index("jawOpen")], atol=1e-6)


def test_operator_receives_for_a_while_and_records_a_new_action(scene, addon):
    face = make_face(keys=["Basis_unused", "A", "I", "U", "E", "O", "Blink", "Joy"])
    settings = scene.emosync
    with __import__("socket").socket(2, 2) as probe:  # a free port for the operator
        probe.bind(("127.0.0.1", 0))
        settings.live_port = probe.getsockname()[1]
    settings.live_record = True
    values = frames(12, seed=1)
    values[:, ARKIT_NAMES.index("jawOpen")] = np.linspace(0.0, 0.9, 12)
    sender = threading.Thread(
        target=lambda: (time.sleep(0.5), send(settings.live_port, values, pause=0.01))
    )
    sender.start()
    assert bpy.ops.emosync.live_receive(seconds=2.0) == {"FINISHED"}
    sender.join()
    assert "12 frames received" in settings.live_status and not settings.live_running
    action = face.data.shape_keys.animation_data.action
    assert action is not None and action.name.startswith("EmoSync Live")
    _, aa = curve_values(face.data.shape_keys, 'key_blocks["A"].value')  # VRM 0 "A" = aa
    assert len(aa) == 12 and aa[-1] > aa[0] + 0.3  # opens with the jaw


def test_receiver_refuses_a_mesh_without_keys(scene, addon):
    live = importlib.import_module(addon.__name__ + ".live")
    apply = importlib.import_module(addon.__name__ + ".apply")
    from emosync.errors import InputError

    with pytest.raises(InputError, match="shape keys"):
        live.LiveReceiver(apply.Target(make_face(keys=[])), port=0)


def test_receiver_poses_jaw_and_head_bones_and_restores_them(scene, addon):
    live = importlib.import_module(addon.__name__ + ".live")
    apply = importlib.import_module(addon.__name__ + ".apply")
    face, rig = make_face(), make_rig()
    jaw, head = rig.pose.bones["jaw"], rig.pose.bones["head"]
    jaw.rotation_mode = "XYZ"
    target = apply.Target(face, armature=rig, jaw_bone="jaw", head="BONE", head_bone="head")
    receiver = live.LiveReceiver(target, port=0, host="127.0.0.1")
    values = np.zeros((1, N_CHANNELS), np.float32)
    values[0, ARKIT_NAMES.index("jawOpen")] = 0.5
    values[0, 52] = 0.1  # head yaw
    send(receiver.port, values)
    deadline = time.monotonic() + 10.0
    while not receiver.received and time.monotonic() < deadline:
        receiver.poll()
    assert jaw.rotation_euler.x == pytest.approx(0.5 * target.jaw_max_angle, abs=1e-5)
    assert head.rotation_quaternion.angle == pytest.approx(0.1, abs=1e-5)
    receiver.show(values[0])  # shown twice: still the same pose, not twice the rotation
    assert jaw.rotation_euler.x == pytest.approx(0.5 * target.jaw_max_angle, abs=1e-5)
    receiver.close()
    assert jaw.rotation_euler.x == 0.0 and head.rotation_quaternion.angle == pytest.approx(0.0)
