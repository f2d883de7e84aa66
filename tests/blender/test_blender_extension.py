"""The Linux extension zip, built once for this module with Blender's own build + validate, then
installed with Blender's installer into a throw-away user folder: once beside the project's
venv, and once into a Blender that sees nothing but its own numpy, where a free-text prompt, an
animate without a photo and a GLB export must run on the bundled wheels alone."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ZIP_NAME = "emosync-0.1.0-linux_x64.zip"
INSTALL = """
import sys, bpy
print(bpy.ops.extensions.package_install_files(
    filepath=sys.argv[-1], repo="user_default", enable_on_install=True))
"""
ENABLED = """
assert "bl_ext.user_default.emosync" in bpy.context.preferences.addons
assert hasattr(bpy.ops.emosync, "generate") and hasattr(bpy.types.Scene, "emosync")
import emosync
print("EMOSYNC_FROM", emosync.__file__)
"""
# Run with `python -I -S`: no site-packages, no PYTHONPATH; argv: site folder, zip, clip, glb.
ISOLATED = """
import sys
sys.path.insert(0, sys.argv[1])
import bpy
print(bpy.ops.extensions.package_install_files(
    filepath=sys.argv[2], repo="user_default", enable_on_install=True))
import emosync
from emosync.exporters.dispatch import export
from emosync.inference.emotion_condition import read_emotion
from emosync.inference.pipeline import AnimateOptions, animate
print("EMOSYNC_FROM", emosync.__file__)
print("STATE", read_emotion("quietly furious").details["source"])
face = animate(sys.argv[3], AnimateOptions(emotion="quietly furious"))
print("ANIMATED", face.values.shape[0], face.metadata["engine"])
print("GLB", export(face, sys.argv[4]))
"""


@pytest.fixture(scope="module")
def linux_zip(tmp_path_factory) -> Path:
    """The Linux zip, built once for this module (the other platforms only differ in wheels)."""
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_extension.py"), "--out", str(out),
         "--platform", "linux-x64"],
        capture_output=True, text=True, timeout=900,
        check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert sorted(p.name for p in out.glob("emosync-*.zip")) == [ZIP_NAME]
    assert build.stdout.count("Success parsing TOML") == 1
    return out / ZIP_NAME


def bare_site(folder: Path) -> Path:
    """A folder holding only bpy and numpy (links into this venv): Blender's own Python."""
    for name in ("bpy", "numpy"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations
        package = Path(spec.submodule_search_locations[0])
        for path in (package, package.with_name(f"{name}.libs")):
            if path.exists():
                (folder / path.name).symlink_to(path)
    return folder


@pytest.mark.slow
def test_build_validate_install(linux_zip, tmp_path):
    user = tmp_path / "user"
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user)}
    install = subprocess.run(
        [sys.executable, "-c", INSTALL + ENABLED, str(linux_zip)],
        capture_output=True, text=True, timeout=300, env=env,
        check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    assert f"EMOSYNC_FROM {user}" in install.stdout  # the bundled wheel, not the source tree


@pytest.mark.slow
def test_bundled_wheels_alone_run_prompt_animate_and_glb(linux_zip, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    user, glb = tmp_path / "user", tmp_path / "hello.glb"
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user)}
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", ISOLATED, str(bare_site(site)), str(linux_zip),
         str(ROOT / "examples" / "hello.wav"), str(glb)],
        capture_output=True, text=True, timeout=300, env=env,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"EMOSYNC_FROM {user}" in run.stdout
    assert "STATE model" in run.stdout  # a sentence the word table does not hold: the model read it
    assert "ANIMATED 604 neural" in run.stdout
    assert glb.read_bytes()[:4] == b"glTF"
