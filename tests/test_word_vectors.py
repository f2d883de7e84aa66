"""The word-vector table beside MiniLM: inference/word_vectors.py and its builder,
training/emotion_text/word_table.py."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from emosync.inference.onnx_model import ModelFileError
from emosync.inference.word_vectors import WordVectors, pack, quantize, unpack

WORDS = ["she", "is", "furious", "glad", "don't"]


def _unit(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _table() -> tuple[WordVectors, np.ndarray, np.ndarray]:
    unit = _unit(len(WORDS))
    weights = np.array([0.01, 0.002, 0.95, 0.6, 0.3], np.float32)
    return unpack(pack(WORDS, unit, weights)), unit, weights


def test_a_prompt_reads_the_rarity_weighted_mean_of_its_words():
    table, unit, weights = _table()
    got = table.vectors(["She is FURIOUS", "glad"])
    expected = (weights[:3, None] * unit[:3]).sum(0) / weights[:3].sum()
    np.testing.assert_allclose(got[0], expected, atol=0.01)
    np.testing.assert_allclose(got[1], unit[3], atol=0.01)
    cosine = got[0] @ unit[2] / np.linalg.norm(got[0])
    assert cosine > 0.98  # "she" and "is" weigh almost nothing


def test_unknown_words_and_empty_text_read_zero():
    table = _table()[0]
    got = table.vectors(["", "zzqx blorp", "42 !!"])
    assert got.shape == (3, 8) and not got.any()


def test_words_split_on_anything_but_letters_and_apostrophes():
    table, unit, _w = _table()
    np.testing.assert_array_equal(table.vectors(["furious-glad!"]), table.vectors(["furious glad"]))
    np.testing.assert_allclose(table.vectors(["Don't"])[0], unit[4], atol=0.01)


def test_int8_codes_are_within_half_a_step():
    unit = _unit(50, dim=100, seed=3)
    codes, scales = quantize(unit)
    assert codes.dtype == np.int8 and np.abs(codes).max() == 127
    err = np.abs(codes * scales[:, None] - unit)
    assert np.all(err <= scales[:, None] / 2 + 1e-7)


def test_mismatched_arrays_are_a_model_file_error():
    unit = _unit(3)
    codes, scales = quantize(unit)
    with pytest.raises(ModelFileError, match="disagree"):
        WordVectors(["a", "b"], codes, scales, np.ones(3, np.float32))


def test_load_checks_the_manifest_and_the_file(tmp_path):
    path = tmp_path / "words.npz"
    data = pack(WORDS, _unit(len(WORDS)), np.ones(len(WORDS), np.float32))
    path.write_bytes(data)
    manifest = tmp_path / "MANIFEST.json"
    manifest.write_text(json.dumps({"other.onnx": "0" * 64}))
    with pytest.raises(ModelFileError, match="not listed"):
        WordVectors.load(path)
    manifest.write_text(json.dumps({"words.npz": hashlib.sha256(data).hexdigest()}))
    assert WordVectors.load(path).vectors(["glad"]).shape == (1, 8)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ModelFileError, match="corrupt or modified"):
        WordVectors.load(path)
    garbage = b"not an npz file"
    path.write_bytes(garbage)
    manifest.write_text(json.dumps({"words.npz": hashlib.sha256(garbage).hexdigest()}))
    with pytest.raises(ModelFileError, match="cannot read word table"):
        WordVectors.load(path)
    path.unlink()
    with pytest.raises(ModelFileError, match="not found"):
        WordVectors.load(path)


def test_the_builder_keeps_single_words_and_weighs_them_by_rank():
    from emosync.training.emotion_text import word_table

    source = ["the", ",", "well-known", "happy", "2010", "sad", "joy"]
    vectors = np.random.default_rng(1).normal(size=(len(source), 4)).astype(np.float32) * 5
    table = unpack(word_table.build(source, vectors, top=3))
    assert list(table.index) == ["the", "happy", "sad"]
    ranks = np.array([1.0, 4.0, 6.0])  # ranks count every source word, kept or not
    np.testing.assert_allclose(table.weights, ranks / (ranks + word_table.RANK_HALF), rtol=1e-6)
    dequantised = table.codes.astype(np.float32) * table.scales[:, None]
    np.testing.assert_allclose(np.linalg.norm(dequantised, axis=1), 1.0, atol=0.02)


def test_the_builder_reads_the_npm_package_json(tmp_path):
    from emosync.training.emotion_text import word_table

    source = {"dimensions": 3, "words": ["the", "happy"],
              "vectors": {"the": [1, 0, 0, 1.0, 0], "happy": [0, 2, 0, 2.0, 1]}}  # fmt: skip
    (tmp_path / word_table.JSON_NAME).write_text(json.dumps(source))
    words, vectors = word_table.read_glove(tmp_path)
    assert words == ["the", "happy"]
    np.testing.assert_array_equal(vectors, [[1, 0, 0], [0, 2, 0]])  # norm and index dropped


def test_a_shares_only_head_reads_amount_and_relevance_from_the_sentence_alone():
    import torch

    from emosync.training.emotion_text import export

    torch.manual_seed(0)
    head = export.EmotionHead(dim=12, hidden=16, word_dim=5).eval()
    sentence = torch.randn(3, 12)
    words_a, words_b = torch.randn(3, 5), torch.randn(3, 5)
    with torch.no_grad():
        (ia, la), (ib, lb) = (head(torch.cat([sentence, w], dim=1)) for w in (words_a, words_b))
    torch.testing.assert_close(la, lb)  # relevance: the sentence only
    torch.testing.assert_close(ia.sum(-1), ib.sum(-1))  # amount: the sentence only
    assert not torch.allclose(ia, ib, atol=1e-4)  # the shares follow the words
