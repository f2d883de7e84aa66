"""`--mesh` with GLBs written by other people's exporters: Blender's own glTF exporter (bpy),
three.js's GLTFExporter (node), a VRoid/VRM-0-style file and a Ready Player Me-style avatar.
Every output passes the Khronos validator and EmoSync's clip is the first one, the one viewers
and Blender's importer play; the file's own clip is kept after it."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gltf_validate import ROOT, node_available, problems, validate
from pygltflib import GLTF2, Node

from emosync.exporters.gltf import export_gltf
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import CHANNELS

HERE = Path(__file__).resolve().parent / "meshes"
THREE = ROOT / "node_modules" / "three" / "package.json"
needs_three = pytest.mark.skipif(
    not (node_available() and THREE.is_file()), reason="node, gltf-validator or three missing"
)
needs_bpy = pytest.mark.skipif(
    importlib.util.find_spec("bpy") is None or not node_available(),
    reason="bpy or the validator is not installed",
)


def curves(frames: int = 30) -> FaceCurves:
    rng = np.random.default_rng(0)
    values = rng.random((frames, len(CHANNELS))).astype(np.float32)
    values[:, 52:] = (values[:, 52:] - 0.5) * 0.4
    return FaceCurves(30.0, values, metadata={"name": "emosync_clip"})


def blender(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(HERE / "blender_glb.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def three_glb(path: Path, style: str) -> Path:
    subprocess.run(
        [shutil.which("node") or "node", str(HERE / "threejs_glb.mjs"), str(path), style],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return path


def vrm0_style(source: Path, path: Path) -> Path:
    """three.js's file made VRoid-like: VRM 0 keeps target names on the primitives, carries the
    VRM extension (blend shape groups point at mesh and target indices) and VRoid bone names."""
    gltf = GLTF2().load(str(source))
    mesh = gltf.meshes[0]
    names = mesh.extras.pop("targetNames")
    for primitive in mesh.primitives:
        primitive.extras = {"targetNames": names}
    head = next(i for i, n in enumerate(gltf.nodes) if n.name == "Head")
    gltf.nodes[head].name = "J_Bip_C_Head"
    for side in ("L", "R"):
        gltf.nodes.append(Node(name=f"J_Adj_{side}_FaceEye"))
        gltf.nodes[head].children.append(len(gltf.nodes) - 1)
    groups = [
        {"name": "A", "presetName": "a", "binds": [{"mesh": 0, "index": 0, "weight": 100}]},
        {"name": "Blink", "presetName": "blink", "binds": [{"mesh": 0, "index": 1, "weight": 100}]},
    ]
    gltf.extensionsUsed = ["VRM"]
    gltf.extensions = {
        "VRM": {"specVersion": "0.0", "blendShapeMaster": {"blendShapeGroups": groups}}
    }
    gltf.save_binary(str(path))
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("meshes")
    found: dict[str, Path] = {}
    if importlib.util.find_spec("bpy") is not None:
        blender("export", str(folder / "blender.glb"))
        found["blender"] = folder / "blender.glb"
    if THREE.is_file() and node_available():
        found["threejs"] = three_glb(folder / "threejs.glb", "plain")
        found["readyplayerme"] = three_glb(folder / "rpm.glb", "rpm")
        found["vrm0"] = vrm0_style(found["threejs"], folder / "vrm0.glb")
    return found


def clean(path: Path, allowed: set[str] = frozenset()) -> set[str]:
    """Zero validator errors, and no warning outside `allowed`; returns the warning codes."""
    report = validate(path)
    assert report["issues"]["numErrors"] == 0, problems(report)
    codes = {m["code"] for m in report["issues"]["messages"] if m["severity"] == 1}
    assert codes <= allowed, problems(report)
    return codes


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("blender", marks=needs_bpy),
        pytest.param("threejs", marks=needs_three),
        pytest.param("vrm0", marks=needs_three),
        pytest.param("readyplayerme", marks=needs_three),
    ],
)
def test_other_exporters_mesh_is_animated_validly(kind, sources, tmp_path):
    source = sources[kind]
    # The exporter's own file is valid; VRM 0's extension name "VRM" has no vendor prefix.
    inherited = clean(source, {"INVALID_EXTENSION_NAME_FORMAT"} if kind == "vrm0" else set())
    before = GLTF2().load(str(source))
    out = export_gltf(curves(), tmp_path / "out.glb", mesh=source)
    clean(out, inherited)
    gltf = GLTF2().load(str(out))
    old = [a.name for a in before.animations]
    assert old, "each source carries a clip of its own"
    assert [a.name for a in gltf.animations] == ["emosync_clip", *old]
    weights = [c for c in gltf.animations[0].channels if c.target.path == "weights"]
    morphed = {gltf.nodes[c.target.node].mesh for c in weights}
    assert morphed == {i for i, m in enumerate(gltf.meshes) if m.primitives[0].targets}
    for index in morphed:
        names = gltf.meshes[index].extras["targetNames"]
        assert len(names) == len(gltf.meshes[index].primitives[0].targets)
    rotated = {gltf.nodes[c.target.node].name for c in gltf.animations[0].channels} - {None}
    if kind == "vrm0":
        assert gltf.extensions["VRM"] == before.extensions["VRM"]
        assert {"J_Bip_C_Head", "J_Adj_L_FaceEye", "J_Adj_R_FaceEye"} <= rotated
    if kind == "readyplayerme":
        assert len(gltf.meshes) == 2 and len(gltf.meshes[0].primitives) == 2
        assert {"Head", "LeftEye", "RightEye"} <= rotated


@needs_bpy
def test_blender_plays_our_clip_on_import(sources, tmp_path):
    out = export_gltf(curves(), tmp_path / "out.glb", mesh=sources["blender"])
    assert "ACTIVE emosync_clip" in blender("active", str(out))
