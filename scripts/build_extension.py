"""Build the Blender extension zips, one per platform (Linux x64, Windows x64, macOS arm64).

Each zip bundles the EmoSync runtime as a wheel plus the wheels of every third-party module it
imports (scripts/runtime_imports.toml, [bundled]; tests/test_layers.py keeps that list complete),
pinned to one version for every platform, for Python 3.11 (Blender 4.2–5.0) and 3.13 (Blender
5.1); Blender installs the wheels that match its own Python. numpy is Blender's own.

    .venv/bin/python scripts/build_extension.py [--out build/extension] [--platform linux-x64]

Blender's extension tool (`blender --command extension build`, shipped with the bpy module as
bl_pkg/cli/blender_ext.py) does the packing and validation.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "blender_addon"
RUNTIME_IMPORTS = ROOT / "scripts" / "runtime_imports.toml"
PYTHONS = ("3.11", "3.13")
# pip platform tag → Blender platform name.
PLATFORMS = {
    "manylinux_2_28_x86_64": "linux-x64",
    "win_amd64": "windows-x64",
    "macosx_11_0_arm64": "macos-arm64",
}
# Tags pip may settle on for the same platform (older manylinux policies, newer macOS).
COMPATIBLE = {
    "manylinux_2_28_x86_64": ("manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                              "manylinux2014_x86_64"),
    "macosx_11_0_arm64": ("macosx_12_0_arm64", "macosx_13_0_arm64", "macosx_14_0_arm64"),
}  # fmt: skip


def runtime_imports() -> dict[str, dict]:
    """scripts/runtime_imports.toml: [blender], [bundled] and [optional] third-party imports."""
    return tomllib.loads(RUNTIME_IMPORTS.read_text(encoding="utf-8"))


def bundled_requirements() -> list[str]:
    """The pinned wheels the extension carries, one per distribution."""
    wanted = [req for reqs in runtime_imports()["bundled"].values() for req in reqs]
    return list(dict.fromkeys(wanted))


def blender_ext_tool() -> Path:
    """bl_pkg's command-line tool, from the installed bpy module (no bpy import needed)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("build_extension: the bpy module is not installed (run scripts/setup_blender.sh)")
    found = sorted(Path(spec.submodule_search_locations[0]).glob(
        "*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))  # fmt: skip
    if not found:
        sys.exit("build_extension: bl_pkg/cli/blender_ext.py not found in the bpy module")
    return found[-1]


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def runtime_wheel(dest: Path) -> Path:
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), str(ROOT)])
    return next(dest.glob("emosync-*.whl"))


def binary_wheels(dest: Path, platforms: list[str]) -> list[Path]:
    for tag in platforms:
        for python in PYTHONS:
            cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                   "--only-binary=:all:", "--python-version", python,
                   "--dest", str(dest)]  # fmt: skip
            for platform in (tag, *COMPATIBLE.get(tag, ())):
                cmd += ["--platform", platform]
            run([*cmd, *bundled_requirements()])
    return sorted(dest.glob("*.whl"))


def write_manifest(stage: Path, wheels: list[Path], tags: list[str]) -> None:
    text = (ADDON / "blender_manifest.toml").read_text(encoding="utf-8")
    listed = ",\n".join(f'  "./wheels/{w.name}"' for w in sorted(wheels))
    platforms = ", ".join(f'"{PLATFORMS[t]}"' for t in tags)
    text = re.sub(r"^# platforms = .*$", f"platforms = [{platforms}]", text, flags=re.M)
    text = re.sub(r"^# wheels = \[\]$", f"wheels = [\n{listed},\n]", text, flags=re.M)
    (stage / "blender_manifest.toml").write_text(text, encoding="utf-8")


def stage_sources(stage: Path) -> None:
    for path in ADDON.iterdir():
        if path.suffix == ".py":
            shutil.copy2(path, stage / path.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "extension"))
    parser.add_argument(
        "--platform",
        action="append",
        choices=sorted(PLATFORMS.values()),
        help="build only this platform's zip (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    tags = [t for t, name in PLATFORMS.items() if not args.platform or name in args.platform]
    out = Path(args.out).resolve()
    stage = out / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "wheels").mkdir(parents=True)
    stage_sources(stage)
    wheels = [runtime_wheel(stage / "wheels"), *binary_wheels(stage / "wheels", tags)]
    wheels = sorted(set(wheels))
    write_manifest(stage, wheels, tags)
    tool = blender_ext_tool()
    run([sys.executable, str(tool), "build", "--source-dir", str(stage), "--output-dir",
         str(out), "--split-platforms"])  # fmt: skip
    zips = sorted(out.glob("emosync-*.zip"))
    for zip_path in zips:
        run([sys.executable, str(tool), "validate", str(zip_path)])
    print("\n".join(f"built {z} ({z.stat().st_size / 1e6:.1f} MB)" for z in zips))
    return 0


if __name__ == "__main__":
    sys.exit(main())
