"""The one loader for every EmoSync ONNX model.

A model file is trusted only when its SHA-256 matches the MANIFEST.json in its folder
({filename: sha256}) and its metadata says it is the kind and format version the caller
expects. Anything else is a one-line ModelFileError (an InputError: the CLI prints it and exits
2), never a wrong animation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emosync.checksum import file_sha256
from emosync.errors import InputError
from emosync.rigs.emotions import EMOTIONS

ASSETS = Path(__file__).resolve().parent / "assets"
MANIFEST_NAME = "MANIFEST.json"
_OPENED: dict[tuple, Model] = {}  # load_model's models, by path, file stamps, kind, version


class ModelFileError(InputError):
    """A model or model-side file is missing, corrupt, unlisted or of the wrong kind."""


@dataclass(frozen=True)
class Model:
    session: Any  # onnxruntime.InferenceSession
    metadata: dict[str, str]
    path: Path = field(default_factory=Path)
    sha256: str = ""

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(None, feeds)

    def meta_json(self, key: str) -> Any:
        """A metadata value stored as JSON (lists, dicts)."""
        try:
            return json.loads(self.metadata[key])
        except (KeyError, json.JSONDecodeError):
            raise ModelFileError(f"model {self.path.name} has no valid '{key}' metadata") from None

    @property
    def provider(self) -> str:
        return self.session.get_providers()[0]


def asset_path(name: str) -> Path:
    """A file shipped in emosync/inference/assets."""
    return ASSETS / name


def read_manifest(folder: str | Path) -> dict[str, str]:
    """A model folder's MANIFEST.json: file name -> SHA-256."""
    path = Path(folder) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(
            f"no {MANIFEST_NAME} beside the model files in {path.parent}"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{path} is not a {{filename: sha256}} object")
    return {str(k): str(v) for k, v in manifest.items()}


def verify_file(path: str | Path) -> str:
    """Check `path` against the manifest in its folder; returns its SHA-256."""
    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"model file {p} not found (reinstall EmoSync or retrain it)")
    expected = read_manifest(p.parent).get(p.name)
    if expected is None:
        raise ModelFileError(f"{p.name} is not listed in {p.parent / MANIFEST_NAME}")
    actual = file_sha256(p)
    if actual != expected.lower():
        raise ModelFileError(
            f"{p} is corrupt or modified (SHA-256 {actual[:12]}…, expected {expected[:12]}…)"
        )
    return actual


def pick_providers() -> list[str]:
    """CUDA when this onnxruntime build has it, always with CPU as the fallback."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    chosen = [p for p in ("CUDAExecutionProvider",) if p in available]
    return [*chosen, "CPUExecutionProvider"]


def load_model(
    path: str | Path, kind: str, version: str = "1", providers: list[str] | None = None
) -> Model:
    """Verify and open an EmoSync ONNX model of `kind` whose format major version is `version`,
    once per process: a file already opened, unchanged since (its and its manifest's size and
    modification time), is not hashed or loaded again."""
    p = Path(path)
    try:
        stamps = tuple(
            (f.stat().st_size, f.stat().st_mtime_ns) for f in (p, p.parent / MANIFEST_NAME)
        )
    except OSError:
        return _open_model(p, kind, version, providers)  # it raises the one-line error
    key = (str(p.resolve()), stamps, kind, version, tuple(providers or ()))
    if key not in _OPENED:
        _OPENED[key] = _open_model(p, kind, version, providers)
    return _OPENED[key]


def _open_model(p: Path, kind: str, version: str, providers: list[str] | None) -> Model:
    import onnxruntime as ort

    digest = verify_file(p)
    options = ort.SessionOptions()
    # idle pool threads sleep instead of spinning: on 2 busy cores the spin cost as much CPU as
    # the convertor's work (docs/performance.md, "Thread spinning")
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(
            str(p), sess_options=options, providers=providers or pick_providers()
        )
    except Exception as exc:  # onnxruntime raises several private types for unreadable files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"cannot load {p.name} as an ONNX model: {first[:200]}") from None
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    found_kind = metadata.get("kind")
    if found_kind != kind:
        raise ModelFileError(f"{p.name} is a '{found_kind}' model, expected '{kind}'")
    found_version = metadata.get("version", "")
    if _major(found_version) != _major(version):
        raise ModelFileError(
            f"{p.name} has format version '{found_version}', this EmoSync reads version {version}"
        )
    return Model(session=session, metadata=metadata, path=p, sha256=digest)


def check_emotions(model: Model) -> Model:
    """The model, if its `emotions` metadata is rigs.emotions.EMOTIONS in that order."""
    emotions = model.meta_json("emotions")
    if list(emotions) != list(EMOTIONS):
        raise ModelFileError(f"{model.path.name} has emotions {emotions}, not {EMOTIONS}")
    return model


def load_tokenizer(path: Path, max_length: int):
    """open_tokenizer on a file checked against the MANIFEST.json beside it."""
    verify_file(path)
    return open_tokenizer(path, max_length)


def open_tokenizer(path: Path, max_length: int):
    """A `tokenizers` tokenizer that truncates at max_length and pads batches, as the text
    models were trained and exported with (training/emotion_text uses it too)."""
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for unreadable JSON
        raise ModelFileError(f"cannot read tokenizer {path.name}: {exc}") from None
    tokenizer.enable_truncation(max_length=max_length)
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    return tokenizer


def _major(version: str) -> str:
    return str(version).strip().split(".")[0]
