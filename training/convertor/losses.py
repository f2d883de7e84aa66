"""Training objectives of the convertor. Every loss takes a frame mask [B, T] (1 = real frame)
so that padded batches of clips of different lengths are scored only where there is audio."""

from __future__ import annotations

import torch
from torch import nn

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.mouth import SEAL_GAP
from emosync.rigs.phonemes import BILABIAL
from emosync.training.convertor.model import N_BLEND, PHONE_LABELS

_I = {n: i for i, n in enumerate(ARKIT_NAMES)}
BILABIAL_IDS = tuple(PHONE_LABELS.index(p) for p in sorted(BILABIAL))


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x [B, T, ...] over frames where mask [B, T] is set (and over trailing dims)."""
    m = mask.to(x.dtype)
    while m.dim() < x.dim():
        m = m.unsqueeze(-1)
    per_frame = x[0, 0].numel() if x.dim() > 2 else 1
    return (x * m).sum() / (m.sum() * per_frame).clamp_min(1.0)


def lip_gap(weights: torch.Tensor) -> torch.Tensor:
    """rigs.mouth.lip_gap in torch (differentiable); weights [..., >= 52] -> gap [...]."""
    w = weights
    jaw_gap = torch.relu(w[..., _I["jawOpen"]] - w[..., _I["mouthClose"]])
    lower = 0.5 * (w[..., _I["mouthLowerDownLeft"]] + w[..., _I["mouthLowerDownRight"]])
    upper = 0.5 * (w[..., _I["mouthUpperUpLeft"]] + w[..., _I["mouthUpperUpRight"]])
    return jaw_gap + 0.6 * lower + 0.6 * upper + 0.3 * w[..., _I["mouthFunnel"]]


def curve_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return _masked_mean((pred - target).abs(), mask)


def velocity_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L1 between frame-to-frame changes: timing of onsets and releases."""
    both = mask[:, 1:] * mask[:, :-1]
    return _masked_mean(
        ((pred[:, 1:] - pred[:, :-1]) - (target[:, 1:] - target[:, :-1])).abs(), both
    )


def temporal_prior(pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Squared second difference (acceleration): penalises frame-level jitter, not motion."""
    both = mask[:, 2:] * mask[:, 1:-1] * mask[:, :-2]
    accel = pred[:, 2:] - 2.0 * pred[:, 1:-1] + pred[:, :-2]
    return _masked_mean(accel.pow(2), both)


def seal_loss(pred: torch.Tensor, phones: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """On frames whose teacher phone is P/B/M: how far the lip gap is above the sealed limit.
    Zero when every such frame is sealed (gap < SEAL_GAP)."""
    bilabial = torch.zeros_like(mask, dtype=torch.bool)
    for i in BILABIAL_IDS:
        bilabial |= phones == i
    target = bilabial & mask.bool()
    gap = lip_gap(pred[..., :N_BLEND])
    # an unsealed frame is pulled all the way down, not just to the limit
    excess = torch.where(gap < SEAL_GAP, torch.zeros_like(gap), gap)
    return (excess * target).sum() / target.sum().clamp_min(1)


def phone_ce(logits: torch.Tensor, phones: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of per-frame phone logits [B, T, P] against labels [B, T]."""
    ce = nn.functional.cross_entropy(logits.transpose(1, 2), phones.long(), reduction="none")
    return _masked_mean(ce, mask)


def lipread_ce(
    lipreader: nn.Module, pred: torch.Tensor, phones: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """The (frozen) lip reader must read the teacher's phones off the predicted mouth."""
    return phone_ce(lipreader(pred), phones, mask)


def emotion_loss(
    classifier: nn.Module, curves: torch.Tensor, emotion: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Squared error between the sequence-level emotion read from curves and the intended state
    [B, 7] (squared, not L1: with mostly-zero targets L1 settles on predicting zeros)."""
    return (classifier(curves, mask) - emotion).pow(2).mean()


def exchange_loss(
    lipreader: nn.Module,
    classifier: nn.Module,
    curves: torch.Tensor,
    swapped: torch.Tensor,
    new_emotion: torch.Tensor,
    mask: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Content-emotion exchange. `swapped` is the same audio rendered with `new_emotion` [B, 7].
    Returns (lip term, emotion term): the lip reading of `swapped` must match that of `curves`
    (KL to its distribution, held fixed) and the classifier must read `new_emotion` off it."""
    reference = nn.functional.log_softmax(lipreader(curves).detach(), dim=-1)
    moved = nn.functional.log_softmax(lipreader(swapped), dim=-1)
    kl = nn.functional.kl_div(moved, reference, log_target=True, reduction="none").sum(-1)
    return _masked_mean(kl, mask), emotion_loss(classifier, swapped, new_emotion, mask)


def contrastive_loss(
    embeddings: torch.Tensor, text_ids: torch.Tensor, temperature: float = 0.1
) -> torch.Tensor:
    """Supervised InfoNCE over clips [B, D] (unit vectors): clips with the same text_id (other
    voice, other emotion) are positives. Zero when no clip in the batch has a positive."""
    sim = embeddings @ embeddings.T / temperature
    eye = torch.eye(len(text_ids), dtype=torch.bool, device=embeddings.device)
    positive = (text_ids[:, None] == text_ids[None, :]) & ~eye
    has_pos = positive.any(dim=1)
    if not has_pos.any():
        return embeddings.sum() * 0.0
    log_prob = sim.masked_fill(eye, float("-inf")).log_softmax(dim=1)
    pos_log = (log_prob.masked_fill(~positive, 0.0)).sum(1) / positive.sum(1).clamp_min(1)
    return -(pos_log[has_pos]).mean()
