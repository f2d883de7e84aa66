"""A static word-vector table beside MiniLM: a prompt -> the weighted mean of its words' vectors.

MiniLM splits a rare word ("gobsmacked") into word pieces that may sit near nothing emotional; a
table with one vector per word still places it. The file (words.npz, listed in MANIFEST.json) holds
the words (newline-joined UTF-8), int8 unit vectors with one scale per word, and one weight per
word that makes frequent words ("she", "is", "a") count for little. The text encoder's graph
takes the mean as its `word_vector` input. Training reads prompts through this same class, so the
model sees exactly what the runtime computes. numpy only.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from emosync.inference.onnx_model import ModelFileError, verify_file

WORD = re.compile(r"[a-z']+")  # lower case; anything else (hyphens too) splits words
MAX_WORDS = 128
KEYS = ("words", "codes", "scales", "weights")


class WordVectors:
    """The word-vector table: `vectors(texts)` -> float32 [n, dim]."""

    def __init__(
        self, words: list[str], codes: np.ndarray, scales: np.ndarray, weights: np.ndarray
    ) -> None:
        if not (codes.ndim == 2 and len(words) == len(codes) == len(scales) == len(weights)):
            raise ModelFileError(
                f"word table shapes disagree: {len(words)} words, codes {codes.shape}, "
                f"{len(scales)} scales, {len(weights)} weights"
            )
        self.index = {w: i for i, w in enumerate(words)}
        self.codes = codes.astype(np.int8, copy=False)
        self.scales = scales.astype(np.float32, copy=False)
        self.weights = weights.astype(np.float32, copy=False)

    @property
    def dim(self) -> int:
        return int(self.codes.shape[1])

    @classmethod
    def load(cls, path: str | Path) -> WordVectors:
        """The table at `path`, checked against the MANIFEST.json beside it."""
        verify_file(path)
        try:
            return unpack(Path(path).read_bytes())
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"cannot read word table {Path(path).name}: {exc}") from None

    def vectors(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = [self.index[w] for w in WORD.findall(text.lower())[:MAX_WORDS] if w in self.index]
            if not ids:
                continue  # no known word: the vector stays zero
            w = self.weights[ids]
            vecs = self.codes[ids].astype(np.float32) * self.scales[ids, None]
            out[row] = (w[:, None] * vecs).sum(0) / max(float(w.sum()), 1e-6)
        return out


def quantize(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and one scale per row (its largest magnitude / 127)."""
    scales = np.abs(unit).max(axis=1) / 127.0
    scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
    codes = np.clip(np.round(unit / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales


def pack(words: list[str], unit: np.ndarray, weights: np.ndarray) -> bytes:
    """The bytes of words.npz for `words` with unit vectors `unit` and `weights`."""
    if any("\n" in w for w in words):
        raise ValueError("a word holds a newline")
    codes, scales = quantize(unit.astype(np.float32))
    buf = io.BytesIO()
    np.savez(
        buf,
        words=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
        codes=codes,
        scales=scales,
        weights=weights.astype(np.float32),
    )
    return buf.getvalue()


def unpack(data: bytes) -> WordVectors:
    """The table from pack()'s bytes (training reads the table it has just packed this way)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        words = arrays["words"].tobytes().decode("utf-8").split("\n")
        return WordVectors(words, arrays["codes"], arrays["scales"], arrays["weights"])
