"""Train the lip reader, the curve emotion classifier and then the neural convertor; export both
ONNX models, calibrate the convertor's outputs on the val split (calibrate.py) and log a summary.

    python training/convertor/train.py --corpus data/corpus/small --config small \
        --out inference/assets/

Configs: tiny (CI smoke, seconds), small (2-core CPU, under two hours; --minutes caps it),
large (GPU when one is present). Phase 1 trains the LipReader and CurveEmotionClassifier on the
teacher curves and freezes them; phase 2 trains the Convertor with every loss in losses.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from emosync.rigs.emotions import N_EMOTIONS
from emosync.rigs.mouth import SEAL_GAP
from emosync.training.convertor import losses as L
from emosync.training.convertor.calibrate import calibrate
from emosync.training.convertor.dataset import (
    Batch,
    Clip,
    WindowSampler,
    full_clip_batch,
    load_augment,
    load_corpus,
    mel_stats,
)
from emosync.training.convertor.export import CONVERTOR_FILE, export_models
from emosync.training.convertor.model import (
    ContrastiveProjector,
    Convertor,
    ConvertorConfig,
    CurveEmotionClassifier,
    LipReader,
    count_params,
)
from emosync.training.convertor.warm_start import load_weights

REPO = Path(__file__).resolve().parents[2]
RESCAN_SECONDS = 300.0


@dataclass(frozen=True)
class TrainConfig:
    model: ConvertorConfig
    reader_steps: int
    steps: int
    batch: int
    frames: int  # output frames per training window (50 fps)
    lr: float = 2e-3
    minutes: float = 0.0  # wall-clock cap for phase 2 (0 = none)
    warmup: int = 50  # learning-rate warm-up steps
    threads: int = 2
    device: str = "cpu"
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "curve": 1.0,
            "velocity": 0.5,
            "seal": 1.0,
            "temporal": 2.0,
            "phone": 0.1,
            "lipread": 0.1,
            "emotion": 0.2,
            "exchange_lip": 0.05,
            "exchange_emotion": 0.2,
            "contrastive": 0.05,
        }
    )


CONFIGS = {
    "tiny": TrainConfig(
        ConvertorConfig(channels=48, film_hidden=16),
        reader_steps=8,
        steps=8,
        batch=4,
        frames=60,
        threads=1,
    ),
    "small": TrainConfig(
        ConvertorConfig(channels=128),
        reader_steps=300,
        steps=8000,
        batch=8,
        frames=200,
        minutes=80,
    ),
    "large": TrainConfig(
        ConvertorConfig(channels=256, film_hidden=96),
        reader_steps=3000,
        steps=60000,
        batch=48,
        frames=300,
        lr=1e-3,
        threads=8,
        device="cuda",
    ),
}


def random_emotions(n: int, rng: np.random.Generator) -> np.ndarray:
    """Exchange targets: one emotion at a random intensity, sometimes a mixture or neutral."""
    out = np.zeros((n, N_EMOTIONS), dtype=np.float32)
    for i in range(n):
        roll = rng.random()
        if roll < 0.1:
            continue
        out[i, rng.integers(N_EMOTIONS)] = rng.uniform(0.3, 1.3)
        if roll > 0.8:
            out[i, rng.integers(N_EMOTIONS)] += rng.uniform(0.2, 0.6)
    return np.minimum(out, 1.5)


def learning_rate(peak: float, step: int, progress: float, warmup: int = 50) -> float:
    """Linear warm-up, then cosine decay over the run's progress (steps or wall time)."""
    return peak * min(1.0, (step + 1) / warmup) * 0.5 * (1.0 + np.cos(np.pi * min(progress, 1.0)))


def log(message: str) -> None:
    print(message, flush=True)


def train_readers(
    sampler: WindowSampler, cfg: TrainConfig, device: torch.device
) -> tuple[LipReader, CurveEmotionClassifier, dict]:
    """Phase 1: lip reader (teacher curves -> phones), emotion classifier (-> intensities)."""
    reader, classifier = LipReader().to(device), CurveEmotionClassifier().to(device)
    params = [*reader.parameters(), *classifier.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
    stats = {}
    for step in range(cfg.reader_steps):
        b = to_device(sampler.batch(cfg.batch, audio=False), device)
        curves = b.curves + 0.01 * torch.randn_like(b.curves)  # no reliance on exact values
        ce = L.phone_ce(reader(curves), b.phones, b.mask)
        emo = L.emotion_loss(classifier, curves, b.emotion, b.mask)
        opt.zero_grad()
        (ce + emo).backward()
        opt.step()
        stats = {"reader_ce": float(ce.detach()), "classifier_mse": float(emo.detach())}
        if step % 100 == 0 or step == cfg.reader_steps - 1:
            log(f"readers step {step}: " + " ".join(f"{k} {v:.4f}" for k, v in stats.items()))
    for module in (reader, classifier):
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
    return reader, classifier, stats


def to_device(b: Batch, device: torch.device) -> Batch:
    return Batch(*(getattr(b, f).to(device) for f in Batch.__dataclass_fields__))


def convertor_losses(
    model: Convertor,
    projector: ContrastiveProjector,
    reader: LipReader,
    classifier: CurveEmotionClassifier,
    b: Batch,
    new_emotion: torch.Tensor,
) -> dict[str, torch.Tensor]:
    emotion = b.frame_emotion()
    curves, phone_logits, content = model.forward_with_content(b.mel, emotion)
    swapped = model.decoder(content, new_emotion[:, None, :].expand_as(emotion))
    ex_lip, ex_emo = L.exchange_loss(reader, classifier, curves, swapped, new_emotion, b.mask)
    return {
        "curve": L.curve_l1(curves, b.curves, b.mask),
        "velocity": L.velocity_loss(curves, b.curves, b.mask),
        "seal": L.seal_loss(curves, b.phones, b.mask),
        "temporal": L.temporal_prior(curves, b.mask),
        "phone": L.phone_ce(phone_logits, b.phones, b.mask),
        "lipread": L.lipread_ce(reader, curves, b.phones, b.mask),
        "emotion": L.emotion_loss(classifier, curves, b.emotion, b.mask),
        "exchange_lip": ex_lip,
        "exchange_emotion": ex_emo,
        "contrastive": L.contrastive_loss(projector(content, b.mask), b.text_id),
    }


@torch.no_grad()
def evaluate(model: Convertor, reader: LipReader, clips: list[Clip], device) -> dict[str, float]:
    """Teacher L1, lip-reader phone accuracy on the output and bilabial seal rate."""
    model.eval()
    l1, acc, frames, sealed, bilabial = 0.0, 0.0, 0, 0, 0
    for clip in clips:
        b = to_device(full_clip_batch(clip), device)
        curves, _ = model(b.mel, b.frame_emotion())
        l1 += float((curves - b.curves).abs().mean(-1).sum())
        acc += float((reader(curves).argmax(-1) == b.phones).sum())
        frames += clip.n_frames
        gap = L.lip_gap(curves[0])
        is_b = torch.zeros_like(b.phones[0], dtype=torch.bool)
        for i in L.BILABIAL_IDS:
            is_b |= b.phones[0] == i
        sealed += int((gap[is_b] < SEAL_GAP).sum())
        bilabial += int(is_b.sum())
    model.train()
    return {
        "val_l1": l1 / max(frames, 1),
        "val_lipread_acc": acc / max(frames, 1),
        "val_seal_rate": sealed / max(bilabial, 1),
        "val_frames": frames,
    }


def train_convertor(
    sampler: WindowSampler,
    val: list[Clip],
    reader: LipReader,
    classifier: CurveEmotionClassifier,
    cfg: TrainConfig,
    device: torch.device,
    rng: np.random.Generator,
    rescan: list[Path] | None = None,
    init: dict[str, torch.Tensor] | None = None,
) -> tuple[Convertor, dict]:
    """Phase 2. `init`: start from these weights (their mel normalisation is kept)."""
    model = Convertor(cfg.model).to(device)
    if init is None:
        mean, std = mel_stats(sampler.clips)
        model.set_mel_stats(torch.from_numpy(mean).to(device), torch.from_numpy(std).to(device))
    else:
        model.load_state_dict(init)
    projector = ContrastiveProjector(cfg.model.channels).to(device)
    params = [*model.parameters(), *projector.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
    start = time.monotonic()
    running: dict[str, float] = {}
    step = 0
    last_scan = start
    for step in range(cfg.steps):
        progress = step / cfg.steps
        if cfg.minutes:
            progress = max(progress, (time.monotonic() - start) / 60.0 / cfg.minutes)
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg.lr, step, progress, cfg.warmup)
        b = to_device(sampler.batch(cfg.batch), device)
        new_emotion = torch.from_numpy(random_emotions(len(b.mel), rng)).to(device)
        parts = convertor_losses(model, projector, reader, classifier, b, new_emotion)
        total = sum(cfg.weights[k] * v for k, v in parts.items())
        opt.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        for k, v in parts.items():
            running[k] = 0.98 * running.get(k, float(v.detach())) + 0.02 * float(v.detach())
        elapsed = (time.monotonic() - start) / 60.0
        if step % 100 == 0 or step == cfg.steps - 1:
            shown = " ".join(f"{k} {v:.4f}" for k, v in running.items())
            log(f"step {step} ({elapsed:.1f} min): {shown}")
        if rescan and time.monotonic() - last_scan > RESCAN_SECONDS:
            last_scan = time.monotonic()
            known = frozenset(c.id for c in sampler.clips)
            new = [c for folder in rescan for c in load_corpus(folder, ("train",), known)]
            sampler.add(new)
            log(f"rescan: {len(new)} new clips, {len(sampler.clips)} in all")
        if cfg.minutes and elapsed > cfg.minutes:
            log(f"stopping at step {step}: the {cfg.minutes:g}-minute cap is reached")
            break
    summary = {"steps": step + 1, "minutes": round((time.monotonic() - start) / 60.0, 2)}
    summary |= {f"train_{k}": round(v, 5) for k, v in running.items()}
    summary |= {k: round(v, 4) for k, v in evaluate(model, reader, val, device).items()}
    return model, summary


def corpus_summary(clips: list[Clip], folder: str) -> dict:
    by_engine: dict[str, int] = {}
    by_language: dict[str, int] = {}
    for clip in clips:
        engine = f"{clip.meta.get('engine', '?')}:{clip.meta.get('voice', '?')}"
        by_engine[engine] = by_engine.get(engine, 0) + 1
        lang = str(clip.meta.get("language", "?"))
        by_language[lang] = by_language.get(lang, 0) + 1
    hours = sum(c.n_frames for c in clips) / 50.0 / 3600.0
    return {
        "corpus": folder,
        "clips": len(clips),
        "hours": round(hours, 3),
        "voices": by_engine,
        "languages": by_language,
        "labels": "teacher: phonetic engine with the known text + emotion layer",
    }


def append_log(path: Path, command: str, corpus: dict, summary: dict, params: int) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"\n## {stamp}\n\n`{command}`\n\n"
        f"- corpus: {corpus['corpus']}, {corpus['clips']} train clips, {corpus['hours']} h\n"
        f"- convertor parameters: {params}\n" + "".join(f"- {k}: {v}\n" for k, v in summary.items())
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        if f.tell() == 0:
            f.write(
                "# Convertor training log\n\nOne entry per run of training/convertor/train.py.\n"
            )
        f.write(text)


def save_checkpoint(
    path: Path, model: Convertor, reader: LipReader, classifier: CurveEmotionClassifier
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "config": model.cfg.to_dict(),
        "convertor": model.state_dict(),
        "lipreader": reader.state_dict(),
        "classifier": classifier.state_dict(),
    }
    torch.save(state, path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", required=True, help="corpus folder(s)")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="small")
    parser.add_argument("--out", type=Path, default=REPO / "inference" / "assets")
    parser.add_argument("--log", type=Path, default=REPO / "docs" / "training_log.md")
    parser.add_argument("--minutes", type=float, help="wall-clock cap for the convertor phase")
    parser.add_argument("--steps", type=int, help="override the convertor step count")
    parser.add_argument(
        "--threads", type=int, help="torch threads (1 is much faster on a shared, busy CPU)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, help="peak learning rate (default: the config's)")
    parser.add_argument(
        "--init",
        type=Path,
        help="start the convertor from these weights: a .pt checkpoint or a convertor.onnx "
        "(fine-tuning; the architecture is the file's, the config gives the schedule)",
    )
    parser.add_argument(
        "--shares",
        type=float,
        nargs="+",
        help="sampling share of each --corpus folder (default: every clip equally likely)",
    )
    parser.add_argument(
        "--val",
        type=Path,
        nargs="+",
        help="folders whose val split scores and calibrates the model (default: the --corpus "
        "folders; leave a held-out real-speech val split out of calibration to compare on it)",
    )
    parser.add_argument(
        "--rescan", action="store_true", help="pick up clips of a corpus still being built"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing model files")
    parser.add_argument("--checkpoint", type=Path, help="also save the torch weights here (.pt)")
    return parser


def _config(args: argparse.Namespace) -> TrainConfig:
    """The named config with --minutes, --steps and --threads applied."""
    cfg = CONFIGS[args.config]
    overrides = {}
    if args.minutes is not None:
        overrides["minutes"] = args.minutes
    if args.steps is not None:
        overrides["steps"] = args.steps
    if args.threads is not None:
        overrides["threads"] = args.threads
    if args.lr is not None:
        overrides["lr"] = args.lr
    if overrides:
        cfg = TrainConfig(**{**cfg.__dict__, **overrides})
    return cfg


def main(argv: list[str] | None = None) -> dict:
    args = _parser().parse_args(argv)
    cfg = _config(args)
    device = torch.device(cfg.device if torch.cuda.is_available() else "cpu")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    command = "python training/convertor/train.py " + shlex.join(argv or sys.argv[1:])

    began = time.monotonic()
    clips = [c for folder in args.corpus for c in load_corpus(folder, ("train",))]
    if not clips:
        raise SystemExit(f"no training clips in {args.corpus}")
    val = [c for folder in (args.val or args.corpus) for c in load_corpus(folder, ("val",))]
    val = val or clips[: max(1, len(clips) // 10)]
    augment = load_augment()
    log(f"{len(clips)} train clips, {len(val)} val clips, augmentation: {augment is not None}")
    shares = None
    if args.shares:
        if len(args.shares) != len(args.corpus):
            raise SystemExit("--shares takes one number per --corpus folder")
        shares = {str(Path(f)): w for f, w in zip(args.corpus, args.shares, strict=True)}
    sampler = WindowSampler(clips, cfg.frames, rng, augment=augment, shares=shares)
    init = None
    if args.init:
        arch, init = load_weights(args.init)
        cfg = TrainConfig(**{**cfg.__dict__, "model": arch})
        log(f"warm start from {args.init}")
    reader, classifier, reader_stats = train_readers(sampler, cfg, device)
    rescan = list(args.corpus) if args.rescan else None
    model, summary = train_convertor(
        sampler, val, reader, classifier, cfg, device, rng, rescan, init
    )
    summary = {**reader_stats, **summary, "augmentation": augment is not None}

    clips = sampler.clips
    corpus = corpus_summary(clips, " + ".join(str(p) for p in args.corpus))
    summary["total_minutes"] = round((time.monotonic() - began) / 60.0, 2)
    provenance = {**corpus, "config": args.config, "seed": args.seed}
    if args.init:
        provenance["init"] = str(args.init)
    files = export_models(
        model.cpu(), reader.cpu(), args.out, provenance, command, force=args.force
    )
    calibration = calibrate(args.out / CONVERTOR_FILE, val)
    summary["calibrated"] = f"{', '.join(calibration['maps'])} on {calibration['clips']} val clips"
    summary["files"] = {p.name: p.stat().st_size for p in files}
    if args.checkpoint:
        save_checkpoint(args.checkpoint, model, reader, classifier)
    append_log(args.log, command, corpus, summary, count_params(model))
    log(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
