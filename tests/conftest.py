"""Fixtures shared by test modules (tests/blender has its own conftest for bpy)."""

from __future__ import annotations

import importlib.util

import pytest

# tests/clip needs open_clip, which lives in .venv-clip: from .venv it runs as a subprocess
# (test_emotion_text.py::test_clip_head_suite) instead of being collected and skipped here.
_HAS_CLIP = all(importlib.util.find_spec(m) for m in ("open_clip", "torchvision"))
collect_ignore_glob = [] if _HAS_CLIP else ["clip/*"]


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small models on a shared 2-core machine run fastest on one torch thread."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
