"""Output calibration of an exported convertor: quantile maps from the model's output
distribution to the teacher's, fitted on the corpus `val` split, stored in the ONNX metadata.

    python training/convertor/calibrate.py --corpus data/corpus/small \
        --model inference/assets/convertor.onnx

A network trained with L1 on curves whose timing it can only estimate draws its peaks in:
on the val split the shipped model's median jawOpen was 0.095 against the teacher's 0.156, and
open vowels reached 0.7 of the teacher's opening. A monotone map per channel (21 quantile
knots, fitted on the output as `neural_face` smooths it; `NeuralConvertor.calibrate` applies
it) restores the teacher's range without touching timing. Only jawOpen is mapped by default:
on val, mapping jawOpen alone kept the worse of seal and open-vowel rate highest
(docs/training.md, "Calibration").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_bytes
from emosync.inference.convertor import (
    CALIBRATION_KEY,
    SEAL_GAIN_KEY,
    SMOOTH_SIGMA,
    NeuralConvertor,
    smooth_frames,
)
from emosync.rigs.channels import ARKIT_NAMES
from emosync.training.convertor.dataset import Clip, load_corpus
from emosync.training.onnx_files import sha256_bytes, update_manifest, with_metadata

QUANTILES = np.linspace(0.0, 1.0, 21)
DEFAULT_CHANNELS = ("jawOpen",)


def fit(conv: NeuralConvertor, clips: list[Clip], channels: tuple[str, ...]) -> dict:
    """{"maps": {channel: {"model": knots, "teacher": knots}}, ...} from the clips."""
    model, teacher = [], []
    for clip in clips:
        out = smooth_frames(conv.convert(clip.audio(), clip.emotion).curves, SMOOTH_SIGMA)
        n = min(len(out), len(clip.curves))
        model.append(out[:n])
        teacher.append(clip.curves[:n])
    m, t = np.concatenate(model), np.concatenate(teacher)
    maps = {}
    for name in channels:
        i = ARKIT_NAMES.index(name)
        xs = np.quantile(m[:, i], QUANTILES)
        xs = xs + np.arange(len(xs)) * 1e-6  # strictly increasing for interpolation
        ys = np.maximum.accumulate(np.quantile(t[:, i], QUANTILES))
        maps[name] = {"model": [round(float(v), 6) for v in xs],
                      "teacher": [round(float(v), 6) for v in ys]}  # fmt: skip
    return {"maps": maps, "frames": int(len(m)), "clips": len(clips)}


def write(conv: NeuralConvertor, calibration: dict | None = None, seal_gain: float | None = None):
    """Store the calibration and/or the seal gain in the model's metadata; rewrite the file and
    its MANIFEST entry."""
    path = conv.model.path
    metadata = dict(conv.model.metadata)
    if calibration is not None:
        metadata[CALIBRATION_KEY] = json.dumps(calibration)
    if seal_gain is not None:
        metadata[SEAL_GAIN_KEY] = f"{seal_gain:g}"
    data = with_metadata(path, metadata)
    atomic_write_bytes(path, data, force=True)
    update_manifest(path.parent, {path.name: sha256_bytes(data)})


def calibrate(model_path: Path, clips: list[Clip], channels=DEFAULT_CHANNELS) -> dict:
    """Fit the maps on `clips` (the val split) and store them in the model at model_path."""
    conv = NeuralConvertor(model_path)
    calibration = fit(conv, clips, tuple(channels))
    write(conv, calibration)
    return calibration


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, nargs="+", help="refit the maps on their val split")
    ap.add_argument("--model", type=Path, required=True, help="convertor.onnx to calibrate")
    ap.add_argument("--channels", default=",".join(DEFAULT_CHANNELS), help="comma list")
    ap.add_argument(
        "--seal-gain",
        type=float,
        help="store this seal gain (P+B+M probability × gain = seal demand), chosen on val",
    )
    args = ap.parse_args(argv)
    if args.seal_gain is not None:
        if not 0.0 < args.seal_gain <= 10.0:
            ap.error("--seal-gain takes a number in (0, 10]")
        write(NeuralConvertor(args.model), seal_gain=args.seal_gain)
        print(f"{args.model}: seal_gain {args.seal_gain:g}")
    if not args.corpus:
        if args.seal_gain is None:
            ap.error("give --corpus (refit the maps) or --seal-gain")
        return 0
    channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
    unknown = [c for c in channels if c not in ARKIT_NAMES]
    if unknown:
        ap.error(f"not ARKit channels: {', '.join(unknown)}")
    clips = [c for folder in args.corpus for c in load_corpus(folder, ("val",))]
    if not clips:
        ap.error(f"no val clips in {', '.join(map(str, args.corpus))}")
    result = calibrate(args.model, clips, channels)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
