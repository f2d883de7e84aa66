"""The headless batch entry point under the bpy module: one action and one validated GLB per
clip, a broken clip reported and skipped, exit status 1 when any clip failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bpy
import pytest
from blender_scene import make_face

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gltf_validate import node_available, problems, validate


@pytest.fixture()
def clips(tmp_path, speech) -> Path:
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "line_01.wav").write_bytes(speech.read_bytes())
    subprocess.run(["espeak-ng", "-w", str(folder / "line_02.wav"), "good morning"], check=True)
    (folder / "line_02.txt").write_text("good morning", encoding="utf-8")
    (folder / "line_03.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 50)
    return folder


def test_batch_folder_to_glbs(scene, addon, clips, tmp_path, capsys):
    import importlib

    batch = importlib.import_module(addon.__name__ + ".batch")
    make_face()
    blend = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    out = tmp_path / "out"
    saved = tmp_path / "animated.blend"
    argv = ["--blend", str(blend), "--audio", str(clips), "--object", "Face",
            "--emotion", "slightly happy", "--out", str(out), "--gltf",
            "--save", str(saved)]  # fmt: skip
    assert batch.main(argv) == 1  # line_03 is broken
    text = capsys.readouterr().out
    assert "FAIL line_03.wav" in text and "2 of 3 clips animated" in text
    assert "INFO" not in text  # the glTF exporter's own lines no longer bury the summary
    assert sorted(p.name for p in out.iterdir()) == ["line_01.glb", "line_02.glb"]
    assert {"line_01", "line_02"} <= set(bpy.data.actions.keys())
    keys = bpy.data.objects["Face"].data.shape_keys
    assert len(keys.animation_data.nla_tracks) == 2
    assert saved.is_file()
    if node_available():
        for glb in out.iterdir():
            report = validate(glb)
            assert problems(report) == [], glb.name
    # A second run refuses to overwrite without --force, and says so per clip.
    assert batch.main(argv[:-2]) == 1
    assert "exists" in capsys.readouterr().out


def test_batch_bad_arguments_exit_2(scene, addon, tmp_path, capsys):
    import importlib

    batch = importlib.import_module(addon.__name__ + ".batch")
    make_face()
    assert batch.main(["--audio", str(tmp_path / "none"), "--object", "Face"]) == 2
    assert batch.main(["--audio", str(tmp_path), "--object", "Nobody"]) == 2
    err = capsys.readouterr().err
    assert err.count("emosync: error:") == 2 and "Traceback" not in err


def test_batch_reads_the_emosync_batch_manifest(scene, addon, clips, tmp_path, capsys):
    """The same JSONL manifest as `emosync batch`: per-row emotion and output name, a bad row
    failing alone."""
    import importlib
    import json

    batch = importlib.import_module(addon.__name__ + ".batch")
    make_face()
    rows = [
        {"audio": "line_01.wav", "emotion": "angry", "out": "hero/first.glb"},
        {"audio": "line_02.wav", "transcript": "line_02.txt", "intensity": 0.5},
        {"audio": "line_02.wav", "colour": "red", "out": "bad"},
    ]
    manifest = clips / "lines.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["--audio", str(manifest), "--object", "Face", "--out", str(out), "--gltf"]
    assert batch.main(argv) == 1
    text = capsys.readouterr().out
    assert "unknown key 'colour'" in text and "2 of 3 clips animated" in text
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.glb")) == [
        "hero/first.glb",
        "line_02.glb",
    ]
    assert {"line_01", "line_02"} <= set(bpy.data.actions.keys())
