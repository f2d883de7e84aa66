"""Runs this folder's Blender tests again under Blender 5.1 (Python 3.13, numpy 2) in
.venv-blender5, made by scripts/setup_blender.sh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON5 = ROOT / ".venv-blender5" / "bin" / "python"


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="already running under Blender 5")
@pytest.mark.skipif(not PYTHON5.exists(), reason="no .venv-blender5 (scripts/setup_blender.sh)")
def test_blender5_suite():
    here = Path(__file__).resolve().parent
    files = [str(p) for p in sorted(here.glob("test_blender_*.py"))
             if p.name != "test_blender_extension.py"]  # fmt: skip
    proc = subprocess.run(
        [str(PYTHON5), "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    tail = "\n".join(proc.stdout.splitlines()[-30:])
    assert proc.returncode == 0, tail
    assert " passed" in tail
