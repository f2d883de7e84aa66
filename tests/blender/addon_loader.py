"""Load blender_addon/ as the package `emosync_blender`, the way Blender loads an extension
(a package whose modules import each other relatively)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parents[2] / "blender_addon"
PACKAGE = "emosync_blender"


def load_addon():
    if PACKAGE in sys.modules:
        return sys.modules[PACKAGE]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, ADDON_DIR / "__init__.py", submodule_search_locations=[str(ADDON_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    return module
