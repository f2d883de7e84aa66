"""Start a convertor run from earlier weights: a checkpoint (.pt, train.py --checkpoint) or an
exported convertor.onnx (the shipped model, whose torch weights were not kept).

The ONNX export keeps most parameter names ("model.<state_dict key>"); the exporter renames
the ones it folds into anonymous `onnx::` initialisers: the FrameNorm scale and shift (a Mul and
an Add constant each) and the bias-free Linear weights (a MatMul constant, transposed). Those
are taken in the order the graph uses them, which is the forward order of the modules;
`load_weights` then checks that the torch model reproduces the ONNX model's curves.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from emosync.training.convertor.model import Convertor, ConvertorConfig

PREFIX = "model."


def _anonymous_order(cfg: ConvertorConfig) -> list[tuple[str, bool]]:
    """The state_dict keys the exporter renames, in graph order; True = stored transposed."""
    keys: list[tuple[str, bool]] = []

    def norm(block: str) -> list[tuple[str, bool]]:
        return [(f"{block}.norm.weight", False), (f"{block}.norm.bias", False)]

    for i in range(len(cfg.encoder_dilations)):
        keys += norm(f"encoder.blocks.{i}")
    keys.append(("decoder.emotion_in.weight", True))
    for i in range(len(cfg.decoder_lookahead)):
        film = f"decoder.films.{i}"
        keys += [(f"{film}.hidden.weight", True), (f"{film}.out.weight", True)]
        keys += norm(f"decoder.blocks.{i}")
    return keys


def _config(fields: dict) -> ConvertorConfig:
    """The architecture from its stored dict (JSON turns its tuples into lists)."""
    return ConvertorConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def onnx_state(path: str | Path) -> tuple[ConvertorConfig, dict[str, torch.Tensor]]:
    """The architecture and the torch state_dict of an exported convertor.onnx."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    cfg = _config(json.loads(meta["architecture"]))
    target = Convertor(cfg).state_dict()
    named: dict[str, np.ndarray] = {}
    anonymous: dict[str, np.ndarray] = {}
    for init in proto.graph.initializer:
        value = numpy_helper.to_array(init)
        if init.name.startswith(PREFIX) and init.name[len(PREFIX) :] in target:
            named[init.name[len(PREFIX) :]] = value
        elif init.name.startswith("onnx::") and value.ndim >= 2:
            anonymous[init.name] = value
    # each use in graph order; the exporter merges equal constants (untrained norms, say) into
    # one initialiser that Identity nodes alias
    alias = {
        node.output[0]: node.input[0]
        for node in proto.graph.node
        if node.op_type == "Identity" and node.input[0] in anonymous
    }
    uses = [
        alias.get(name, name)
        for node in proto.graph.node
        if node.op_type in ("Mul", "Add", "MatMul")
        for name in node.input
        if alias.get(name, name) in anonymous
    ]
    order = _anonymous_order(cfg)
    if len(uses) != len(order):
        raise ValueError(f"{path}: {len(uses)} unnamed weights, expected {len(order)}")
    for (key, transposed), name in zip(order, uses, strict=True):
        value = anonymous[name]
        named[key] = (value.T if transposed else value).reshape(target[key].shape)
    missing = sorted(set(target) - set(named))
    if missing:
        raise ValueError(f"{path}: no weights for {', '.join(missing)}")
    state = {k: torch.from_numpy(np.array(named[k])).to(target[k].dtype) for k in target}
    return cfg, state


def load_weights(path: str | Path) -> tuple[ConvertorConfig, dict[str, torch.Tensor]]:
    """Architecture and convertor weights from a .pt checkpoint or a convertor.onnx (checked
    against the ONNX model's own output)."""
    path = Path(path)
    if path.suffix == ".pt":
        state = torch.load(path, map_location="cpu", weights_only=True)
        return _config(state["config"]), state["convertor"]
    cfg, state = onnx_state(path)
    _check_against_onnx(path, cfg, state)
    return cfg, state


def _check_against_onnx(path: Path, cfg: ConvertorConfig, state: dict[str, torch.Tensor]) -> None:
    import onnxruntime as ort

    model = Convertor(cfg)
    model.load_state_dict(state)
    model.eval()
    rng = np.random.default_rng(0)
    mel = (rng.standard_normal((1, 96, 80)) * 20.0 - 40.0).astype(np.float32)
    emotion = np.zeros((1, 48, 7), np.float32)
    emotion[0, :, 2] = 0.8
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(["curves"], {"mel": mel, "emotion": emotion})[0]
    with torch.no_grad():
        got = model(torch.from_numpy(mel), torch.from_numpy(emotion))[0].numpy()
    error = float(np.abs(got - expected).max())
    if error > 1e-3:
        raise ValueError(f"{path}: weights read back differ from the ONNX model by {error:.4f}")
