"""The neural convertor: log-mel (100 fps) + per-frame emotion state -> 55 curves at 50 fps.

Named parts, each its own module so that each can be tested on its own:

- ContentEncoder: log-mel -> content features at 50 fps, with a phone head (the content prior).
- EmotionFiLM: per-frame 7-vector -> FiLM scale/shift. No biases, so a zero emotion is the
  identity and the modulation grows linearly with intensity; mixtures are sums of inputs.
- Decoder: FiLM-modulated content -> 52 ARKit weights (sigmoid) + head yaw/pitch/roll.
- LipReader: curves (52) -> phone logits per frame; trained on teacher curves, then frozen.
- CurveEmotionClassifier: curves over a whole sequence -> the 7 emotion intensities.

Temporal convolutions pad explicitly (left, right) so the receptive field is exact: output
frame k sees mel frames up to 2k + 1 + LOOKAHEAD_MEL and no further.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.emotions import EMOTIONS
from emosync.rigs.phonemes import PHONE_LABELS

N_PHONES = len(PHONE_LABELS)
HEAD_NAMES = ("headYaw", "headPitch", "headRoll")
OUTPUT_NAMES: tuple[str, ...] = (*ARKIT_NAMES, *HEAD_NAMES)
N_BLEND = len(ARKIT_NAMES)
N_OUT = len(OUTPUT_NAMES)
N_EMO = len(EMOTIONS)
N_MELS = 80
HEAD_LIMIT = 0.6  # radians; head rotations are tanh-bounded to this


@dataclass(frozen=True)
class ConvertorConfig:
    channels: int = 192
    encoder_dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2)
    # per block: 1 = centred kernel (reaches `dilation` 50 fps frames ahead), 0 = causal.
    # Encoder 1 + 2 + 1 and decoder 1 + 1 = 6 frames = 12 mel frames = 120 ms.
    encoder_lookahead: tuple[int, ...] = (1, 1, 0, 0, 1, 0)
    decoder_lookahead: tuple[int, ...] = (1, 1)  # one decoder block each
    film_hidden: int = 64
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


def _pad_for(kernel: int, dilation: int, lookahead: int) -> tuple[int, int]:
    """(left, right) zero padding for a stride-1 conv that reaches `lookahead` frames ahead."""
    reach = (kernel - 1) * dilation
    right = min(reach, lookahead * dilation) if lookahead else 0
    return reach - right, right


class TemporalConv(nn.Module):
    """Conv1d over [B, C, T] with explicit (left, right) zero padding; keeps T."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, lookahead: int):
        super().__init__()
        self.left, self.right = _pad_for(kernel, dilation, lookahead)
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)

    @property
    def reach_ahead(self) -> int:
        return self.right

    @property
    def reach_back(self) -> int:
        return self.left

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.pad(x, (self.left, self.right)))


class ResBlock(nn.Module):
    """x + 1x1(GELU(dilated conv(x))), with a channel norm in front."""

    def __init__(self, channels: int, dilation: int, lookahead: int, dropout: float):
        super().__init__()
        self.norm = FrameNorm(channels)
        self.conv = TemporalConv(channels, channels, 3, dilation, lookahead)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop(self.mix(nn.functional.gelu(self.conv(self.norm(x)))))


class FrameNorm(nn.Module):
    """Layer norm over channels of [B, C, T], each frame on its own (never mixes time)."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        y = (x - mean) / torch.sqrt(var + self.eps)
        return y * self.weight[None, :, None] + self.bias[None, :, None]


class ContentEncoder(nn.Module):
    """Log-mel [B, T, 80] (T even) -> content [B, C, T/2] and phone logits [B, T/2, P]."""

    def __init__(self, cfg: ConvertorConfig):
        super().__init__()
        c = cfg.channels
        self.register_buffer("mel_mean", torch.full((N_MELS,), -40.0))
        self.register_buffer("mel_std", torch.full((N_MELS,), 25.0))
        # stride-2 input conv: output k covers mel frames 2k-2 .. 2k+1
        self.stem = nn.Conv1d(N_MELS, c, kernel_size=4, stride=2)
        self.blocks = nn.ModuleList(
            ResBlock(c, d, la, cfg.dropout)
            for d, la in zip(cfg.encoder_dilations, cfg.encoder_lookahead, strict=True)
        )
        self.phone_head = nn.Conv1d(c, N_PHONES, 1)

    def forward(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = ((mel - self.mel_mean) / self.mel_std).transpose(1, 2)
        x = self.stem(nn.functional.pad(x, (2, 0)))
        for block in self.blocks:
            x = block(x)
        return x, self.phone_head(x).transpose(1, 2)


class EmotionFiLM(nn.Module):
    """Per-frame emotion [B, T, 7] -> (scale, shift) [B, C, T] applied as x * (1 + s) + b.

    Bias-free ReLU MLP: f(0) = 0 (identity) and f(a*e) = a*f(e) for a >= 0, so intensity acts
    continuously and a mixture is the network's response to the summed state."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.hidden = nn.Linear(N_EMO, hidden, bias=False)
        self.out = nn.Linear(hidden, 2 * channels, bias=False)
        nn.init.normal_(self.out.weight, std=0.01)

    def forward(self, x: torch.Tensor, emotion: torch.Tensor) -> torch.Tensor:
        scale, shift = self.out(torch.relu(self.hidden(emotion))).transpose(1, 2).chunk(2, dim=1)
        return x * (1.0 + scale) + shift


class Decoder(nn.Module):
    """Content [B, C, T] + emotion [B, T, 7] -> curves [B, T, 55]."""

    def __init__(self, cfg: ConvertorConfig):
        super().__init__()
        c = cfg.channels
        self.films = nn.ModuleList(EmotionFiLM(c, cfg.film_hidden) for _ in cfg.decoder_lookahead)
        self.blocks = nn.ModuleList(ResBlock(c, 1, la, cfg.dropout) for la in cfg.decoder_lookahead)
        # the emotion pose itself (brows, cheeks) enters directly as well as through FiLM
        self.emotion_in = nn.Linear(N_EMO, c, bias=False)
        self.head = nn.Conv1d(c, N_OUT, 1)

    def forward(self, content: torch.Tensor, emotion: torch.Tensor) -> torch.Tensor:
        x = content + self.emotion_in(emotion).transpose(1, 2)
        for film, block in zip(self.films, self.blocks, strict=True):
            x = block(film(x, emotion))
        y = self.head(x).transpose(1, 2)
        blend = torch.sigmoid(y[..., :N_BLEND])
        head = HEAD_LIMIT * torch.tanh(y[..., N_BLEND:])
        return torch.cat([blend, head], dim=-1)


class Convertor(nn.Module):
    """mel [B, T, 80], emotion [B, T/2, 7] -> curves [B, T/2, 55], phone logits [B, T/2, P]."""

    def __init__(self, cfg: ConvertorConfig | None = None):
        super().__init__()
        self.cfg = cfg or ConvertorConfig()
        self.encoder = ContentEncoder(self.cfg)
        self.decoder = Decoder(self.cfg)

    def forward(
        self, mel: torch.Tensor, emotion: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        curves, phones, _ = self.forward_with_content(mel, emotion)
        return curves, phones

    def forward_with_content(
        self, mel: torch.Tensor, emotion: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        content, phones = self.encoder(mel)
        return self.decoder(content, emotion), phones, content

    def set_mel_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.encoder.mel_mean.copy_(mean)
        self.encoder.mel_std.copy_(std.clamp_min(1e-3))

    def lookahead_mel(self) -> int:
        """Mel frames past 2k+1 that output frame k depends on."""
        frames = sum(b.conv.reach_ahead for b in self.encoder.blocks)
        frames += sum(b.conv.reach_ahead for b in self.decoder.blocks)
        return 2 * frames

    def left_context_mel(self) -> int:
        """Mel frames before 2k that output frame k depends on."""
        frames = sum(b.conv.reach_back for b in self.encoder.blocks)
        frames += sum(b.conv.reach_back for b in self.decoder.blocks)
        return 2 + 2 * frames


class LipReader(nn.Module):
    """Curves [B, T, 52] -> phone logits [B, T, P] at 50 fps (±4 frames of context)."""

    def __init__(self, channels: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(N_BLEND, channels, 3, padding=1),
            nn.GELU(),
            nn.Conv1d(channels, channels, 3, padding=1),
            nn.GELU(),
            nn.Conv1d(channels, channels, 3, padding=2, dilation=2),
            nn.GELU(),
            nn.Conv1d(channels, N_PHONES, 1),
        )

    def forward(self, curves: torch.Tensor) -> torch.Tensor:
        return self.net(curves[..., :N_BLEND].transpose(1, 2)).transpose(1, 2)


class CurveEmotionClassifier(nn.Module):
    """Curves [B, T, 52] (+ mask [B, T]) -> emotion intensities [B, 7], read over the sequence."""

    def __init__(self, channels: int = 96):
        super().__init__()
        self.frames = nn.Sequential(
            nn.Conv1d(N_BLEND, channels, 5, padding=2),
            nn.GELU(),
            nn.Conv1d(channels, channels, 5, padding=4, dilation=2),
            nn.GELU(),
        )
        self.out = nn.Linear(channels, N_EMO)

    def forward(self, curves: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        # emotion shows as small weight changes (~0.1): a gain speeds learning up
        h = self.frames(4.0 * curves[..., :N_BLEND].transpose(1, 2))  # [B, C, T]
        if mask is None:
            pooled = h.mean(dim=2)
        else:
            m = mask[:, None, :].to(h.dtype)
            pooled = (h * m).sum(dim=2) / m.sum(dim=2).clamp_min(1.0)
        return self.out(pooled)  # linear: a softplus head can die at zero on mostly-zero targets


class ContrastiveProjector(nn.Module):
    """Content [B, C, T] (+ mask) -> one unit vector per clip, for the text_id contrastive."""

    def __init__(self, channels: int, dim: int = 64):
        super().__init__()
        self.proj = nn.Sequential(
            nn.Linear(channels, channels), nn.GELU(), nn.Linear(channels, dim)
        )

    def forward(self, content: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask[:, None, :].to(content.dtype)
        pooled = (content * m).sum(dim=2) / m.sum(dim=2).clamp_min(1.0)
        return nn.functional.normalize(self.proj(pooled), dim=-1)


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
