"""Fine-tunes the top `layers` transformer layers of MiniLM together with the head (the
frozen-encoder head reads negation and degree words poorly: docs/experiments.md).

The word-piece embeddings (and any layer below `layers`) stay frozen, so a word the prompts
never use still enters the model the way the pretrained model represents it; the tuned layers
learn how "not", "slightly" and context words change a feeling. The shipped model tunes all six.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from emosync.inference.onnx_model import open_tokenizer
from emosync.inference.word_vectors import WordVectors
from emosync.rigs.emotions import MAX_INTENSITY

CE_WEIGHT = 0.1  # the category cross-entropy's share of the loss
CE_FLOOR = 1e-3  # keeps log(intensity) finite for a zero output


def head_loss(
    intensity: torch.Tensor,
    logit: torch.Tensor,
    states: torch.Tensor,
    relevant: torch.Tensor,
    classes: torch.Tensor,
    ce_weight: float = CE_WEIGHT,
) -> torch.Tensor:
    """MSE on the intensities + BCE on relevance + a CE on single-emotion prompts (`classes`:
    the category index, -1 for mixtures and neutral prompts).

    The CE's logits are log-intensities, so it sees only the proportions between emotions:
    softmax(log x) = x / sum(x). On raw intensities it pushed every single-emotion prompt's
    intensity up, "slightly angry" included, against the MSE's degree targets."""
    loss = nn.functional.mse_loss(intensity, states)
    loss = loss + 0.3 * nn.functional.binary_cross_entropy_with_logits(logit, relevant)
    single = classes >= 0
    if single.any():
        logits = torch.log(intensity[single] + CE_FLOOR)
        loss = loss + ce_weight * nn.functional.cross_entropy(logits, classes[single])
    return loss


class SentenceHead(nn.Module):
    """MiniLM -> mean pooling -> L2 norm (-> beside the word vector) -> head, returning the raw
    training outputs."""

    def __init__(self, encoder: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def embed(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(
            input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)
        ).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, p=2.0, dim=1)

    def forward(
        self,
        ids: torch.Tensor,
        mask: torch.Tensor,
        word_vector: torch.Tensor | None = None,
        noise: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        emb = self.embed(ids, mask)
        if noise:
            emb = nn.functional.normalize(emb + noise * torch.randn_like(emb), dim=1)
        if word_vector is not None:
            emb = torch.cat([emb, word_vector], dim=-1)
        return self.head(emb)


def trainable_top(encoder: nn.Module, layers: int) -> list[list[nn.Parameter]]:
    """Freeze everything but the top `layers` transformer layers; return their parameters,
    one list per layer, lowest first."""
    for p in encoder.parameters():
        p.requires_grad_(False)
    groups = []
    for layer in encoder.encoder.layer[len(encoder.encoder.layer) - layers :]:
        params = list(layer.parameters())
        for p in params:
            p.requires_grad_(True)
        groups.append(params)
    return groups


def step_count(epochs: float, n: int, batch: int = 64) -> int:
    """Optimiser steps of `finetune` over `n` prompts."""
    return max(1, int(epochs * n / batch))


# texts -> the model's inputs: (input ids, attention mask), and the word vectors when it has them
Tokenize = Callable[[Sequence[str]], tuple[torch.Tensor, ...]]


def finetune(
    model: SentenceHead,
    tokenize: Tokenize,
    texts: list[str],
    states: np.ndarray,
    relevant: np.ndarray,
    classes: np.ndarray,
    *,
    epochs: float,
    layers: int,
    lr: float,
    noise: float,
    seed: int,
    ce_weight: float = CE_WEIGHT,
    batch: int = 64,
    log: Callable[[str], None] = print,
) -> SentenceHead:
    """Tune the top `layers` layers with the head on (texts, states, relevant, classes); the
    head learns 20 times faster than the encoder."""
    torch.manual_seed(seed)
    rates = [*[lr] * layers, lr * 20]
    groups = [*trainable_top(model.encoder, layers), list(model.head.parameters())]
    opt = torch.optim.AdamW(
        [{"params": g, "lr": r} for g, r in zip(groups, rates, strict=True)], weight_decay=1e-2
    )
    n = len(texts)
    steps = step_count(epochs, n, batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=rates, total_steps=steps, pct_start=0.1)
    y, r, c = (torch.from_numpy(a) for a in (states, relevant, classes))
    gen = torch.Generator().manual_seed(seed)
    model.train()
    t0 = time.time()
    order = torch.randperm(n, generator=gen)
    at = 0
    for step in range(steps):
        if at + batch > n:
            order, at = torch.randperm(n, generator=gen), 0
        idx = order[at : at + batch]
        at += batch
        intensity, logit = model(*tokenize([texts[i] for i in idx]), noise=noise)
        loss = head_loss(intensity, logit, y[idx], r[idx], c[idx], ce_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"  step {step + 1}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")
    return model.eval()


def weighted(models: Sequence[nn.Module], weights: Sequence[float]) -> nn.Module:
    """A copy of the last model whose floating-point weights are sum(w_i x model_i); integer
    buffers (position ids) come from the last model."""
    merged = copy.deepcopy(models[-1])
    states = [m.state_dict() for m in models]
    mixed = {
        k: sum(w * s[k].float() for w, s in zip(weights, states, strict=True)).to(v.dtype)
        if v.is_floating_point()
        else v
        for k, v in states[-1].items()
    }
    merged.load_state_dict(mixed)
    return merged.eval()


def interpolate(start: nn.Module, tuned: nn.Module, alpha: float) -> nn.Module:
    """(1 - alpha) x start + alpha x tuned, weight by weight (WiSE-FT, robust fine-tuning).

    `start` is the pretrained encoder with the head trained on its frozen embeddings, `tuned`
    the same model after fine-tuning: a point between them keeps more of how the pretrained
    model places words that training never showed, and still reads negation and degree words."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    return weighted([start, tuned], [1 - alpha, alpha])


def batched_outputs(model: SentenceHead, tokenize: Tokenize, texts: Sequence[str]):
    """The model's raw (intensities, relevance logit) over `texts`, 256 at a time."""
    with torch.no_grad():
        for i in range(0, len(texts), 256):
            yield model(*tokenize(list(texts[i : i + 256])))


def predictor(model: SentenceHead, tokenize: Tokenize):
    """Texts -> (clamped intensities, confidence), as the exported graph computes them."""

    def predict(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        out_s, out_c = [], []
        for intensity, logit in batched_outputs(model, tokenize, texts):
            out_s.append(intensity.clamp(0, MAX_INTENSITY).numpy())
            out_c.append(torch.sigmoid(logit).numpy())
        return np.concatenate(out_s), np.concatenate(out_c)

    return predict


def make_tokenizer(path, max_length: int, words: WordVectors | None = None) -> Tokenize:
    """The runtime's tokenizer (padded batches) and word vectors, giving torch tensors."""
    tok = open_tokenizer(path, max_length)

    def tokenize(texts: Sequence[str]) -> tuple[torch.Tensor, ...]:
        enc = tok.encode_batch(list(texts))
        ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
        if words is None:
            return ids, mask
        return ids, mask, torch.from_numpy(words.vectors(list(texts)))

    return tokenize
