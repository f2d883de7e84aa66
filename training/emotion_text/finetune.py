"""Fine-tunes the top `layers` transformer layers of MiniLM together with the head (the
frozen-encoder head reads negation and degree words poorly: docs/emotion.md).

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
RANK_WEIGHT = 0.0  # the ranking loss's share (rank_loss; not shipped yet, docs/emotion.md)
RANK_MIN_GAP = 0.1  # target gaps below this are not ranked
RANK_LIFT = False  # the ranking only lifts the stronger prompt of a pair (rank_loss)
RANK_ABOVE = 0.0  # the ranking only compares pairs whose weaker target is at least this


def head_loss(
    intensity: torch.Tensor,
    logit: torch.Tensor,
    states: torch.Tensor,
    relevant: torch.Tensor,
    classes: torch.Tensor,
    ce_weight: float = CE_WEIGHT,
    rank_weight: float = RANK_WEIGHT,
    groups: torch.Tensor | None = None,
    rank_lift: bool = RANK_LIFT,
    rank_above: float = RANK_ABOVE,
) -> torch.Tensor:
    """MSE on the intensities + BCE on relevance + a CE on single-emotion prompts (+ a ranking
    loss on their intensities when `rank_weight` > 0, plus one within each of `groups`, the
    ladders of one word at several degrees; -1: in no group; `rank_lift`, `rank_above`: see
    rank_loss).
    Ladders stay out of the relevance loss; a prompt whose class holds no intensity (a negated
    rung) stays out of the CE.

    The CE's logits are log-intensities, so it sees only the proportions between emotions:
    softmax(log x) = x / sum(x). On raw intensities it pushed every single-emotion prompt's
    intensity up, "slightly angry" included, against the MSE's degree targets."""
    loss = nn.functional.mse_loss(intensity, states)
    # ladders are all about a feeling: in the relevance loss they would shift its balance
    own = torch.ones_like(relevant, dtype=torch.bool) if groups is None else groups < 0
    if own.any():
        bce = nn.functional.binary_cross_entropy_with_logits(logit[own], relevant[own])
        loss = loss + 0.3 * bce
    single = classes >= 0
    if single.any():
        # a ladder's negated rung is ranked on its word's category but holds none of it
        holds = single.clone()
        holds[single] = states[single].gather(1, classes[single].unsqueeze(1)).squeeze(1) > 0.05
        if holds.any():
            logits = torch.log(intensity[holds] + CE_FLOOR)
            ce = nn.functional.cross_entropy(logits, classes[holds])
            loss = loss + ce_weight * ce
        if rank_weight:
            x, t, c = intensity[single], states[single], classes[single]
            ranked = rank_loss(x, t, c, lift=rank_lift, above=rank_above)
            if groups is not None:
                ranked = ranked + rank_loss(
                    x, t, c, groups[single], lift=rank_lift, above=rank_above
                )
            loss = loss + rank_weight * ranked
    return loss


def rank_loss(
    intensity: torch.Tensor,
    states: torch.Tensor,
    classes: torch.Tensor,
    groups: torch.Tensor | None = None,
    lift: bool = RANK_LIFT,
    above: float = RANK_ABOVE,
) -> torch.Tensor:
    """Pairwise hinge over single-emotion prompts of the same category (and of the same group,
    when `groups` is given; -1 is no group): when one's target is higher by at least
    RANK_MIN_GAP, its reading must be higher by at least half that gap. With `lift` the
    hinge's gradient reaches only the stronger prompt of a pair; with `above` only pairs whose
    weaker target is at least that are ranked (the strong end, leaving weak degrees to the MSE).

    The MSE alone lets readings shrink towards the middle of the scale (strong words read
    weaker than they are, "very w" no higher than "w"); this asks for the order directly.
    Without `lift` a pair is put in order by sinking the weaker reading as much as by raising
    the stronger, and weak degrees sank to nothing (docs/emotion.md); with it, only the MSE
    moves a weak degree."""
    pick = classes.unsqueeze(1)
    x = intensity.gather(1, pick).squeeze(1)
    t = states.gather(1, pick).squeeze(1)
    gap = t.unsqueeze(1) - t.unsqueeze(0)  # [i, j]: how much i should read above j
    ranked = (classes.unsqueeze(1) == classes.unsqueeze(0)) & (gap >= RANK_MIN_GAP)
    ranked &= (t >= above).unsqueeze(0)  # j, the weaker of the pair
    if groups is not None:
        ranked &= (groups.unsqueeze(1) == groups.unsqueeze(0)) & (groups >= 0).unsqueeze(1)
    if not ranked.any():
        return intensity.sum() * 0.0
    below = x.detach() if lift else x
    shortfall = 0.5 * gap - (x.unsqueeze(1) - below.unsqueeze(0))
    return nn.functional.relu(shortfall[ranked]).mean()


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


def layer_rates(lr: float, layers: int, decay: float) -> list[float]:
    """Learning rate of each tuned layer, lowest first: the top one gets `lr`, each layer below
    `decay` times the one above (layer-wise decay keeps the lower layers, which place words,
    nearer the pretrained model)."""
    return [lr * decay ** (layers - 1 - i) for i in range(layers)]


def step_count(epochs: float, n: int, batch: int = 64) -> int:
    """Optimiser steps of `finetune` over `n` prompts."""
    return max(1, int(epochs * n / batch))


# texts -> the model's inputs: (input ids, attention mask), and the word vectors when it has them
Tokenize = Callable[[Sequence[str]], tuple[torch.Tensor, ...]]
# One word at several degrees, weakest first: (text, 7 target intensities, category index), the
# word's category on every rung, a negated one ("not w", none of it) included.
Ladder = Sequence[tuple[str, Sequence[float], int]]


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
    rank_weight: float = RANK_WEIGHT,
    rank_lift: bool = RANK_LIFT,
    rank_above: float = RANK_ABOVE,
    layer_decay: float = 1.0,
    ladders: Sequence[Ladder] = (),
    ladders_per_step: int = 0,
    batch: int = 64,
    log: Callable[[str], None] = print,
) -> SentenceHead:
    """Tune the top `layers` layers with the head on (texts, states, relevant, classes); each
    step also reads the next `ladders_per_step` of `ladders` (cycling), ranked within each."""
    torch.manual_seed(seed)
    rates = [*layer_rates(lr, layers, layer_decay), lr * 20]
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
        batch_texts, yb, rb, cb, ladder_of = [texts[i] for i in idx], y[idx], r[idx], c[idx], None
        if ladders_per_step:
            picked = [ladders[(step * ladders_per_step + k) % len(ladders)]
                      for k in range(ladders_per_step)]  # fmt: skip
            batch_texts, yb, rb, cb, ladder_of = with_ladders(batch_texts, yb, rb, cb, picked)
        intensity, logit = model(*tokenize(batch_texts), noise=noise)
        loss = head_loss(
            intensity, logit, yb, rb, cb, ce_weight, rank_weight, ladder_of, rank_lift, rank_above
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"  step {step + 1}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")
    return model.eval()


def with_ladders(
    texts: list[str],
    states: torch.Tensor,
    relevant: torch.Tensor,
    classes: torch.Tensor,
    ladders: Sequence[Ladder],
) -> tuple[list[str], torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The batch with `ladders` appended, and each prompt's group: -1 for the batch's own, the
    ladder's index for a ladder's."""
    rungs = [rung for ladder in ladders for rung in ladder]
    rung_texts, rung_states, rung_classes = zip(*rungs, strict=True)
    groups = [-1] * len(texts) + [g for g, ladder in enumerate(ladders) for _rung in ladder]
    return (
        texts + list(rung_texts),
        torch.cat([states, torch.tensor(rung_states, dtype=states.dtype)]),
        torch.cat([relevant, torch.ones(len(rung_texts), dtype=relevant.dtype)]),
        torch.cat([classes, torch.tensor(rung_classes, dtype=classes.dtype)]),
        torch.tensor(groups),
    )


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


def soup(models: Sequence[nn.Module]) -> nn.Module:
    """One model whose weights are the mean of `models`' (a uniform "model soup"). They must be
    fine-tuned from the same starting weights, so that they sit in one basin and their mean
    does too; differing only in data order and noise, their mean generalises better than each."""
    return weighted(models, [1 / len(models)] * len(models))


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


def raw_totals(model: SentenceHead, tokenize: Tokenize, texts: Sequence[str]) -> np.ndarray:
    """The amount the model reads in each text (the sum of its seven intensities, unclipped)."""
    return np.concatenate([s.sum(-1).numpy() for s, _ in batched_outputs(model, tokenize, texts)])


def isotonic(values: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence nearest to `values` in least squares (pool adjacent
    violators)."""
    means: list[float] = []
    counts: list[int] = []
    for v in values:
        means.append(float(v))
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            n = counts[-2] + counts[-1]
            means[-2:] = [(means[-2] * counts[-2] + means[-1] * counts[-1]) / n]
            counts[-2:] = [n]
    return np.repeat(means, counts)


def fit_calibration(
    totals: np.ndarray, targets: np.ndarray, knots: int, keep_below: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Knots and values of a monotone piecewise-linear map from the amounts a model reads to
    the amounts the prompts ask for: isotonic regression, sampled at quantiles of the readings,
    starting at (0, 0). Order is kept; only the scale moves. Readings up to `keep_below` map to
    themselves (one knot sits there), so what the model reads as little or nothing, negated
    prompts among it, is not lifted."""
    order = np.argsort(totals, kind="stable")
    x, fitted = totals[order], isotonic(targets[order])
    at = np.quantile(x, np.linspace(0.0, 1.0, knots - 1))
    xs = np.concatenate([[0.0], np.maximum(at, 1e-4)])
    if keep_below > 0.0:
        xs[1 + np.argmin(np.abs(xs[1:] - keep_below))] = keep_below
        xs.sort()
    for i in range(1, knots):  # strictly increasing, so every segment has a width
        xs[i] = max(xs[i], xs[i - 1] + 1e-4)
    ys = np.concatenate([[0.0], np.interp(xs[1:], x, fitted)])
    ys = np.maximum.accumulate(np.where(xs <= keep_below, xs, ys))
    return xs.astype(np.float32), ys.astype(np.float32)


def calibrate(
    model: SentenceHead,
    tokenize: Tokenize,
    texts: Sequence[str],
    states: np.ndarray,
    relevant: np.ndarray,
    keep_below: float = 0.0,
) -> None:
    """Fit the head's amount calibration on the prompts that talk about a feeling (neutral and
    negated ones included, their target amount is 0); see fit_calibration for `keep_below`."""
    model.head.calibrated = False  # fit on the raw amounts, also when refitting
    keep = [i for i in range(len(texts)) if relevant[i] > 0]
    totals = raw_totals(model, tokenize, [texts[i] for i in keep])
    xs, ys = fit_calibration(totals, states[keep].sum(1), len(model.head.knots), keep_below)
    model.head.set_calibration(torch.from_numpy(xs), torch.from_numpy(ys))


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
