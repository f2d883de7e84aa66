"""The Generate operator against real Blender: keyed values equal the engine's FaceCurves,
one undo step takes it all back, errors are reported (never raised), bones and NLA work."""

from __future__ import annotations

import math

import bpy
import numpy as np
import pytest
from blender_scene import curve_values, make_face, make_rig

from emosync.inference.facecurves import FaceCurves
from emosync.inference.pipeline import AnimateOptions, animate
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS, pascal


def _setup(speech, prompt="happy"):
    settings = bpy.context.scene.emosync
    settings.audio_path = str(speech)
    settings.prompt = prompt
    return settings


def test_generate_keys_match_engine(scene, speech):
    face = make_face(prefix="ARKit_", keys=[pascal(n) for n in ARKIT_NAMES])
    settings = _setup(speech)
    settings.start_frame = 10
    assert bpy.ops.emosync.generate() == {"FINISHED"}

    expected = animate(speech, AnimateOptions(emotion="happy", fps=24.0))
    keys = face.data.shape_keys
    assert keys.animation_data.action.name == "hello_world"
    for name in ("jawOpen", "mouthSmileLeft", "eyeBlinkRight", "mouthClose"):
        frames, values = curve_values(keys, f'key_blocks["ARKit_{pascal(name)}"].value')
        np.testing.assert_array_equal(frames, 10 + np.arange(expected.n_frames))
        np.testing.assert_allclose(values, expected.channel(name), atol=2e-3)
    assert expected.channel("jawOpen").max() > 0.2  # the clip is speech, not silence
    assert (scene.frame_start, scene.frame_end) == (10, 10 + expected.n_frames - 1)
    editor = scene.sequence_editor
    strips = editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all
    sound = [s for s in strips if s.type == "SOUND"]
    assert len(sound) == 1 and int(sound[0].frame_start) == 10
    # The scene's frame rate is respected: the same clip at 30 fps has 30/24 as many keys.
    scene.render.fps = 30
    settings.replace = True
    assert bpy.ops.emosync.generate() == {"FINISHED"}
    frames, _ = curve_values(keys, 'key_blocks["ARKit_JawOpen"].value')
    assert abs(len(frames) - round(expected.duration * 30)) <= 1


def test_engine_choice_reaches_the_animation(scene, speech):
    face = make_face(keys=list(ARKIT_NAMES))
    settings = _setup(speech)
    keys = face.data.shape_keys
    got = {}
    for engine in ("PHONETIC", "NEURAL"):
        settings.engine = engine
        settings.replace = True
        assert bpy.ops.emosync.generate() == {"FINISHED"}
        _, got[engine] = curve_values(keys, 'key_blocks["jawOpen"].value')
        options = AnimateOptions(emotion="happy", fps=24.0, engine=engine.lower())
        expected = animate(speech, options).channel("jawOpen")
        np.testing.assert_allclose(got[engine], expected, atol=2e-3)
    assert np.abs(got["PHONETIC"] - got["NEURAL"]).max() > 0.05


def test_one_undo_step_takes_it_back(scene, speech):
    make_face()
    _setup(speech, "sad")
    start, end = scene.frame_start, scene.frame_end
    bpy.ops.ed.undo_push(message="before EmoSync")
    assert bpy.ops.emosync.generate() == {"FINISHED"}
    # The UI pushes one step when an UNDO operator finishes; a script call in background
    # mode does not, so push it here the way the window manager would.
    bpy.ops.ed.undo_push(message="Generate")
    assert bpy.data.objects["Face"].data.shape_keys.animation_data.action is not None
    bpy.ops.ed.undo()
    scene = bpy.context.scene
    assert bpy.data.objects["Face"].data.shape_keys.animation_data is None
    assert "hello_world" not in bpy.data.actions
    assert scene.sequence_editor is None or not list(scene.sequence_editor.strips_all)
    assert (scene.frame_start, scene.frame_end) == (start, end)


@pytest.mark.parametrize(
    "case, message",
    [
        ("no_keys", "has no shape keys"),
        ("unmapped", "matches an ARKit, VRM or viseme name"),
        ("corrupt", "not an audio file Blender can decode"),
        ("missing", "audio file not found"),
        ("empty", "is empty"),
    ],
)
def test_errors_are_reported_not_raised(scene, speech, tmp_path, case, message, capsys):
    if case == "no_keys":
        make_face(keys=[])
    elif case == "unmapped":
        make_face(keys=["Smile", "Frown"])
    else:
        make_face()
    settings = _setup(speech)
    if case == "corrupt":
        bad = tmp_path / "noise.wav"
        bad.write_bytes(b"RIFF" + np.random.default_rng(0).bytes(4000))
        settings.audio_path = str(bad)
    elif case == "missing":
        settings.audio_path = str(tmp_path / "nope.wav")
    elif case == "empty":
        (tmp_path / "empty.wav").write_bytes(b"")
        settings.audio_path = str(tmp_path / "empty.wav")
    with pytest.raises(RuntimeError, match=message):  # bpy.ops turns an ERROR report into this
        bpy.ops.emosync.generate()
    assert not bpy.data.actions


def test_jaw_bone_head_object_nla_and_previous_action_kept(scene, speech):
    face = make_face()
    rig = make_rig()
    old = bpy.data.actions.new("artist_take")
    keys = face.data.shape_keys
    keys.animation_data_create().action = old
    bpy.context.view_layer.objects.active = face
    settings = _setup(speech, "surprised")
    settings.armature = rig
    settings.jaw_bone = "jaw"
    settings.jaw_axis = "X"
    settings.jaw_max_angle = math.radians(30)
    settings.head = "BONE"
    settings.head_bone = "head"
    assert bpy.ops.emosync.generate() == {"FINISHED"}
    assert old.use_fake_user and "artist_take" in bpy.data.actions
    _, jaw_open = curve_values(keys, 'key_blocks["jawOpen"].value')
    _, w = curve_values(rig, 'pose.bones["jaw"].rotation_quaternion', 0)
    _, x = curve_values(rig, 'pose.bones["jaw"].rotation_quaternion', 1)
    angle = 2 * np.arctan2(x, w)
    np.testing.assert_allclose(angle, jaw_open * math.radians(30), atol=1e-4)
    _, head_w = curve_values(rig, 'pose.bones["head"].rotation_quaternion', 0)
    assert head_w.min() < 1.0  # the head moves

    settings.use_nla = True
    settings.head = "NONE"
    settings.armature = None
    assert bpy.ops.emosync.generate() == {"FINISHED"}
    tracks = keys.animation_data.nla_tracks
    assert len(tracks) == 1 and tracks[0].strips[0].action.name.startswith("hello_world")
    assert keys.animation_data.action.name == "hello_world"  # the active one is untouched


def test_legacy_writer_path_and_object_head(scene, addon):
    """The 4.2/4.3 code path (one action per ID, `Action.fcurves`) where it still exists."""
    import importlib

    apply = importlib.import_module(addon.__name__ + ".apply")
    keyframes = importlib.import_module(addon.__name__ + ".keyframes")
    face = make_face()
    values = np.zeros((48, len(CHANNELS)), dtype=np.float32)
    values[:, ARKIT_NAMES.index("jawOpen")] = np.linspace(0, 1, 48)
    values[:, CHANNELS.index("headYaw")] = 0.2
    curves = FaceCurves(48.0, values)  # resampled to the scene's 24 fps
    target = apply.Target(face, head="OBJECT")
    result = apply.apply_curves(curves, target, scene, 1, "direct")
    assert result.n_keys == 24 * 52 + 24 * 3
    _, yaw = curve_values(face, "rotation_euler", 2)
    np.testing.assert_allclose(yaw, 0.2, atol=1e-5)  # ARKit yaw is Blender Z for an object
    if "fcurves" not in bpy.types.Action.bl_rna.properties:
        pytest.skip("this Blender has no legacy Action.fcurves (5.0+)")
    writer = keyframes.ActionWriter("legacy", legacy=True)
    channels = writer.channels(face.data.shape_keys)
    keyframes.write_curve(channels, 'key_blocks["jawOpen"].value', np.arange(5.0), np.ones(5))
    keyframes.assign(writer, face.data.shape_keys)
    bpy.context.scene.frame_set(2)
    assert face.data.shape_keys.key_blocks["jawOpen"].value == pytest.approx(1.0)
