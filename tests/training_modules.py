"""Imports a module of training/emotion_text for the tests (its modules import each other as
top-level modules, so their folder is on sys.path only while one is imported)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

EMOTION_TEXT = Path(__file__).resolve().parents[1] / "training" / "emotion_text"


def emotion_text_module(name: str) -> ModuleType:
    sys.path.insert(0, str(EMOTION_TEXT))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EMOTION_TEXT))
