"""ONNX export of the convertor and the lip reader, with the contract in their metadata and their
SHA-256 recorded in the assets folder's MANIFEST.json (read by inference/onnx_model.py)."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import torch
from torch import nn

from emosync.atomic import atomic_write_bytes, check_writable
from emosync.rigs.emotions import EMOTIONS
from emosync.training.convertor.model import OUTPUT_NAMES, PHONE_LABELS, Convertor, LipReader
from emosync.training.onnx_files import sha256_bytes, update_manifest, with_metadata

FORMAT_VERSION = "1.0"
OPSET = 17
MAX_BYTES = 20 * 1024 * 1024
CONVERTOR_FILE = "convertor.onnx"
LIPREADER_FILE = "lipreader.onnx"
FEATURES = {
    "sample_rate": "16000",
    "n_fft": "400",
    "hop_length": "160",
    "n_mels": "80",
    "fmin": "0",
    "fmax": "8000",
}


class _ConvertorGraph(nn.Module):
    """The convertor without its training-only phone-logit tuple packing."""

    def __init__(self, model: Convertor):
        super().__init__()
        self.model = model

    def forward(self, mel: torch.Tensor, emotion: torch.Tensor):
        return self.model(mel, emotion)


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str]):
    module.eval()
    dynamic = {name: {0: "batch", 1: "frames"} for name in inputs + outputs}
    with torch.no_grad():
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )


def convertor_metadata(model: Convertor, provenance: dict, command: str) -> dict[str, str]:
    return {
        "kind": "convertor",
        "version": FORMAT_VERSION,
        **FEATURES,
        "fps": "50",
        "channels": json.dumps(list(OUTPUT_NAMES)),
        "emotions": json.dumps(list(EMOTIONS)),
        "phones": json.dumps(list(PHONE_LABELS)),
        "left_context_frames": str(model.left_context_mel()),
        "lookahead_frames": str(model.lookahead_mel()),
        "architecture": json.dumps(model.cfg.to_dict()),
        "training_data": json.dumps(provenance),
        "trained_with": command,
        "date": dt.date.today().isoformat(),
    }


def lipreader_metadata(provenance: dict, command: str) -> dict[str, str]:
    return {
        "kind": "lipreader",
        "version": FORMAT_VERSION,
        "fps": "50",
        "channels": json.dumps(list(OUTPUT_NAMES[:52])),
        "phones": json.dumps(list(PHONE_LABELS)),
        "training_data": json.dumps(provenance),
        "trained_with": command,
        "date": dt.date.today().isoformat(),
    }


def convertor_onnx_bytes(model: Convertor, metadata: dict[str, str]) -> bytes:
    mel = torch.randn(1, 64, 80) * 20.0 - 40.0
    emotion = torch.zeros(1, 32, len(EMOTIONS))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / CONVERTOR_FILE
        _export(
            _ConvertorGraph(model), (mel, emotion), path, ["mel", "emotion"], ["curves", "phones"]
        )
        return with_metadata(path, metadata)


def lipreader_onnx_bytes(reader: LipReader, metadata: dict[str, str]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / LIPREADER_FILE
        _export(reader, (torch.rand(1, 32, 52),), path, ["curves"], ["phones"])
        return with_metadata(path, metadata)


def export_models(
    model: Convertor,
    reader: LipReader,
    out_dir: Path,
    provenance: dict,
    command: str,
    force: bool = False,
) -> list[Path]:
    """Write convertor.onnx and lipreader.onnx into out_dir and list them in MANIFEST.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    blobs = {
        CONVERTOR_FILE: convertor_onnx_bytes(model, convertor_metadata(model, provenance, command)),
        LIPREADER_FILE: lipreader_onnx_bytes(reader, lipreader_metadata(provenance, command)),
    }
    for name, data in blobs.items():
        if len(data) > MAX_BYTES:
            raise ValueError(f"{name} is {len(data)} bytes, over the {MAX_BYTES}-byte limit")
        check_writable(out_dir / name, force)
    paths = [atomic_write_bytes(out_dir / name, data, force=force) for name, data in blobs.items()]
    update_manifest(out_dir, {n: sha256_bytes(d) for n, d in blobs.items()})
    return paths
