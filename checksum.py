"""The SHA-256 of a file, read in 1 MiB blocks: model files, FLAME files, batch inputs."""

from __future__ import annotations

import hashlib
import os


def file_sha256(path: str | os.PathLike) -> str:
    """The file's SHA-256 as lowercase hex; OSError as open() raises it."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
