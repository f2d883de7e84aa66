"""Building the per-platform extension zips (Blender's own build + validate), then installing
the Linux one with Blender's installer into a throw-away user folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = """
import sys, bpy, addon_utils
print(bpy.ops.extensions.package_install_files(
    filepath=sys.argv[-1], repo="user_default", enable_on_install=True))
assert "bl_ext.user_default.emosync" in bpy.context.preferences.addons
assert hasattr(bpy.ops.emosync, "generate") and hasattr(bpy.types.Scene, "emosync")
import emosync
print("EMOSYNC_FROM", emosync.__file__)
"""


@pytest.mark.slow
def test_build_validate_install(tmp_path):
    out = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_extension.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    zips = sorted(p.name for p in out.glob("emosync-*.zip"))
    assert zips == ["emosync-0.1.0-linux_x64.zip", "emosync-0.1.0-macos_arm64.zip",
                    "emosync-0.1.0-windows_x64.zip"]  # fmt: skip
    assert build.stdout.count("Success parsing TOML") == 3
    user = tmp_path / "user"
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user)}
    install = subprocess.run(
        [sys.executable, "-c", INSTALL, str(out / "emosync-0.1.0-linux_x64.zip")],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    assert f"EMOSYNC_FROM {user}" in install.stdout  # the bundled wheel, not the source tree
