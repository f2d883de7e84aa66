"""Blender tests run against the real `bpy` module (4.5 LTS in .venv, 5.1 in .venv-blender5).
One Blender per process: the add-on is registered once and every test starts from an empty
factory scene."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

bpy = pytest.importorskip("bpy", reason="bpy is not installed (run scripts/setup_blender.sh)")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from addon_loader import load_addon  # noqa: E402


@pytest.fixture(scope="session")
def addon():
    module = load_addon()
    module.register()
    yield module
    module.unregister()


@pytest.fixture()
def scene(addon):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps = 24
    return bpy.context.scene


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> Path:
    """A real recording of a short sentence (espeak-ng)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("audio") / "hello_world.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "hello world, nice to meet you"], check=True)
    return path
