"""GLB/glTF export: the Khronos validator must find nothing, and the animation must read back."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import numpy as np
import pytest
from pygltflib import GLTF2, Buffer

from emosync.errors import InputError
from emosync.exporters.gltf import export_face_gltf, export_gltf, mapping_report
from emosync.exporters.gltf_rotation import conjugate, multiply, rotate_vectors
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS, INDEX
from emosync.rigs.demo_face import DemoFace, EyeMesh, vertex_normals

sys.path.insert(0, str(Path(__file__).parent / "data"))
import user_mesh
from gltf_validate import node_available, problems, validate

needs_node = pytest.mark.skipif(not node_available(), reason="node / gltf-validator missing")
REAL_FACE = Path(__file__).parent.parent / "rigs" / "data" / "demo_face.npz"
_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_DTYPES = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}


def grid_face(n: int = 6) -> DemoFace:
    """A subdivided quad with 52 tiny, distinct targets and two small eyes."""
    xs = np.linspace(-0.08, 0.08, n)
    verts = np.array([[x, y, 0.05] for y in xs + 1.6 for x in xs], np.float32)
    faces = []
    for r in range(n - 1):
        for c in range(n - 1):
            a = r * n + c
            faces += [[a, a + 1, a + n + 1], [a, a + n + 1, a + n]]
    faces = np.array(faces, np.uint32)
    targets = np.zeros((52, len(verts), 3), np.float32)
    for j in range(52):
        targets[j, j % len(verts), j % 3] = 0.001 * (j + 1)
    eye_v = np.array(
        [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], np.float32
    )
    eye_v *= 0.012
    eye_f = np.array(
        [[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4], [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]],
        np.uint32,
    )
    eyes = [
        EyeMesh(name, eye_v, eye_f, vertex_normals(eye_v, eye_f), np.ones((6, 3), np.float32),
                np.float32([x, 1.64, 0.06]))
        for name, x in (("EyeLeft", 0.03), ("EyeRight", -0.03))
    ]  # fmt: skip
    return DemoFace(
        vertices=verts,
        faces=faces,
        normals=vertex_normals(verts, faces),
        colors=np.full((len(verts), 3), 0.6, np.float32),
        target_names=ARKIT_NAMES,
        targets=targets,
        eyes=eyes,
        head_pivot=np.float32([0.0, 1.5, 0.0]),
        jaw_pivot=np.float32([0.0, 1.58, -0.02]),
    )


def random_curves(frames: int = 40, fps: float = 30.0, seed: int = 0) -> FaceCurves:
    rng = np.random.default_rng(seed)
    values = rng.random((frames, len(CHANNELS))).astype(np.float32)
    values[:, 52:] = (values[:, 52:] - 0.5) * 0.4
    return FaceCurves(fps, values, metadata={"name": "hello_happy"})


def read_accessor(gltf: GLTF2, blob: bytes, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    dtype = _DTYPES[acc.componentType]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    width = _COMPONENTS[acc.type]
    data = np.frombuffer(blob, dtype, acc.count * width, start)
    return data.reshape(acc.count, width) if width > 1 else data


def load(path: Path) -> tuple[GLTF2, bytes]:
    if path.suffix == ".glb":
        gltf = GLTF2().load_binary(str(path))
        return gltf, gltf.binary_blob()
    gltf = GLTF2().load_json(str(path))
    return gltf, base64.b64decode(gltf.buffers[0].uri.split(",", 1)[1])


def channel_output(gltf: GLTF2, blob: bytes, anim_name: str, node_name: str, path: str):
    anim = next(a for a in gltf.animations if a.name == anim_name)
    for ch in anim.channels:
        if gltf.nodes[ch.target.node].name == node_name and ch.target.path == path:
            sampler = anim.samplers[ch.sampler]
            return read_accessor(gltf, blob, sampler.input), read_accessor(
                gltf, blob, sampler.output
            )
    raise AssertionError(f"no {path} channel on {node_name}")


def assert_clean(path: Path) -> dict:
    report = validate(path)
    assert report["issues"]["numErrors"] == 0, problems(report)
    assert report["issues"]["numWarnings"] == 0, problems(report)
    return report


# --- demo-face scene ------------------------------------------------------------------------
@needs_node
@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_face_export_is_valid_and_reads_back(tmp_path, suffix):
    curves = random_curves()
    out = export_face_gltf(curves, tmp_path / f"face{suffix}", grid_face())
    report = assert_clean(out)
    assert report["info"]["animationCount"] == 1 and report["info"]["hasMorphTargets"]

    gltf, blob = load(out)
    names = [n.name for n in gltf.nodes]
    assert names[:3] == ["EmoSync", "Head", "Face"] and {"EyeLeft", "EyeRight"} <= set(names)
    face_mesh = gltf.meshes[gltf.nodes[2].mesh]
    assert face_mesh.extras["targetNames"] == list(ARKIT_NAMES)
    assert face_mesh.weights == [0.0] * 52
    times, weights = channel_output(gltf, blob, "hello_happy", "Face", "weights")
    np.testing.assert_allclose(times, np.arange(40) / 30.0, atol=1e-6)
    np.testing.assert_array_equal(weights.reshape(40, 52), curves.values[:, :52])
    # the Face node undoes the head pivot, so vertices stay where the face has them
    head = np.asarray(gltf.nodes[1].translation) + np.asarray(gltf.nodes[2].translation)
    np.testing.assert_allclose(head, 0, atol=1e-7)


def test_head_rotation_convention(tmp_path):
    values = np.zeros((3, 61), np.float32)
    values[1, INDEX["headYaw"]] = 0.4
    values[2, INDEX["headPitch"]] = 0.3
    values[:, INDEX["leftEyeYaw"]] = 0.2
    out = export_face_gltf(FaceCurves(30, values), tmp_path / "h.glb", grid_face())
    gltf, blob = load(out)
    _, q = channel_output(gltf, blob, "EmoSync", "Head", "rotation")
    forward = rotate_vectors(q.astype(np.float64), np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(forward[0], [0, 0, 1], atol=1e-6)
    assert forward[1][0] == pytest.approx(np.sin(0.4), abs=1e-6)  # yaw+ looks to subject's left
    assert forward[2][1] == pytest.approx(-np.sin(0.3), abs=1e-6)  # pitch+ looks down
    _, eye = channel_output(gltf, blob, "EmoSync", "EyeLeft", "rotation")
    assert rotate_vectors(eye[0].astype(np.float64), np.array([0.0, 0, 1]))[0] > 0.19


@needs_node
def test_max_active_targets_keeps_largest(tmp_path):
    curves = random_curves(seed=3)
    out = export_face_gltf(curves, tmp_path / "k.glb", grid_face(), max_active_targets=8)
    assert_clean(out)
    gltf, blob = load(out)
    _, weights = channel_output(gltf, blob, "hello_happy", "Face", "weights")
    weights = weights.reshape(-1, 52)
    assert ((weights != 0).sum(axis=1) == 8).all()
    top8 = np.sort(curves.values[:, :52], axis=1)[:, -8:]
    np.testing.assert_array_equal(np.sort(weights, axis=1)[:, -8:], top8)


def test_refuses_overwrite_and_bad_input(tmp_path):
    out = tmp_path / "a.glb"
    out.write_bytes(b"keep")
    with pytest.raises(InputError, match="exists"):
        export_face_gltf(random_curves(), out, grid_face())
    assert out.read_bytes() == b"keep"
    export_face_gltf(random_curves(), out, grid_face(), force=True)
    assert out.read_bytes()[:4] == b"glTF"
    with pytest.raises(InputError, match=r"\.glb or \.gltf"):
        export_gltf(random_curves(), tmp_path / "a.fbx")
    with pytest.raises(InputError, match="no frames"):
        export_face_gltf(FaceCurves(30, np.zeros((0, 61))), tmp_path / "e.glb", grid_face())
    with pytest.raises(InputError, match="at least 1"):
        export_face_gltf(random_curves(), tmp_path / "z.glb", grid_face(), max_active_targets=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.glb"]  # no partial files


@needs_node
@pytest.mark.skipif(not REAL_FACE.is_file(), reason="rigs/data/demo_face.npz not built yet")
def test_real_demo_face_is_valid(tmp_path):
    out = export_gltf(random_curves(frames=90), tmp_path / "demo.glb")
    assert_clean(out)
    out = export_gltf(random_curves(frames=10), tmp_path / "demo.gltf", max_active_targets=8)
    assert_clean(out)


@pytest.mark.skipif(not REAL_FACE.is_file(), reason="rigs/data/demo_face.npz not built yet")
def test_demo_face_wrinkles_travel_as_colour_morphs(tmp_path):
    """Targets with a wrinkle map darken the vertex colours (COLOR_0 morph deltas), the rest
    carry positions only; the grid face without maps has no colour morphs at all."""
    gltf, blob = load(export_gltf(random_curves(frames=5), tmp_path / "demo.glb"))
    face = next(m for m in gltf.meshes if m.name == "Face").primitives[0]
    colours = read_accessor(gltf, blob, face.attributes.COLOR_0)
    # pygltflib reads targets back as plain dicts
    with_colour = {ARKIT_NAMES[k] for k, t in enumerate(face.targets) if "COLOR_0" in t}
    assert {"browDownLeft", "browInnerUp", "noseSneerRight", "mouthFrownLeft"} <= with_colour
    assert "jawOpen" not in with_colour and "eyeBlinkLeft" not in with_colour
    frown = read_accessor(gltf, blob, face.targets[ARKIT_NAMES.index("browDownLeft")]["COLOR_0"])
    assert frown.shape == colours.shape and (frown <= 0).all()  # wrinkles only darken
    darker = frown.sum(axis=1) < -0.05
    assert 5 < darker.sum() < 0.1 * len(colours)  # a few creases, not a tint of the whole face
    assert (colours + frown >= 0).all()
    grid, _ = load(export_face_gltf(random_curves(frames=5), tmp_path / "g.glb", grid_face()))
    assert all("COLOR_0" not in t for t in grid.meshes[0].primitives[0].targets)


# --- the user's own mesh ---------------------------------------------------------------------
def world_rotation(gltf: GLTF2, node: int, local: np.ndarray | None = None) -> np.ndarray:
    parents = {c: i for i, n in enumerate(gltf.nodes) for c in (n.children or [])}
    q = np.asarray(local if local is not None else gltf.nodes[node].rotation, np.float64)
    while node in parents:
        node = parents[node]
        q = multiply(np.asarray(gltf.nodes[node].rotation or [0, 0, 0, 1], np.float64), q)
    return q


@needs_node
@pytest.mark.parametrize("on_primitive", [True, False])
def test_user_glb_round_trip(tmp_path, on_primitive, caplog):
    src = user_mesh.write_glb(tmp_path / "user.glb", names_on_primitive=on_primitive)
    assert_clean(src)
    curves = random_curves(frames=20)
    curves.values[5, INDEX["headYaw"] : INDEX["headYaw"] + 3] = [0.5, 0.0, 0.0]
    (tmp_path / "out").mkdir()
    out = export_gltf(curves, tmp_path / "out" / "animated.glb", mesh=src)
    assert_clean(out)
    assert "eye: that rotation is not animated" in caplog.text

    gltf, blob = load(out)
    before, _ = load(src)
    assert [a.name for a in gltf.animations] == ["hello_happy", "Idle"]  # ours plays first
    assert len(gltf.skins) == 1 and len(gltf.images) == 1 and gltf.materials[0].name == "Skin"
    assert gltf.meshes[0].extras["targetNames"] == user_mesh.TARGET_NAMES
    _, w = channel_output(gltf, blob, "hello_happy", "Face", "weights")
    w = w.reshape(20, 6)
    for j, name in enumerate(["jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "browInnerUp"]):
        np.testing.assert_array_equal(w[:, j], curves.channel(name))
    assert (w[:, 4] == 0).all()  # mouthSmile_L is no ARKit name: stays at its rest weight
    np.testing.assert_array_equal(w[:, 5], curves.channel("mouthFunnel"))

    # the head turns about the model's axes whatever the bone's own rest rotation
    head = next(i for i, n in enumerate(gltf.nodes) if n.name == "mixamorig:Head")
    _, q = channel_output(gltf, blob, "hello_happy", "mixamorig:Head", "rotation")
    rest = world_rotation(before, head)
    delta = multiply(world_rotation(gltf, head, q[5]), conjugate(rest))
    turned = rotate_vectors(delta, np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(turned, [np.sin(0.5), 0, np.cos(0.5)], atol=1e-5)


@needs_node
def test_user_gltf_with_external_buffer(tmp_path):
    src = user_mesh.write_gltf_external(tmp_path / "rig.gltf", head=False)
    assert_clean(src)
    (tmp_path / "o").mkdir()
    out = export_gltf(random_curves(), tmp_path / "o" / "rig.gltf", mesh=src, max_active_targets=3)
    assert_clean(out)
    gltf, blob = load(out)
    assert len(gltf.buffers) == 1 and gltf.buffers[0].uri.startswith("data:")
    assert gltf.animations[0].extras["emosync"]["notes"][0].startswith("no node named like")
    _, w = channel_output(gltf, blob, "hello_happy", "Face", "weights")
    assert ((w.reshape(-1, 6) != 0).sum(axis=1) <= 3).all()


@needs_node
def test_user_gltf_with_data_uri_buffer(tmp_path):
    gltf, blob = user_mesh.build(names_on_primitive=False)
    gltf.buffers = [Buffer(byteLength=len(blob), uri=user_mesh.data_uri(blob))]
    src = tmp_path / "embedded.gltf"
    src.write_text(gltf.gltf_to_json())
    out = export_gltf(random_curves(frames=5), tmp_path / "out.glb", mesh=src)
    assert_clean(out)
    assert [a.name for a in load(out)[0].animations] == ["hello_happy", "Idle"]


def test_user_mesh_errors(tmp_path):
    curves = random_curves()
    # "Blink_L" would match (VRM 0's BlinkL, as in Blender): none of these names does
    bad = user_mesh.write_glb(tmp_path / "bad.glb", names=["Smile", "Frown", "Squint_L"])
    with pytest.raises(InputError, match="no morph targets named like ARKit"):
        export_gltf(curves, tmp_path / "o.glb", mesh=bad)
    junk = tmp_path / "junk.glb"
    junk.write_bytes(b"glTF\x02\x00\x00\x00garbage")
    with pytest.raises(InputError, match="not a readable glTF"):
        export_gltf(curves, tmp_path / "o.glb", mesh=junk)
    text = tmp_path / "notes.gltf"
    text.write_text("hello")
    with pytest.raises(InputError, match="not a readable glTF"):
        export_gltf(curves, tmp_path / "o.glb", mesh=text)
    with pytest.raises(InputError, match="does not exist"):
        export_gltf(curves, tmp_path / "o.glb", mesh=tmp_path / "missing.glb")
    assert not (tmp_path / "o.glb").exists()


def test_mapping_report(tmp_path):
    report = mapping_report(user_mesh.write_glb(tmp_path / "u.glb"))
    assert report["found"] == [
        "eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthFunnel", "browInnerUp",
    ]  # fmt: skip
    assert len(report["missing"]) == 47 and "tongueOut" in report["missing"]
    assert report["meshes"][0]["unmapped"] == ["mouthSmile_L"]
    assert report["head_node"] == "mixamorig:Head" and report["eye_nodes"] == [None, None]
