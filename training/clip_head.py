"""Aligns a user's local open_clip checkpoint to EmoSync's seven-emotion space.

    python training/clip_head.py --model ViT-B-32 --checkpoint ~/models/clip.bin \
        --images refs/ --out ~/emosync-clip/

The text tower embeds the same prompts the MiniLM head is trained on (emotion_text/prompts.py);
the image tower embeds reference images (a folder with one sub-folder per emotion name, e.g.
refs/happy/*.png, plus optional refs/neutral/). CLIP puts both in one space, so ONE small head,
trained on both, maps either to (7 intensities, relevance). Exported: emotion_clip_text.onnx
(token ids -> emotion, confidence) and emotion_clip_image.onnx (normalised pixels -> emotion,
confidence), each tower + head as one graph, and clip_tokenizer.json (CLIP's BPE for the
`tokenizers` library), with MANIFEST.json beside them. `emosync … --clip OUT` then reads with
them (inference/emotion_clip.py).

Needs open_clip_torch, whose torchvision dependency is not in .venv: run it from .venv-clip.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emosync.atomic import atomic_write_bytes
from emosync.rigs.emotions import EMOTIONS
from emosync.training.emotion_text import export, prompts
from emosync.training.onnx_files import sha256_bytes, update_manifest, with_metadata

HERE = Path(__file__).resolve().parent

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
TEXT_FILE, IMAGE_FILE = "emotion_clip_text.onnx", "emotion_clip_image.onnx"
TOKENIZER_FILE = "clip_tokenizer.json"
# open_clip's pre-tokenisation pattern (SimpleTokenizer without extra special tokens)
CLIP_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
# ftfy straightens quotes and html.unescape decodes entities before open_clip tokenises
CLIP_REPLACE = (
    [(c, "'") for c in "\u2018\u2019\u201a\u201b"]
    + [(c, '"') for c in "\u201c\u201d\u201e\u201f"]
    + [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'")]
)


def load_clip(model_name: str, checkpoint: str | Path | None):
    """(model, preprocess, tokenizer) from a local checkpoint; never downloads anything."""
    import open_clip

    pretrained = str(checkpoint) if checkpoint else None
    if pretrained and not Path(pretrained).is_file():
        raise SystemExit(f"clip_head: checkpoint {pretrained} not found")
    model, _train_tf, preprocess = open_clip.create_model_and_transforms(
        model_name, pretrained=pretrained, device="cpu"
    )
    return model.eval(), preprocess, open_clip.get_tokenizer(model_name)


def reference_images(folder: Path | None) -> list[tuple[Path, str]]:
    """(image, emotion or 'neutral') for every image under folder/<emotion>/."""
    if folder is None:
        return []
    known = {*EMOTIONS, "neutral"}
    out = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and p.name in known):
        out += [(f, sub.name) for f in sorted(sub.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    return out


def runtime_tokenizer(simple):
    """open_clip's SimpleTokenizer rebuilt as a `tokenizers` Tokenizer, so the runtime tokenises
    without open_clip: byte-level BPE with '</w>' word ends, <start/end_of_text> around the ids.
    (ftfy's mojibake repair is the one cleaning step it does not repeat.)"""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    merges = [pair for pair, _rank in sorted(simple.bpe_ranks.items(), key=lambda kv: kv[1])]
    sot, eot = simple.decoder[simple.sot_token_id], simple.decoder[simple.eot_token_id]
    bpe = models.BPE(
        vocab=dict(simple.encoder), merges=merges, end_of_word_suffix="</w>", unk_token=eot
    )
    tokenizer = Tokenizer(bpe)
    replace = [normalizers.Replace(a, b) for a, b in CLIP_REPLACE]
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), *replace, normalizers.Replace(Regex(r"\s+"), " "),
         normalizers.Strip(), normalizers.Lowercase()]
    )  # fmt: skip
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior="removed", invert=True),
         pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )  # fmt: skip
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{sot} $A {eot}",
        special_tokens=[(sot, simple.sot_token_id), (eot, simple.eot_token_id)],
    )
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


@torch.no_grad()
def embed_texts(model, tokenizer, texts: list[str], batch: int = 256) -> np.ndarray:
    parts = []
    for i in range(0, len(texts), batch):
        feats = model.encode_text(tokenizer(texts[i : i + batch]))
        parts.append(nn.functional.normalize(feats, dim=-1).numpy())
    return np.concatenate(parts).astype(np.float32)


@torch.no_grad()
def embed_images(model, preprocess, paths: list[Path]) -> np.ndarray:
    from PIL import Image

    if not paths:
        return np.zeros((0, model_dim(model)), dtype=np.float32)
    pixels = torch.stack([preprocess(Image.open(p).convert("RGB")) for p in paths])
    return nn.functional.normalize(model.encode_image(pixels), dim=-1).numpy().astype(np.float32)


def model_dim(model) -> int:
    return int(model.text_projection.shape[1])


def train_head(emb: np.ndarray, states: np.ndarray, relevant: np.ndarray, steps: int, seed: int):
    """Same losses as the MiniLM head: MSE on intensities + BCE on relevance."""
    torch.manual_seed(seed)
    head = export.EmotionHead(dim=emb.shape[1], hidden=256)
    opt = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-2)
    x, y, r = (torch.from_numpy(a) for a in (emb, states, relevant))
    head.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (min(128, len(x)),))
        intensity, logit = head(x[idx])
        loss = nn.functional.mse_loss(intensity, y[idx])
        loss = loss + 0.3 * nn.functional.binary_cross_entropy_with_logits(logit, r[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return head.eval()


class TowerWithHead(nn.Module):
    def __init__(self, encode, head: export.EmotionHead) -> None:
        super().__init__()
        self.encode = encode
        self.head = head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        emb = nn.functional.normalize(self.encode(x), dim=-1)
        intensity, logit = self.head(emb)
        return intensity.clamp(0.0, 1.5), torch.sigmoid(logit)


class _Text(nn.Module):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(tokens)


class _Image(nn.Module):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)


def export_tower(module: nn.Module, example: torch.Tensor, name: str, path: Path) -> None:
    # nn.MultiheadAttention's fused inference kernel has no ONNX symbolic: trace the plain path
    torch.backends.mha.set_fastpath_enabled(False)
    with torch.no_grad():
        torch.onnx.export(
            module, (example,), str(path), input_names=[name],
            output_names=["emotion", "confidence"],
            dynamic_axes={name: {0: "batch"}, "emotion": {0: "batch"}, "confidence": {0: "batch"}},
            opset_version=17, dynamo=False,
        )  # fmt: skip


def image_geometry(preprocess) -> tuple[int, list[float], list[float]]:
    """Input size, mean and std from open_clip's preprocessing transform."""
    size, mean, std = 224, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    for t in getattr(preprocess, "transforms", []):
        if hasattr(t, "mean") and hasattr(t, "std"):
            mean, std = [float(v) for v in t.mean], [float(v) for v in t.std]
        if type(t).__name__ == "CenterCrop":
            crop = t.size
            size = int(crop[0] if isinstance(crop, (list, tuple)) else crop)
    return size, mean, std


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the CLIP emotion head and export it to ONNX")
    ap.add_argument("--model", required=True, help="open_clip model name, e.g. ViT-B-32")
    ap.add_argument("--checkpoint", type=Path, help="local open_clip weights (.bin/.pt)")
    ap.add_argument("--model-config", type=Path, help="extra open_clip model config JSON")
    ap.add_argument("--images", type=Path, help="reference images: <folder>/<emotion>/*.png")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the prompt set")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    if args.model_config:
        import open_clip

        open_clip.add_model_config(args.model_config)
    model, preprocess, tokenizer = load_clip(args.model, args.checkpoint)
    texts, states, relevant = prompts.to_arrays(prompts.build_examples(args.seed, args.scale))
    emb = embed_texts(model, tokenizer, texts)
    refs = reference_images(args.images)
    if refs:
        img_emb = embed_images(model, preprocess, [p for p, _ in refs])
        img_states = np.zeros((len(refs), len(EMOTIONS)), dtype=np.float32)
        for row, (_p, name) in enumerate(refs):
            if name in EMOTIONS:
                img_states[row, EMOTIONS.index(name)] = 1.0
        # a few images among thousands of prompts: repeat them to about a quarter of the data
        repeat = max(1, len(texts) // (3 * len(refs)))
        emb = np.concatenate([emb, np.repeat(img_emb, repeat, axis=0)])
        states = np.concatenate([states, np.repeat(img_states, repeat, axis=0)])
        relevant = np.concatenate([relevant, np.ones(len(refs) * repeat, dtype=np.float32)])
    head = train_head(emb, states, relevant, args.steps, args.seed)
    print(f"trained on {len(texts)} prompts and {len(refs)} images", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    ctx = int(getattr(tokenizer, "context_length", 77))
    size, mean, std = image_geometry(preprocess)
    common = {
        "version": export.FORMAT_VERSION,
        "emotions": json.dumps(list(EMOTIONS)),
        "clip_model": args.model,
        "clip_checkpoint": args.checkpoint.name if args.checkpoint else "random init",
        "training_data": f"{len(texts)} EmoSync prompts (training/emotion_text/prompts.py) + "
        f"{len(refs)} reference images",
        "train_date": dt.date.today().isoformat(),
    }
    entries = {}
    tokens = tokenizer(["happy"])
    text_path, image_path = args.out / TEXT_FILE, args.out / IMAGE_FILE
    export_tower(TowerWithHead(_Text(model), head), tokens, "tokens", text_path)
    pixels = torch.zeros(1, 3, size, size)
    export_tower(TowerWithHead(_Image(model), head), pixels, "pixels", image_path)
    text_meta = {**common, "kind": "emotion_clip_text", "context_length": str(ctx),
                 "tokenizer": "open_clip SimpleTokenizer (CLIP BPE)",
                 "tokenizer_file": TOKENIZER_FILE}  # fmt: skip
    image_meta = {**common, "kind": "emotion_clip_image", "image_size": str(size),
                  "mean": json.dumps(mean), "std": json.dumps(std)}  # fmt: skip
    for path, meta in ((text_path, text_meta), (image_path, image_meta)):
        payload = with_metadata(path, meta)
        atomic_write_bytes(path, payload, force=True)
        entries[path.name] = sha256_bytes(payload)
    tokenizer_json = runtime_tokenizer(tokenizer).to_str().encode()
    atomic_write_bytes(args.out / TOKENIZER_FILE, tokenizer_json, force=True)
    entries[TOKENIZER_FILE] = sha256_bytes(tokenizer_json)
    update_manifest(args.out, entries)
    print(f"wrote {text_path.name}, {image_path.name} and {TOKENIZER_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
