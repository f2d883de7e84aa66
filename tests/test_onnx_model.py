"""inference/onnx_model.py: the SHA-256 manifest, kind/version checks and clear one-line errors,
on real onnxruntime sessions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from emosync.checksum import file_sha256
from emosync.errors import InputError
from emosync.inference import onnx_model
from emosync.inference.onnx_model import ModelFileError, load_model, pick_providers


def _write_model(folder: Path, name: str = "m.onnx", kind: str = "test_kind", version: str = "1"):
    """A real ONNX graph y = 2x with EmoSync metadata, listed in folder/MANIFEST.json."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], "g", [x], [y], [two])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {"kind": kind, "version": version, "names": '["a", "b"]'}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    path = folder / name
    onnx.save(model, str(path))
    manifest_path = folder / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest[name] = file_sha256(path)
    manifest_path.write_text(json.dumps(manifest))
    return path


def test_loads_and_runs_a_listed_model(tmp_path):
    model = load_model(_write_model(tmp_path), "test_kind")
    (out,) = model.run({"x": np.array([[1.0, 2.0, 3.0]], dtype=np.float32)})
    np.testing.assert_allclose(out, [[2.0, 4.0, 6.0]])
    assert model.metadata["kind"] == "test_kind"
    assert model.meta_json("names") == ["a", "b"]
    assert model.provider in pick_providers()
    assert len(model.sha256) == 64


def test_minor_version_is_accepted_major_is_not(tmp_path):
    assert load_model(_write_model(tmp_path, "a.onnx", version="1.3"), "test_kind")
    with pytest.raises(ModelFileError, match="format version '2'"):
        load_model(_write_model(tmp_path, "b.onnx", version="2"), "test_kind")


def test_tampered_file_is_rejected(tmp_path):
    path = _write_model(tmp_path)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # flip one byte of the stored constant
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt or modified") as err:
        load_model(path, "test_kind")
    assert isinstance(err.value, InputError) and "\n" not in str(err.value)


def test_wrong_kind(tmp_path):
    with pytest.raises(ModelFileError, match="is a 'test_kind' model, expected 'emotion_text'"):
        load_model(_write_model(tmp_path), "emotion_text")


def test_missing_unlisted_and_no_manifest(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "nope.onnx", "test_kind")
    _write_model(tmp_path)
    shutil.copy(tmp_path / "m.onnx", tmp_path / "copy.onnx")
    with pytest.raises(ModelFileError, match="not listed"):
        load_model(tmp_path / "copy.onnx", "test_kind")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tmp_path / "m.onnx", other / "m.onnx")
    with pytest.raises(ModelFileError, match=r"no MANIFEST\.json"):
        load_model(other / "m.onnx", "test_kind")


def test_listed_but_not_onnx(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"this is not a protobuf at all" * 10)
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"junk.onnx": file_sha256(path)}))
    with pytest.raises(ModelFileError, match=r"cannot load junk\.onnx as an ONNX model"):
        load_model(path, "test_kind")


def test_broken_manifest(tmp_path):
    path = _write_model(tmp_path)
    (tmp_path / "MANIFEST.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(path, "test_kind")


def test_cpu_is_always_the_fallback():
    providers = pick_providers()
    assert providers[-1] == "CPUExecutionProvider"


def test_shipped_assets_match_their_manifest():
    manifest = json.loads((onnx_model.ASSETS / "MANIFEST.json").read_text())
    assert manifest, "inference/assets/MANIFEST.json lists no files"
    for name, digest in manifest.items():
        assert file_sha256(onnx_model.ASSETS / name) == digest, name
