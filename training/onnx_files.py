"""Writing exported ONNX files: contract metadata into the graph, SHA-256 into MANIFEST.json.
Shared by every model's export (convertor, text encoder, CLIP heads) and by calibrate.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import onnx

from emosync.atomic import atomic_write_text
from emosync.inference.onnx_model import MANIFEST_NAME


def with_metadata(path: Path, metadata: dict[str, str]) -> bytes:
    """The ONNX file at `path` with exactly `metadata` as its metadata_props, serialised."""
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    return model.SerializeToString()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def update_manifest(out_dir: Path, entries: dict[str, str]) -> None:
    """Merge {filename: sha256} into out_dir/MANIFEST.json, keeping other models' entries."""
    path = out_dir / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    manifest.update(entries)
    atomic_write_text(path, json.dumps(dict(sorted(manifest.items())), indent=2) + "\n", force=True)
