"""Inference-side variants of the neural engine, scored on a corpus split without retraining
(issue 24, "attempt A"; results in docs/experiments.md). Not used at run time.

    python -m emosync.training.convertor.variants base,fill_slope,level+sq \
        [--model inference/assets/convertor.onnx] [--corpus data/corpus/real/queen] [--split val]

A variant is `MEL[+SEAL]`: MEL changes the log-mel the model reads (base: unchanged;
fill_slope: the bins above the clip's own band filled from the band edge along the training
mean's slope; fill_mean: those bins set to the training mean; level: loud frames moved to the
training mean level; level_fill_slope: both), SEAL the P/B/M seal demand (noseal, sq, gate).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emosync.evaluation import compare
from emosync.inference.convertor import NeuralConvertor

BAND_DB = 45.0  # a bin carries the clip's sound when within this of the loudest bin (90th pct.)
KEYS = ("seal_rate", "open_vowel_rate", "rest_rate", "vowel_seal_share", "jaw_jitter")


def mel_stats(model: Path) -> tuple[np.ndarray, np.ndarray]:
    """The training mean and standard deviation of each mel bin stored in the model."""
    import onnx
    from onnx import numpy_helper

    inits = {i.name: i for i in onnx.load(str(model)).graph.initializer}
    return tuple(  # type: ignore[return-value]
        numpy_helper.to_array(inits[f"model.encoder.mel_{k}"]) for k in ("mean", "std")
    )


def cutoff_bin(mel: np.ndarray) -> int:
    """The highest mel bin the window still carries."""
    p = np.percentile(mel, 90, axis=0)
    ok = np.nonzero(p > p.max() - BAND_DB)[0]
    return int(ok.max()) if len(ok) else mel.shape[1] - 1


def mel_variants(mean: np.ndarray) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    def fill_slope(mel: np.ndarray) -> np.ndarray:
        c = cutoff_bin(mel)
        if c >= mel.shape[1] - 2:
            return mel
        out = mel.copy()
        edge = mel[:, c - 2 : c + 1].mean(1, keepdims=True)
        out[:, c + 1 :] = edge + (mean[c + 1 :] - mean[c - 2 : c + 1].mean())
        return out

    def fill_mean(mel: np.ndarray) -> np.ndarray:
        out = mel.copy()
        out[:, cutoff_bin(mel) + 1 :] = mean[cutoff_bin(mel) + 1 :]
        return out

    def level(mel: np.ndarray) -> np.ndarray:
        energy = mel.mean(1)
        loud = energy >= np.percentile(energy, 70)
        return mel + (mean.mean() - mel[loud].mean()) if loud.any() else mel

    return {
        "base": lambda m: m,
        "fill_slope": fill_slope,
        "fill_mean": fill_mean,
        "level": level,
        "level_fill_slope": lambda m: fill_slope(level(m)),
    }


SEALS: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
    "": None,
    "noseal": lambda s: 0.0 * s,
    "sq": lambda s: s**2,
    "gate": lambda s: np.clip((s - 0.25) / 0.5, 0.0, 1.0),
    "x2": lambda s: np.clip(2.0 * s, 0.0, 1.0),
    "x3": lambda s: np.clip(3.0 * s, 0.0, 1.0),
    "x4": lambda s: np.clip(4.0 * s, 0.0, 1.0),
    "x6": lambda s: np.clip(6.0 * s, 0.0, 1.0),
    "sqrt": np.sqrt,
}


class VariantConvertor(NeuralConvertor):
    """The model with its input mel and its seal demand changed."""

    def __init__(self, path: Path, mel_fn, seal_fn=None) -> None:
        super().__init__(path)
        self.mel_fn, self.seal_fn = mel_fn, seal_fn

    def run_mel(self, mel, emotion):
        changed = self.mel_fn(np.asarray(mel, np.float32)).astype(np.float32)
        return super().run_mel(changed, emotion)

    def seal_track(self, phones):
        s = super().seal_track(phones)
        return s if self.seal_fn is None else self.seal_fn(s).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", help="comma list of MEL[+SEAL]")
    ap.add_argument("--model", type=Path, default=Path("inference/assets/convertor.onnx"))
    ap.add_argument("--corpus", type=Path, default=Path("data/corpus/real/queen"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--per-speaker", type=int, default=25)
    args = ap.parse_args(argv)
    mels = mel_variants(mel_stats(args.model)[0])
    clips = compare.corpus_clips(args.corpus, (args.split,), ("en",), args.per_speaker)
    print("variant clips " + " ".join(KEYS))
    for name in args.variants.split(","):
        mel_name, _, seal_name = name.partition("+")
        conv = VariantConvertor(args.model, mels[mel_name], SEALS[seal_name])
        report = compare.compare_clips(clips, ("neural",), ("neutral",), fps=60.0, convertor=conv)
        s = report["engines"]["neural"]["scores"]["neutral"]
        print(name, len(clips), *(None if s[k] is None else round(s[k], 4) for k in KEYS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
